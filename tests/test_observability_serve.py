"""`llmsearch serve` as a process: it becomes ready, serves `/metrics` on its own port (the default), and logs JSON
lines only, one access line per request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from tests.engine import delete_index_prefix
from tests.live_server import free_port, interrupt
from tests.observability import value
from tests.test_compose import compose

ROOT = Path(__file__).resolve().parent.parent


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def health_check(port: int) -> int:
    """compose.yaml's health check of the service (the Dockerfile's is the same), pointed at `port`: its exit code."""
    command: list[str] = compose()["services"]["service"]["healthcheck"]["test"]
    assert command[:2] == ["CMD", "python"]
    arguments = [part.replace("localhost:8080", f"127.0.0.1:{port}") for part in command[2:]]
    return subprocess.run([sys.executable, *arguments], capture_output=True, timeout=10, check=False).returncode


def test_serve_is_ready_serves_metrics_on_its_port_and_logs_json(opensearch_url: str, tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    prefix = f"test-serve-obs-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "OPENSEARCH_URL": opensearch_url,
        "LLMSEARCH_HOST": "127.0.0.1",
        "LLMSEARCH_PORT": str(port),
        "LLMSEARCH_METRICS_PORT": str(metrics_port),
        "LLMSEARCH_INDEX_PREFIX": prefix,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("LLMSEARCH_METRICS", None)
    env.pop("LLMSEARCH_LOG_FORMAT", None)
    log_path = tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if get(f"{base}/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "not ready within 60 s:\n" + log_path.read_text()
            time.sleep(0.2)

        assert health_check(port) == 0

        status, headers, body = get(f"{base}/api/v1/requests", {"X-Request-Id": "serve-1"})
        assert (status, headers["X-Request-Id"]) == (401, "serve-1")
        status, _, body = get(f"{base}/metrics")
        assert (status, json.loads(body)) == (404, {"error": "Not Found"})
        status, headers, body = get(f"http://127.0.0.1:{metrics_port}/metrics")
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        metrics = body.decode()
        assert (
            value(metrics, "llmsearch_http_requests_total", route="/api/v1/requests", method="GET", status="401") == 1
        )
    finally:
        interrupt(process)
        delete_index_prefix(opensearch_url, prefix)
    assert process.returncode == 0, log_path.read_text()
    assert health_check(port) != 0  # nothing answers any more

    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]  # JSON, every one
    access = [line for line in lines if line["logger"] == "llmsearch.access"]
    assert [(line["request_id"], line["route"], line["status"]) for line in access] == [
        ("serve-1", "/api/v1/requests", 401),
        (access[1]["request_id"], "unmatched", 404),  # /metrics on the API port
    ]
    assert not any(line["logger"] == "aiohttp.access" for line in lines)
    assert any(line["message"] == f"metrics at http://127.0.0.1:{metrics_port}/metrics" for line in lines)
