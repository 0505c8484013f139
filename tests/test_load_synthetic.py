"""Synthetic records (loaders.synthetic): `--count N` gives N documents; progress reports rate and ETA."""

from __future__ import annotations

import re
from pathlib import Path

from opensearchpy import AsyncOpenSearch

from core.documents import document_id
from core.templates import IndexNames
from loaders.sources.synthetic_source import SyntheticSource
from tests.test_load_support import count, documents, fresh_index, options, run_cli, run_load

COUNT = 600


async def test_count_n_gives_n_documents(client: AsyncOpenSearch, tmp_path: Path) -> None:
    async with fresh_index(client) as names:
        result = await run_load(
            SyntheticSource(COUNT, seed=7), client, names, "synth", options(tmp_path, chunk_size=200)
        )
        assert result.counts.records == result.counts.created + result.counts.rejected == COUNT
        assert result.counts.rejected == 0
        found = await documents(client, names)
        assert len(found) == COUNT
        assert document_id("synth", "req_7_000000000") in found
        assert document_id("synth", f"req_7_{COUNT - 1:09d}") in found
        assert all(doc["tenant_id"] == "synth" for doc in found.values())
        # The generator includes models the pricing table does not know: counted, indexed without a cost.
        # (Some of those records carry a cost of their own, or no token counts: no warning for them.)
        unknown = [doc for doc in found.values() if doc["model"] in result.counts.unknown_models]
        assert 0 < result.counts.cost_unknown == sum(result.counts.unknown_models.values()) <= len(unknown)


async def test_progress_lines_show_rate_and_eta(client: AsyncOpenSearch, opensearch_url: str, tmp_path: Path) -> None:
    prefix = f"test-load-progress-{tmp_path.name[-8:].lower().replace('_', '-')}"
    try:
        done = run_cli(
            opensearch_url,
            "synthetic",
            "--count",
            "1500",
            "--tenant",
            "synth",
            "--index-prefix",
            prefix,
            "--state-dir",
            str(tmp_path),
            "--progress",
            "lines",
            "--progress-interval",
            "0.05",
            "--chunk-size",
            "250",
        )
        assert done.returncode == 0, done.stderr
        lines = [line for line in done.stderr.splitlines() if "docs/s" in line]
        assert lines, done.stderr
        assert any(re.search(r"\d+% \| ETA \d+:\d\d", line) for line in lines), lines
        assert "1,500 records" in done.stdout
        assert await count(client, IndexNames(prefix)) == 1500
    finally:
        from core.templates import delete_all

        await delete_all(client, IndexNames(prefix))
