"""The loader fills the derived `duration_ms` (updatedAt - createdAt), and leaves it null without an updatedAt."""

from __future__ import annotations

from pathlib import Path

from opensearchpy import AsyncOpenSearch

from core.documents import document_id
from loaders.sources.ndjson import NdjsonSource
from tests.test_load_support import documents, fresh_index, options, request, run_load, write_ndjson


async def test_the_loader_computes_duration(client: AsyncOpenSearch, tmp_path: Path) -> None:
    records = [
        request(1, createdAt="2025-06-01T10:00:00Z", updatedAt="2025-06-01T10:00:02.345Z"),
        request(2, createdAt="2025-06-01T10:00:00Z"),  # no updatedAt
        request(3, createdAt="2025-06-01T10:00:00+02:00", updatedAt="2025-06-01T08:00:00.5Z"),  # time zones
    ]
    path = write_ndjson(tmp_path / "durations.ndjson", records)
    async with fresh_index(client) as names:
        result = await run_load(NdjsonSource(path, 1 << 20), client, names, "acme", options(tmp_path))
        assert result.clean
        found = await documents(client, names)
    durations = {n: found[document_id("acme", f"req-{n:06d}")]["duration_ms"] for n in (1, 2, 3)}
    assert durations == {1: 2345, 2: None, 3: 500}
