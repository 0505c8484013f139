"""Start, stop and inspect a local OpenSearch node or cluster made from the pinned distribution.

Each node gets its own directory (config, data, logs, tmp, pid file) under the cluster's directory; the unpacked
distribution is shared and read-only. OpenSearch refuses to run as root, so as root the nodes run as an
unprivileged system user that owns their directories.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.settings import NodeSettings
from localnode.distribution import fetch_archive, unpack
from localnode.java import JavaRuntime, find_java
from localnode.system_user import unprivileged_user

START_TIMEOUT_SECONDS = 180.0
STOP_TIMEOUT_SECONDS = 60.0
TRANSPORT_OFFSET = 100  # node i: HTTP port + i, transport port + i (9200 -> 9300)


class NodeError(RuntimeError):
    """A node could not be started or stopped; the message says why (and shows the log tail where there is one)."""


@dataclass(frozen=True)
class NodeSpec:
    index: int
    http_port: int
    transport_port: int
    directory: Path

    @property
    def name(self) -> str:
        return f"node-{self.index}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def pid_file(self) -> Path:
        return self.directory / "opensearch.pid"

    @property
    def log_file(self) -> Path:
        return self.directory / "logs" / "console.log"


def node_root(settings: NodeSettings) -> Path:
    """Where node directories and the unpacked distribution live.

    Root's home is private (0700), and the node runs as another user, so as root they go to /var/lib.
    """
    if settings.root is not None:
        return settings.root
    if os.geteuid() == 0:
        return Path("/var/lib/llm-request-search")
    return settings.cache_dir


@dataclass(frozen=True)
class LocalCluster:
    settings: NodeSettings
    nodes: int = 1

    @property
    def cluster_name(self) -> str:
        return "llmsearch-local" if self.nodes == 1 else f"llmsearch-local-{self.nodes}"

    @property
    def directory(self) -> Path:
        return node_root(self.settings) / "clusters" / f"{self.cluster_name}-{self.settings.port}"

    def specs(self) -> list[NodeSpec]:
        port = self.settings.port
        return [
            NodeSpec(i, port + i, port + TRANSPORT_OFFSET + i, self.directory / f"node-{i}") for i in range(self.nodes)
        ]

    @property
    def url(self) -> str:
        return self.specs()[0].url

    # -- status -----------------------------------------------------------------------------------------------

    @property
    def urls(self) -> str:
        """Every node's URL, comma-separated: the OPENSEARCH_URL that survives the loss of any one node."""
        return ",".join(spec.url for spec in self.specs())

    def running_pids(self) -> dict[str, int]:
        """The nodes whose pid file names a live process of that node; stale pid files are removed on the way
        (a killed node's pid may since belong to another program)."""
        alive: dict[str, int] = {}
        for spec in self.specs():
            pid = _read_pid(spec.pid_file)
            if pid is None:
                continue
            if _process_alive(pid) and _runs_node(pid, spec):
                alive[spec.name] = pid
            else:
                spec.pid_file.unlink(missing_ok=True)
        return alive

    def health(self) -> dict[str, object] | None:
        """Cluster health from the first node, or None when it does not answer as our cluster."""
        info = _get_json(f"{self.url}/_cluster/health")
        if info is None or info.get("cluster_name") != self.cluster_name:
            return None
        return info

    def status(self) -> str:
        pids = self.running_pids()
        health = self.health()
        if health is not None:
            return (
                f"running: {self.url} cluster {self.cluster_name}, status {health.get('status')}, "
                f"{health.get('number_of_nodes')} node(s), pids {sorted(pids.values())}"
            )
        if pids:
            return f"starting or unhealthy: pids {sorted(pids.values())}, not answering at {self.url}"
        return f"stopped (directory {self.directory})"

    # -- start ------------------------------------------------------------------------------------------------

    def start(self, log: Callable[[str], None] = print) -> str:
        """Start the cluster, or reuse it if it already runs; returns its URL once it is yellow or green.

        Nodes that are not running (never started, stopped, or killed: their pid file names a dead or another
        process) are started; running ones are kept, so a cluster that lost a node gets it back.
        """
        missing = self.missing_nodes()
        if not missing:
            log(f"OpenSearch already running at {self.url} ({self.cluster_name}); reusing it.")
            self._wait_healthy(deadline=time.monotonic() + START_TIMEOUT_SECONDS, launched=[])
            return self.url
        if len(missing) < self.nodes:
            log(f"{self.cluster_name}: starting {', '.join(s.name for s in missing)} (not running); the others run on")
        self._check_ports(missing)
        java = find_java()
        log(f"Using {java.describe()}")
        archive = fetch_archive(self.settings.cache_dir, self.settings.dist)
        home = unpack(archive, node_root(self.settings) / "dist")
        user = unprivileged_user(self.settings.user)
        for spec in missing:
            self._configure(spec, home, java)
            if user is not None:
                _chown_tree(self.directory, user)
            self._launch(spec, home, java, user)
        self._wait_healthy(deadline=time.monotonic() + START_TIMEOUT_SECONDS, launched=missing)
        log(f"OpenSearch is up at {self.url} ({self.cluster_name}, {self.nodes} node(s))")
        return self.url

    def missing_nodes(self) -> list[NodeSpec]:
        """The nodes to start: no live process of theirs, and nothing of our cluster answering on their port."""
        pids = self.running_pids()
        return [spec for spec in self.specs() if spec.name not in pids and not self._answers(spec)]

    def _answers(self, spec: NodeSpec) -> bool:
        """The node answers as one of ours (started some other way, or its pid file is gone)."""
        info = _get_json(f"{spec.url}/")
        return info is not None and info.get("cluster_name") == self.cluster_name and info.get("name") == spec.name

    def _check_ports(self, specs: list[NodeSpec]) -> None:
        for spec in specs:
            for port in (spec.http_port, spec.transport_port):
                if _port_busy(port):
                    raise NodeError(
                        f"port {port} on 127.0.0.1 is taken by another program (not {self.cluster_name}); "
                        f"stop it or choose another port with --port / LLMSEARCH_NODE_PORT"
                    )

    def _configure(self, spec: NodeSpec, home: Path, java: JavaRuntime) -> None:
        config = spec.directory / "config"
        for sub in ("data", "logs", "tmp"):
            (spec.directory / sub).mkdir(parents=True, exist_ok=True)
        shutil.rmtree(config, ignore_errors=True)
        shutil.copytree(home / "config", config)
        (config / "opensearch.yml").write_text(self._opensearch_yml(spec))
        (config / "jvm.options").write_text(self._jvm_options(spec, home, java))

    def _opensearch_yml(self, spec: NodeSpec) -> str:
        lines = [
            f"cluster.name: {self.cluster_name}",
            f"node.name: {spec.name}",
            "network.host: 127.0.0.1",
            f"http.port: {spec.http_port}",
            f"transport.port: {spec.transport_port}",
            f"path.data: {spec.directory / 'data'}",
            f"path.logs: {spec.directory / 'logs'}",
            # Shared dev machines often have little free disk; a local node must not go read-only over it.
            "cluster.routing.allocation.disk.threshold_enabled: false",
        ]
        if self.nodes == 1:
            lines.append("discovery.type: single-node")
        else:
            specs = self.specs()
            seeds = ", ".join(f'"127.0.0.1:{s.transport_port}"' for s in specs)
            managers = ", ".join(f'"{s.name}"' for s in specs)
            lines += [
                f"discovery.seed_hosts: [{seeds}]",
                f"cluster.initial_cluster_manager_nodes: [{managers}]",
            ]
        return "\n".join(lines) + "\n"

    def _jvm_options(self, spec: NodeSpec, home: Path, java: JavaRuntime) -> str:
        heap = self.settings.heap
        out: list[str] = []
        for line in (home / "config" / "jvm.options").read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith("-Xms"):
                line = f"-Xms{heap}"
            elif stripped.startswith("-Xmx"):
                line = f"-Xmx{heap}"
            elif "jdk.incubator.vector" in stripped and not java.has_vector_module:
                continue  # Lucene falls back to scalar code without it
            # Relative paths resolve against OPENSEARCH_HOME, which is shared and read-only.
            line = line.replace("file=logs/", f"file={spec.directory / 'logs'}/")
            line = line.replace("ErrorFile=logs/", f"ErrorFile={spec.directory / 'logs'}/")
            line = line.replace("HeapDumpPath=data", f"HeapDumpPath={spec.directory / 'data'}")
            out.append(line)
        return "\n".join(out) + "\n"

    def _launch(self, spec: NodeSpec, home: Path, java: JavaRuntime, user: pwd.struct_passwd | None) -> None:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "OPENSEARCH_JAVA_HOME": str(java.home),
            "OPENSEARCH_PATH_CONF": str(spec.directory / "config"),
            "OPENSEARCH_TMPDIR": str(spec.directory / "tmp"),
            "HOME": str(spec.directory),
            "LANG": "C.UTF-8",
        }
        log_handle = spec.log_file.open("ab")
        try:
            process = subprocess.Popen(
                [str(home / "bin" / "opensearch")],
                cwd=spec.directory,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives the command that started it
                user=user.pw_uid if user else None,
                group=user.pw_gid if user else None,
                extra_groups=[] if user else None,
            )
        finally:
            log_handle.close()
        spec.pid_file.write_text(str(process.pid))

    def _wait_healthy(self, deadline: float, launched: list[NodeSpec]) -> None:
        expected = self.nodes
        while time.monotonic() < deadline:
            health = _get_json(f"{self.url}/_cluster/health?wait_for_status=yellow&timeout=2s")
            if (
                health is not None
                and health.get("cluster_name") == self.cluster_name
                and health.get("status") in ("yellow", "green")
                and int(str(health.get("number_of_nodes", 0))) >= expected
            ):
                return
            # Only the nodes started here can have "exited during start-up"; another that is missing is reported
            # by the timeout below (and started by the next `start`).
            dead = [s for s in launched if not _process_alive(_read_pid(s.pid_file))]
            if dead:
                raise NodeError(f"{dead[0].name} exited during start-up.\n{_log_tail(dead[0], self.cluster_name)}")
            time.sleep(0.5)
        raise NodeError(
            f"OpenSearch did not become healthy at {self.url} within {START_TIMEOUT_SECONDS:.0f}s.\n"
            f"{_log_tail(self.specs()[0], self.cluster_name)}"
        )

    # -- stop -------------------------------------------------------------------------------------------------

    def stop(self, log: Callable[[str], None] = print) -> None:
        pids = self.running_pids()
        if not pids:
            log(f"{self.cluster_name}: not running")
            return
        for pid in pids.values():
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while time.monotonic() < deadline and any(_process_alive(p) for p in pids.values()):
            time.sleep(0.2)
        for name, pid in pids.items():
            if _process_alive(pid):
                log(f"{name} (pid {pid}) did not stop within {STOP_TIMEOUT_SECONDS:.0f}s; killing it")
                _signal(pid, signal.SIGKILL)
        for spec in self.specs():
            spec.pid_file.unlink(missing_ok=True)
        log(f"{self.cluster_name}: stopped")


# -- small helpers --------------------------------------------------------------------------------------------


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _process_alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still answers kill(0); reap it so it reads as dead.
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        return reaped == 0
    except ChildProcessError:
        return _not_zombie(pid)


def _not_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _runs_node(pid: int, spec: NodeSpec) -> bool:
    """The process is that node's JVM: its command line names the node's directory (in its JVM options)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc to ask (or not allowed): trust the pid file
    # Just launched, the pid is still the start script, which names no directory: it counts as the node.
    return str(spec.directory).encode() in command or b"bin/opensearch" in command


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _port_busy(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _get_json(url: str) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException):
        return None  # not answering, or not HTTP (another node's transport port, say)
    return body if isinstance(body, dict) else None


def _log_tail(spec: NodeSpec, cluster_name: str, lines: int = 40) -> str:
    for path in (spec.directory / "logs" / f"{cluster_name}.log", spec.log_file):
        if path.is_file() and path.stat().st_size:
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            return f"Last {len(tail)} lines of {path}:\n" + "\n".join(tail)
    return f"(no log written at {spec.log_file})"


def _chown_tree(root: Path, user: pwd.struct_passwd) -> None:
    for path in (root, *root.rglob("*")):
        os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)
