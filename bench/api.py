"""The service under test: `llmsearch serve` as its own process against the benchmark's OpenSearch, and a key."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

from core.engine import make_client
from core.settings import OpenSearchSettings
from core.templates import IndexNames, apply_templates
from service.keys import KeyStore, Scope

START_TIMEOUT_SECONDS = 60.0
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def service(opensearch_url: str, prefix: str, log_path: Path, checkout: Path | None = None) -> Iterator[str]:
    """The service's base URL while it runs (`python -m cli.main serve`, access log off as in production).

    `checkout`: run the service from another checkout of the repository (its working directory comes first on the
    import path), to measure two versions side by side.
    """
    port = free_port()
    process = start_service(opensearch_url, prefix, port, log_path, checkout=checkout)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_service(process)


def start_service(
    opensearch_url: str,
    prefix: str,
    port: int,
    log_path: Path,
    *,
    checkout: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """`llmsearch serve` on `port`, once it answers; `env` adds settings (`LLMSEARCH_...`). The caller stops it
    (`stop_service`), or kills it to see what a crash leaves."""
    environment = {
        **os.environ,
        "OPENSEARCH_URL": opensearch_url,
        "LLMSEARCH_INDEX_PREFIX": prefix,
        "LLMSEARCH_HOST": "127.0.0.1",
        "LLMSEARCH_PORT": str(port),
        **(env or {}),
    }
    command = [sys.executable, "-m", cli_module(checkout), "serve", "--host", "127.0.0.1", "--port", str(port)]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment, cwd=checkout)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", process, log_path)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process


def stop_service(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cli_module(checkout: Path | None) -> str:
    """The `llmsearch` entry module of a checkout: `cli.main` since the package split, `service.cli` before it,
    so a baseline from before the split can still be measured."""
    root = checkout or ROOT
    return "cli.main" if (root / "cli" / "main.py").is_file() else "service.cli"


def _wait_ready(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited ({process.returncode}):\n{log_path.read_text(errors='replace')}")
        if _ready(base):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the service did not answer at {base} within {START_TIMEOUT_SECONDS:.0f}s")


def _ready(base: str) -> bool:
    """`/readyz` answers 200; a baseline checkout from before `/readyz` (404) is asked its `/healthz`, which then
    still asked the engine."""
    for path in ("/readyz", "/healthz"):
        try:
            with urllib.request.urlopen(f"{base}{path}", timeout=2) as response:
                return bool(response.status == 200)
        except urllib.error.HTTPError as error:
            if error.code != 404:
                return False
        except (urllib.error.URLError, OSError):
            return False
    return False


def create_key(
    opensearch_url: str, prefix: str, tenant: str, scopes: frozenset[Scope] = frozenset({Scope.READ})
) -> str:
    """A fresh API key for `tenant` (KeyStore.create, as `llmsearch keys create` does)."""

    async def create() -> str:
        client = make_client(opensearch_url, OpenSearchSettings(url=opensearch_url, timeout_seconds=60))
        try:
            names = IndexNames(prefix)
            await apply_templates(client, names)
            key, _record = await KeyStore(client, names, cache_seconds=0).create(tenant, "bench", scopes)
            return key
        finally:
            await client.close()

    return asyncio.run(create())
