"""`llmsearch serve --demo` as a user runs it: a real process that loads demo data, prints a key, and answers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from tests.engine import delete_index_prefix
from tests.live_server import free_port, interrupt

ROOT = Path(__file__).resolve().parent.parent


def test_serve_demo_prints_a_working_key(opensearch_url: str) -> None:
    port = free_port()
    prefix = f"test-serve-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "OPENSEARCH_URL": opensearch_url,
        "LLMSEARCH_PORT": str(port),
        "LLMSEARCH_INDEX_PREFIX": prefix,
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 120
        key = None
        while time.monotonic() < deadline and key is None:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            match = re.search(r"Demo API key \(tenant 'demo'\): (\S+)", line)
            key = match.group(1) if match else None
        assert key, "".join(output)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/requests?pageSize=3&search=the",
            headers={"Authorization": f"Bearer {key}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.loads(response.read())
        assert body["totalCount"] > 0 and len(body["requests"]) == 3
        printed = "".join(output)
        assert f"http://127.0.0.1:{port}/api/v1/requests" in printed
        assert "Loaded 5,000 demo requests" in printed
    finally:
        interrupt(process)
        delete_index_prefix(opensearch_url, prefix)
    assert process.returncode == 0, "".join(output)
