"""Values the index could not keep filterable are refused when read, counted and reported, never indexed hidden."""

from __future__ import annotations

from pathlib import Path

from opensearchpy import AsyncOpenSearch

from core.documents import document_id
from core.fields import MAX_KEYWORD_CHARS, MAX_METADATA_VALUE_CHARS
from loaders.sources.ndjson import NdjsonSource
from tests.test_load_support import dead_letters, documents, fresh_index, options, request, run_load, write_ndjson


async def test_over_long_keyword_and_metadata_values_are_dead_letters(client: AsyncOpenSearch, tmp_path: Path) -> None:
    records = [
        request(1, url="https://example.com/" + "p" * 5_000),  # long, but indexable: kept
        request(2, url="u" * (MAX_KEYWORD_CHARS + 1)),
        request(3, model="m" * (MAX_KEYWORD_CHARS + 1)),
        request(4, metadata={"note": "n" * (MAX_METADATA_VALUE_CHARS + 1)}),
        request(5),
    ]
    path = write_ndjson(tmp_path / "long.ndjson", records)
    async with fresh_index(client) as names:
        result = await run_load(NdjsonSource(path, 1 << 20), client, names, "acme", options(tmp_path))
        found = await documents(client, names)
    assert (result.counts.created, result.counts.rejected) == (2, 3)
    assert set(found) == {document_id("acme", "req-000001"), document_id("acme", "req-000005")}
    reasons = {letter["id"]: letter["reason"] for letter in dead_letters(result.dead_letter_path)}
    assert set(reasons) == {"req-000002", "req-000003", "req-000004"}
    assert "url" in reasons["req-000002"] and str(MAX_KEYWORD_CHARS) in reasons["req-000002"]
    assert "model" in reasons["req-000003"]
    assert "metadata value" in reasons["req-000004"]
