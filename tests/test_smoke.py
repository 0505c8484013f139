"""End to end through the foundation: node, template, index a document, find it with a full-text query."""

from __future__ import annotations

from datetime import UTC, datetime

from opensearchpy import AsyncOpenSearch

from core.documents import RawRequest, RequestDocument
from core.templates import IndexNames


async def test_index_and_find_by_full_text(client: AsyncOpenSearch, index_names: IndexNames) -> None:
    raw = RawRequest(
        id="smoke-1",
        createdAt=datetime(2026, 1, 2, tzinfo=UTC),
        request_body={
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "Where is the lighthouse?"}],
        },
        completion="The lighthouse stands on the northern cape.",
    )
    document = RequestDocument.from_raw(raw, tenant_id="tenant-a")
    await client.index(index=index_names.write_alias, id=document.id, body=document.source(), refresh="wait_for")
    found = await client.search(
        index=index_names.read_alias,
        body={"query": {"match": {"prompt": "lighthouse"}}},
    )
    assert found["hits"]["total"]["value"] == 1
    assert found["hits"]["hits"][0]["_source"]["prompt"] == "Where is the lighthouse?"
    assert found["hits"]["hits"][0]["_index"] == index_names.first_index


async def test_cjk_text_is_searchable(client: AsyncOpenSearch, index_names: IndexNames) -> None:
    raw = RawRequest(id="smoke-cjk", createdAt=datetime(2026, 1, 3, tzinfo=UTC), completion="東京の天気は晴れです")
    document = RequestDocument.from_raw(raw, tenant_id="tenant-a")
    await client.index(index=index_names.write_alias, id=document.id, body=document.source(), refresh="wait_for")
    found = await client.search(
        index=index_names.read_alias,
        body={"query": {"match_phrase": {"completion": "天気"}}},
    )
    assert [hit["_id"] for hit in found["hits"]["hits"]] == ["smoke-cjk"]
