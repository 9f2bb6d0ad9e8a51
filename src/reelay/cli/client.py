"""The HTTP client the remote commands (``generate``, ``videos``, ``models --base-url``) share.

Speaks only the public API, exactly as any other client would, so the CLI works against a local or a
remote Reelay. Owns the exit codes and the mapping of transport and HTTP failures onto them; it
prints nothing itself (the commands decide what to show).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

DEFAULT_BASE_URL = "http://127.0.0.1:8000"

# Exit codes every remote command uses (documented in docs/clients.md).
EXIT_JOB_FAILED = 1
EXIT_USAGE = 2  # typer's own code for bad arguments, too
EXIT_HTTP = 3  # server unreachable, or it answered with an HTTP error
EXIT_INTERRUPTED = 130

BaseUrlOption = Annotated[
    str,
    typer.Option("--base-url", envvar="REELAY_BASE_URL", help="the Reelay server (with or without /v1)"),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option("--api-key", envvar="REELAY_API_KEY", help="sent as Authorization: Bearer (if the server has keys)"),
]

err_console = Console(stderr=True)


class ClientError(Exception):
    """The server could not be reached or answered with an HTTP error."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


def api_root(base_url: str) -> str:
    """``http://host:8000``, ``http://host:8000/`` and ``http://host:8000/v1`` all mean the same server."""
    root = base_url.strip().rstrip("/")
    return root.removesuffix("/v1")


class ReelayClient:
    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 60.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.base_url = api_root(base_url)
        self.http = httpx.Client(
            base_url=self.base_url + "/v1",
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=5.0),
            trust_env=False,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ReelayClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise ClientError(
                f"cannot reach Reelay at {self.base_url} ({type(error).__name__}); is `reelay serve` "
                "running there? Set --base-url or REELAY_BASE_URL"
            ) from error
        if response.is_error:
            raise _http_error(response)
        return response

    def create(self, fields: dict[str, str], files: dict[str, Path]) -> dict[str, Any]:
        """``POST /v1/videos`` as a form (multipart with files), files streamed from disk."""
        handles = {name: open(path, "rb") for name, path in files.items()}  # noqa: SIM115  (closed below)
        try:
            parts = {name: (path.name, handles[name]) for name, path in files.items()}
            # Without files httpx sends a urlencoded form; Reelay accepts both, like the SDKs' multipart.
            body: dict[str, Any] = self.request("POST", "/videos", data=fields, files=parts or None).json()
            return body
        finally:
            for handle in handles.values():
                handle.close()

    def get(self, video_id: str) -> tuple[dict[str, Any], float | None]:
        """The video object and the server's suggested poll delay in seconds (if it sent one)."""
        response = self.request("GET", f"/videos/{video_id}")
        after = response.headers.get("openai-poll-after-ms")
        return response.json(), (int(after) / 1000 if after and after.isdigit() else None)

    def page(self, limit: int = 20, after: str | None = None, order: str = "desc") -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "order": order}
        if after:
            params["after"] = after
        page: dict[str, Any] = self.request("GET", "/videos", params=params).json()
        return page

    def delete(self, video_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.request("DELETE", f"/videos/{video_id}").json()
        return body

    def usage(self, key: str | None = None, start: str | None = None, end: str | None = None) -> dict[str, Any]:
        """``GET /v1/usage``: spend, holds and refunds (an admin key sees every key's)."""
        params = {name: value for name, value in (("key", key), ("start", start), ("end", end)) if value}
        body: dict[str, Any] = self.request("GET", "/usage", params=params).json()
        return body

    def models(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.request("GET", "/models").json()["data"]
        return data

    def download(
        self,
        video_id: str,
        target: Path,
        *,
        variant: str = "video",
        index: int = 0,
        on_bytes: Callable[[int, int | None], None] | None = None,
    ) -> Path:
        """Stream ``/content`` to ``target`` (written to a temporary name, renamed when whole)."""
        partial = target.with_name(target.name + ".part")
        params: dict[str, str | int] = {"variant": variant, "index": index}
        try:
            with self.http.stream("GET", f"/videos/{video_id}/content", params=params) as response:
                if response.is_error:
                    response.read()
                    raise _http_error(response)
                total = int(response.headers["content-length"]) if "content-length" in response.headers else None
                done = 0
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(partial, "wb") as handle:
                    for chunk in response.iter_bytes(1 << 16):
                        handle.write(chunk)
                        done += len(chunk)
                        if on_bytes is not None:
                            on_bytes(done, total)
        except httpx.TransportError as error:
            partial.unlink(missing_ok=True)
            raise ClientError(f"download from {self.base_url} failed ({type(error).__name__})") from error
        partial.replace(target)
        return target


def _http_error(response: httpx.Response) -> ClientError:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        error = {}
    message = error.get("message") if isinstance(error, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return ClientError(
        f"HTTP {response.status_code}: {message or response.text[:200] or response.reason_phrase}",
        status=response.status_code,
        code=code,
    )


@contextmanager
def exits_on_client_error() -> Iterator[None]:
    """Turn a ``ClientError`` into a red line on stderr and exit code 3."""
    try:
        yield
    except ClientError as error:
        err_console.print(f"[red]error:[/red] {error.message}", highlight=False)
        raise typer.Exit(EXIT_HTTP) from None
