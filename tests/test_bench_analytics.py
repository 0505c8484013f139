"""The analytics benchmark (bench.analytics) end to end at a tiny size: every side answers every query, the
answers agree, every cell is measured, and the metadata_pairs size comparison runs.

The agreement is the point: the service, OpenSearch direct, PostgreSQL and ClickHouse must be asked the same
question for their timings to mean anything. Counts agree exactly and sums of cost to rounding, bucket by bucket.
Percentiles are not compared with each other, because each engine estimates them its own way: OpenSearch with a
TDigest (compression 100), PostgreSQL with `percentile_cont` (exact, interpolated between the two nearest values),
ClickHouse with `quantile` (a reservoir of 8,192 values per group, so exact and interpolated at this size). Each
side's p95 must instead lie between the bucket's exact values at ranks 93% and 97% (bench/analytics_workload.py).
PostgreSQL's full-text search splits words its own way, so A4 (with a search) may count a few percent differently
there, by design, as Q1 and Q4 of the search benchmark do.

Like tests/test_bench_smoke.py it uses the tests' OpenSearch (a fresh index prefix, dropped afterwards), a
throwaway PostgreSQL and a ClickHouse data directory in a temporary directory; it never skips.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

from bench import clickhouse, node
from bench.analytics import SIDES, SIZE_INDEX
from bench.analytics_workload import analytics_mix
from bench.workload import query_mix
from core.fields import TABLE, TENANT_FIELD

REPO = Path(__file__).resolve().parent.parent
DOCS = 2000
SIZE_DOCS = 500


def test_clickhouse_table_holds_every_document_field() -> None:
    """A field added to core/fields.py must get a column (JSONEachRow would silently drop it) or be skipped on
    purpose."""
    columns = set(re.findall(r"^    (\w+) ", clickhouse.TABLE_DDL, re.MULTILINE)) - {"INDEX"}
    fields = {row.name for row in TABLE} | {TENANT_FIELD}
    assert columns == fields - clickhouse.SKIPPED_FIELDS


def test_clickhouse_search_translation() -> None:
    """A word is a text-index lookup; a phrase or a CJK word adds an adjacency check; an openai_id matches too."""
    word = clickhouse.search_condition("please")
    assert f"hasAllTokens({clickhouse.SEARCH_TEXT}, 'please')" in word and "position" not in word
    assert "openai_id = 'please'" in word
    phrase = clickhouse.search_condition('"velvet thunder protocol"')
    assert (
        "hasAllTokens" in phrase and "positionCaseInsensitiveUTF8" in phrase and "'velvet thunder protocol'" in phrase
    )
    assert "positionCaseInsensitiveUTF8" in clickhouse.search_condition("天気")
    for query in query_mix(0):
        count_sql, page_sql = clickhouse.query_sql(query, "bench")
        assert "tenant_id = 'bench'" in count_sql and f"LIMIT 20 OFFSET {query.offset}" in page_sql


def test_analytics_bench_smoke(opensearch_url: str, tmp_path: Path) -> None:
    prefix = f"bench-analytics-{uuid.uuid4().hex[:8]}"
    command = [
        sys.executable,
        "-m",
        "bench.analytics",
        "--docs",
        str(DOCS),
        "--opensearch-url",
        opensearch_url,
        "--prefix",
        prefix,
        "--clickhouse-path",
        str(tmp_path / "clickhouse"),
        "--requests",
        "3",
        "--rounds",
        "1",
        "--cell-seconds",
        "1",
        "--concurrency",
        "1,4",
        "--clickhouse-concurrency",
        "1",
        "--size-docs",
        str(SIZE_DOCS),
        "--out",
        str(tmp_path),
    ]
    try:
        completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    finally:
        node.drop_all(opensearch_url, prefix)
        for which in ("with", "without"):  # left behind only if the run failed in between
            node.sync_client(opensearch_url).indices.delete(
                index=SIZE_INDEX.format(prefix=prefix, which=which), ignore_unavailable=True
            )
    assert completed.returncode == 0, f"bench.analytics failed ({completed.returncode}):\n{completed.stderr[-6000:]}"

    (results_path,) = tmp_path.glob("*-analytics.json")
    result = json.loads(results_path.read_text())
    failed = [check for check in result["checks"] if not check["ok"]]
    assert not failed, failed
    analytics = analytics_mix()
    checked = {check["what"] for check in result["checks"]}
    for analytic in analytics:
        assert f"{analytic.id} service answers exactly what direct does" in checked
        assert f"{analytic.id} PostgreSQL answers what OpenSearch does" in checked
        assert f"{analytic.id} ClickHouse answers what OpenSearch does" in checked
    assert "A3 ClickHouse percentiles within the exact rank bounds" in checked

    answers = result["answers"]
    for analytic in analytics:
        counts = {side: answers[analytic.id][side]["totals"]["count"] for side in SIDES}
        assert counts["service"] == counts["direct"] == counts["clickhouse"] > 0, (analytic.id, counts)
        if analytic.search is None:
            assert counts["postgres"] == counts["direct"], (analytic.id, counts)
            assert set(answers[analytic.id]["postgres"]["series"]) == set(answers[analytic.id]["direct"]["series"])
    # A2 and A5 fold groups past the top 10 into __other__; every request is in some series.
    assert '{"model": "__other__"}' in answers["A2"]["direct"]["series"]
    assert answers["A2"]["direct"]["totals"]["count"] == DOCS

    cells = result["cells"]
    expected = {(side, 1) for side in SIDES} | {("service", 4), ("direct", 4)}
    for analytic in analytics:
        for side, concurrency in expected:
            cell = cells[f"{analytic.id}/{side}/c{concurrency}"]
            assert cell["ok"] > 0 and cell["errors"] == 0, (analytic.id, side, concurrency, cell)
            assert cell["p50_ms"] is not None and cell["p95_ms"] is not None
            assert cell["total_count"] == answers[analytic.id][side]["totals"]["count"], (analytic.id, side)
        assert f"{analytic.id}/postgres/c4" not in cells

    size = result["metadata_pairs_size"]
    assert size["with"]["docs"] == size["without"]["docs"] == SIZE_DOCS
    assert size["with"]["segments"] == size["without"]["segments"] == 1
    assert size["extra_bytes"] > 0
    assert result["clickhouse"]["rows"] == DOCS

    assert "| A5 " in completed.stdout and "service/direct p50" in completed.stdout
