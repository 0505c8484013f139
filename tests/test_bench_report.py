"""The benchmark report rendered from the committed results, without OpenSearch or PostgreSQL.

What must hold whatever the figures: the sections in their order, every query of the run in every per-query
table, ratios written as ratios, and BENCHMARKS.md's results section being exactly what its results file renders to.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bench import report

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
RUNS = ("2026-11-25-50000-quick.json", "2026-11-25-1000000.json")
# Two decimals below 10x, whole numbers with thousands separators from there; `≥` where a side timed out.
RATIO = re.compile(r"≥?(?:\d\.\d{2}|[1-9]\d{0,2}(?:,\d{3})*)x")
RATIO_COLUMNS = frozenset(
    {
        "service/direct p50",
        "service/direct p99",
        "tuned/service",
        "naive/service",
        "PG tuned/service p50",
        "PG naive/service p50",
    }
)


def load(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((RESULTS / name).read_text())
    return result


def by_heading(text: str) -> dict[str, list[str]]:
    """The rendered lines under each `###` heading, headings in the order they appear ("" for what precedes them)."""
    sections: dict[str, list[str]] = {"": []}
    current = ""
    for line in text.splitlines():
        if line.startswith("### "):
            current = line.removeprefix("### ")
            sections[current] = []
        else:
            sections[current].append(line)
    return sections


def table_rows(lines: list[str]) -> list[dict[str, str]]:
    """The rows of the section's markdown table, keyed by column header."""
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines if line.startswith("|")]
    header, _rule, *rows = cells
    return [dict(zip(header, row, strict=True)) for row in rows]


def expected_headings(result: dict[str, Any]) -> list[str]:
    per_concurrency = [
        heading
        for c in result["config"]["concurrency"]
        for heading in (
            f"The service against OpenSearch direct, concurrency {c}",
            f"PostgreSQL against the service, concurrency {c}",
        )
    ]
    return [
        "Machine and engines",
        "Data on disk",
        *per_concurrency,
        "Answers: totalCount of each side",
        "Ingest",
        "Summary (geometric mean over the seven queries)",
    ]


@pytest.mark.parametrize("name", RUNS)
def test_sections_come_in_order(name: str) -> None:
    result = load(name)
    sections = by_heading(report.render(result, f"bench/results/{name}"))
    assert list(sections) == ["", *expected_headings(result)]
    intro = sections[""]
    # Only a run below the benchmark's size opens with the warning that its figures are not the benchmark.
    assert intro[0].startswith("> **Quick run (50,000 documents).**") == result["config"]["quick"]
    assert result["command"] in intro
    assert f"Raw figures: [`bench/results/{name}`](bench/results/{name})." in intro


@pytest.mark.parametrize("name", RUNS)
def test_every_query_in_every_per_query_table(name: str) -> None:
    result = load(name)
    ids = [q["id"] for q in result["queries"]]
    assert ids
    sections = by_heading(report.render(result))
    per_query = [h for h in sections if h.startswith(("The service against", "PostgreSQL against", "Answers"))]
    assert len(per_query) == 2 * len(result["config"]["concurrency"]) + 1
    for heading in per_query:
        assert [row["query"] for row in table_rows(sections[heading])] == ids, heading


@pytest.mark.parametrize("name", RUNS)
def test_ratios_are_formatted(name: str) -> None:
    result = load(name)
    text = report.render(result)
    seen = 0
    for heading, lines in by_heading(text).items():
        if not any(line.startswith("|") for line in lines):
            continue
        for row in table_rows(lines):
            for column in RATIO_COLUMNS & row.keys():
                # Every cell of a committed run was measured, so every ratio is a figure, never "—".
                assert RATIO.fullmatch(row[column].strip("*")), (heading, column, row[column])
                seen += 1
    assert seen == len(result["config"]["concurrency"]) * (4 * len(result["queries"]) + 4)
    assert re.search(rf"Loader/raw bulk throughput: \*\*{RATIO.pattern}\*\*\.", text)
    assert re.search(rf"Loader/raw at [\d,]+ documents: \*\*{RATIO.pattern}\*\* docs/s", text)


@pytest.mark.parametrize(
    ("factor", "text"),
    [(None, "—"), (0.714, "0.71x"), (9.99, "9.99x"), (10.4, "10x"), (1986.2, "1,986x")],
)
def test_times(factor: float | None, text: str) -> None:
    assert report.times(factor) == text
    assert report.times(factor, censored=True) == (text if factor is None else f"≥{text}")


def test_the_committed_report_is_its_results_rendered() -> None:
    text = (REPO / "BENCHMARKS.md").read_text()
    section = text.split(report.BEGIN, 1)[1].split(report.END, 1)[0]
    linked = re.search(r"Raw figures: \[`([^`]+)`\]", section)
    assert linked, "the results section names its results file"
    result = json.loads((REPO / linked[1]).read_text())
    assert section == "\n" + report.render(result, linked[1])


def test_update_markdown_rewrites_only_the_section(tmp_path: Path) -> None:
    result = load(RUNS[0])
    markdown = tmp_path / "BENCHMARKS.md"
    results_path = tmp_path / "results" / RUNS[0]
    report.update_markdown(markdown, result, results_path)
    created = markdown.read_text()
    assert created.startswith(f"# Benchmarks\n\n## Results\n\n{report.BEGIN}\n")
    assert created.endswith(f"{report.END}\n")

    markdown.write_text(f"intro\n\n{report.BEGIN}\nstale\n{report.END}\noutro\n")
    report.update_markdown(markdown, result, results_path)
    shown = f"results/{RUNS[0]}"
    assert markdown.read_text() == f"intro\n\n{report.BEGIN}\n{report.render(result, shown)}{report.END}\noutro\n"
