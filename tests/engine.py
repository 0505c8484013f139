"""Where the tests' OpenSearch comes from: OPENSEARCH_URL, else a Docker container, else the local node.

No test skips for want of an engine: if none can be had, the session fails with the reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from core.settings import NodeSettings
from core.versions import OPENSEARCH_IMAGE
from localnode.local import LocalCluster


def docker_engine_answers() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        return subprocess.run([docker, "info"], capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextmanager
def opensearch_for_tests() -> Iterator[str]:
    url = os.environ.get("OPENSEARCH_URL")
    if url:
        yield url
        return
    if docker_engine_answers():
        from testcontainers.opensearch import OpenSearchContainer

        with OpenSearchContainer(OPENSEARCH_IMAGE, security_enabled=False) as container:
            yield f"http://{container.get_container_host_ip()}:{container.get_exposed_port(9200)}"
        return
    cluster = LocalCluster(NodeSettings())
    already_running = cluster.health() is not None
    url = cluster.start(log=lambda line: print(f"[tests] {line}"))
    try:
        yield url
    finally:
        if not already_running:
            cluster.stop(log=lambda line: print(f"[tests] {line}"))


def delete_index_prefix(opensearch_url: str, prefix: str) -> None:
    """Remove what a service or CLI run in another process created under `prefix` (indices and templates)."""
    for path in (
        f"/{prefix}-0*,{prefix}-keys",
        f"/_index_template/{prefix}-requests",
        f"/_index_template/{prefix}-keys",
    ):
        request = urllib.request.Request(opensearch_url + path, method="DELETE")
        with contextlib.suppress(OSError):
            urllib.request.urlopen(request, timeout=10).close()
