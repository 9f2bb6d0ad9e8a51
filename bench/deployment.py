"""The loopback deployment the scale benchmarks measure: a throwaway PostgreSQL database, moto's S3
server with a fresh bucket, and a fake OpenAI-compatible provider whose jobs take an hour (so every
job stays in flight). Reelay processes are then started on the yielded ``Cluster``."""

from __future__ import annotations

import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.* helpers

from tests.media_helpers import make_video
from tests.postgres import throwaway_database
from tests.scale.cluster import Cluster, Proc, moto_server, s3_client, scale_env


@contextmanager
def slow_provider_deployment(**env: str) -> Iterator[tuple[Cluster, Proc]]:
    """(cluster with the environment set and the database migrated, the fake provider); ``env`` adds
    ``REELAY_*`` settings. Every process is stopped and the database dropped on exit."""
    with tempfile.TemporaryDirectory() as folder, moto_server() as s3_endpoint, throwaway_database() as database:
        root = Path(folder)
        bucket = f"reelay-bench-{uuid.uuid4().hex[:8]}"
        s3_client(s3_endpoint).create_bucket(Bucket=bucket)
        video = make_video(root / "upstream.mp4", seconds=1.0, width=320, height=180, audio=False)
        cluster = Cluster(root, {})
        try:
            fake = cluster.fake(video, min_latency=3600, max_latency=3600, poll_after_ms=10_000)
            cluster.env = scale_env(
                database_url=database, s3_endpoint=s3_endpoint, bucket=bucket, fake_url=str(fake.url), **env
            )
            cluster.migrate()
            yield cluster, fake
        finally:
            cluster.close()
