"""The official ``openai`` npm package on Node, installed from the npm registry, against a real server.

The package is installed once into the pytest cache (``.pytest_cache/d/openai-npm``) and reused; the
script (``openai_node.mjs``) makes the same calls as the Python SDK test and the Python side probes the
MP4s it downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.clients.conftest import assert_probed_mp4
from tests.conftest import LiveServer

SCRIPT = Path(__file__).with_name("openai_node.mjs")
PACKAGE = "openai@7"  # the major version this test was written against


@pytest.fixture(scope="session")
def node_sdk_dir(request: pytest.FixtureRequest) -> Path:
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node and npm are not installed; the Node SDK test needs Node 20+ and npm")
    cache = request.config.cache  # None under -p no:cacheprovider: fall back to a folder in ~/.cache
    folder = Path(cache.mkdir("openai-npm")) if cache is not None else Path.home() / ".cache" / "reelay-openai-npm"
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "node_modules" / "openai" / "package.json").exists():
        (folder / "package.json").write_text('{"name": "reelay-node-sdk-test", "private": true, "type": "module"}\n')
        result = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", PACKAGE],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"npm install {PACKAGE} failed:\n{result.stderr}"
    return folder


def test_node_sdk_end_to_end(server: LiveServer, node_sdk_dir: Path, media_dir: Path, tmp_path: Path) -> None:
    script = node_sdk_dir / SCRIPT.name  # next to node_modules, so `import "openai"` resolves
    shutil.copyfile(SCRIPT, script)
    env = {
        **os.environ,
        "BASE_URL": server.url + "/v1",
        "OUT_DIR": str(tmp_path),
        "IMAGE": str(media_dir / "reference.png"),
        "VIDEO": str(media_dir / "input.mp4"),
    }
    result = subprocess.run(["node", str(script)], env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    checks = summary["checks"]
    assert checks["results"] == 2 and checks["provider"] == "local"
    assert checks["thumbnail"] == checks["spritesheet"] == "ffd8ff"
    assert len(checks["listed"]) == 2 and len(set(checks["listed"])) == 2
    assert checks["deleted"] is True and checks["after_delete"] == 404
    assert str(checks["remixed_from"]).startswith("video_")
    for name, file in summary["files"].items():
        seconds = 4 if name == "extend" else float(file["seconds"])
        assert_probed_mp4(Path(file["path"]), size=file["size"], seconds=seconds)
    assert {"t2v", "i2v", "remix", "character", "edit", "extend"} <= summary["files"].keys()
    character = checks["character"]
    assert character["id"].startswith("char_") and character["name"] == "Mira" and character["same"] is True
    assert "input_reference" in checks["character_inputs"]  # the character's still went in as the image
