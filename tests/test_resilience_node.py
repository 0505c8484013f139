"""A local node killed with SIGKILL comes back with `llmsearch node start`, even when its stale pid file names a
process that is alive (the pid reused by another program): the start restarts what is missing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from core.settings import NodeSettings
from localnode.local import LocalCluster
from tests.test_load_support import REPO

PORT = 9320  # a node of this test's own: never the dev node on 9200
HEAP = "512m"


@pytest.fixture
def cluster() -> Iterator[LocalCluster]:
    node = LocalCluster(NodeSettings(port=PORT, heap=HEAP))
    try:
        yield node
    finally:
        node.stop(log=lambda _: None)


def kill(cluster: LocalCluster) -> int:
    (pid,) = cluster.running_pids().values()
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while cluster.health() is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cluster.health() is None
    return pid


def node_start() -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cli.main", "node", "start", "--port", str(PORT), "--heap", HEAP]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)


def test_a_killed_node_is_started_again(cluster: LocalCluster) -> None:
    cluster.start(log=lambda _: None)
    killed = kill(cluster)
    # The dead node's pid now names another live process (this one), as after pid reuse.
    cluster.specs()[0].pid_file.write_text(str(os.getpid()))

    done = node_start()
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"http://127.0.0.1:{PORT}"
    health = cluster.health()
    assert health is not None and health["status"] in ("green", "yellow")
    (pid,) = cluster.running_pids().values()
    assert pid not in (killed, os.getpid())

    # Running: a second start reuses it.
    assert node_start().returncode == 0
    assert cluster.running_pids() == {"node-0": pid}
