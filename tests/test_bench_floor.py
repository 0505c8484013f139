"""`bench.floor` end to end at a tiny size: the minimal proxy, the service and OpenSearch direct answer every query
of the mix with the same total, so the floor compares the same work. Timings are not checked (tests stay fast and
deterministic); the benchmark's figures are in BENCHMARKS.md."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from bench import api, node

REPO = Path(__file__).resolve().parent.parent
DOCS = 2000
TENANT = "bench"


def test_floor_harness_runs_every_side_and_they_agree(opensearch_url: str, tmp_path: Path) -> None:
    prefix = f"bench-floor-{uuid.uuid4().hex[:8]}"
    try:
        node.load_dataset(opensearch_url, prefix, TENANT, DOCS, 0, tmp_path, lambda _line: None)
        command = [
            sys.executable,
            "-m",
            "bench.floor",
            "--opensearch-url",
            opensearch_url,
            "--prefix",
            prefix,
            "--docs",
            str(DOCS),
            "--requests",
            "6",
            "--rounds",
            "1",
            "--cell-seconds",
            "2",
            "--proxy-port",
            str(api.free_port()),
            "--out",
            str(tmp_path / "out"),
        ]
        completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    finally:
        node.drop_all(opensearch_url, prefix)
    assert completed.returncode == 0, f"bench.floor failed ({completed.returncode}):\n{completed.stderr[-4000:]}"
    (path,) = (tmp_path / "out").glob("*-floor.json")
    result = json.loads(path.read_text())
    cells = result["cells"]
    for query in result["queries"]:
        for concurrency in (1, 16):
            sides = {mode: cells[f"{query['id']}/{mode}/c{concurrency}"] for mode in ("direct", "proxy", "service")}
            assert all(cell["ok"] > 0 and cell["errors"] == 0 for cell in sides.values()), sides
            totals = {mode: cell["total_count"] for mode, cell in sides.items()}
            assert totals["direct"] == totals["proxy"] == totals["service"] is not None, (query["id"], totals)
    assert cells["Q6/direct/c1"]["total_count"] == DOCS
    assert "proxy/direct" in completed.stdout and "**geometric mean**" in completed.stdout
