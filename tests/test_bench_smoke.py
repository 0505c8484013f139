"""The benchmark harness, end to end at a tiny size: it runs, measures every cell, and the sides agree.

This checks the harness, not timings. It uses the tests' OpenSearch (a fresh index prefix) and a throwaway
PostgreSQL, writes into a temporary directory, and never touches the repository's BENCHMARKS.md. Without
OpenSearch or PostgreSQL it fails (the fixtures and the harness say why); it never skips.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from bench import node, report

REPO = Path(__file__).resolve().parent.parent
QUERIES = [f"Q{i}" for i in range(1, 8)]
MODES = ("service", "direct", "pg_tuned", "pg_naive")
CONCURRENCY = (1, 16)
DOCS = 3000
INGEST_SIZES = (250, 1000)


def test_bench_harness_smoke(opensearch_url: str, tmp_path: Path) -> None:
    repo_report = REPO / "BENCHMARKS.md"
    before = repo_report.read_bytes() if repo_report.exists() else None
    prefix = f"bench-smoke-{uuid.uuid4().hex[:8]}"
    markdown = tmp_path / "BENCHMARKS.md"
    command = [
        sys.executable,
        "-m",
        "bench.run",
        "--docs",
        str(DOCS),
        "--requests",
        "12",
        "--pg-naive-requests",
        "2",
        "--cell-seconds",
        "2",
        "--rounds",
        "1",
        "--concurrency",
        ",".join(map(str, CONCURRENCY)),
        "--ingest-sizes",
        ",".join(map(str, INGEST_SIZES)),
        "--sweep-docs",
        "0",
        "--opensearch-url",
        opensearch_url,
        "--prefix",
        prefix,
        "--fresh",
        "--out",
        str(tmp_path),
        "--markdown",
        str(markdown),
    ]
    try:
        completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    finally:
        node.drop_all(opensearch_url, prefix)
    assert completed.returncode == 0, f"bench.run failed ({completed.returncode}):\n{completed.stderr[-6000:]}"

    (results_path,) = tmp_path.glob("*.json")
    result = json.loads(results_path.read_text())
    cells = result["cells"]
    for query in QUERIES:
        for mode in MODES:
            for concurrency in CONCURRENCY:
                cell = cells[f"{query}/{mode}/c{concurrency}"]
                assert cell["ok"] > 0 and cell["errors"] == 0, (query, mode, concurrency, cell)
                assert cell["total_count"] is not None, (query, mode, concurrency)
                assert cell["p50_ms"] is not None and cell["p99_ms"] is not None and cell["rps"] > 0

    by_id = {q["id"]: q for q in result["queries"]}
    for query in QUERIES:
        for concurrency in CONCURRENCY:
            counts = {mode: cells[f"{query}/{mode}/c{concurrency}"]["total_count"] for mode in MODES}
            # The same body either way: the service adds nothing to the answer.
            assert counts["service"] == counts["direct"], (query, counts)
            if by_id[query]["same_semantics"]:
                assert counts["pg_tuned"] == counts["pg_naive"] == counts["direct"], (query, counts)
    # Filter-only, one user and the deep page ask PostgreSQL exactly what they ask OpenSearch.
    assert {q for q in QUERIES if by_id[q]["same_semantics"]} == {"Q3", "Q5", "Q6"}
    assert cells["Q6/direct/c1"]["total_count"] == DOCS
    assert all(check["ok"] for check in result["checks"]), [c for c in result["checks"] if not c["ok"]]

    ingest = result["ingest"]
    assert [run["docs"] for run in ingest["loader"]] == list(INGEST_SIZES)
    assert all(run["indexed"] == run["docs"] and run["peak_rss_mb"] > 0 for run in ingest["loader"])
    assert ingest["raw"]["indexed"] == INGEST_SIZES[1] and ingest["raw"]["docs_per_s"] > 0

    assert result["dataset"]["postgres"]["rows"] == DOCS
    assert result["opensearch"]["docs"] >= DOCS and result["opensearch"]["store_bytes"] > 0

    text = markdown.read_text()
    assert report.BEGIN in text and report.END in text
    assert result["command"].startswith("python -m bench.run --docs 3000")
    for heading in (
        "The service against OpenSearch direct, concurrency 16",
        "PostgreSQL against the service",
        "Ingest",
    ):
        assert heading in text
    for query in QUERIES:
        assert f"| {query} |" in text
    # Rendering again from the JSON alone gives the same section.
    assert report.render(result).splitlines()[0] in text

    after = repo_report.read_bytes() if repo_report.exists() else None
    assert after == before, "the smoke run must not touch the repository's BENCHMARKS.md"
