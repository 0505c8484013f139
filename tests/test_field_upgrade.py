"""A field added to the table reaches indices created before it: `duration_ms` on an index that predates it.

The index is made the way an older release made it (today's template without `duration_ms`), holds an older
document, and is then brought up to date by `apply_templates` (what `llmsearch templates apply` and the service's
start-up run). New documents carry the field, the API filters and sorts on it, and the older document stays
searchable with `duration_ms: null` until it is loaded again.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from core.documents import RequestDocument
from core.settings import ServiceSettings
from core.templates import IndexNames, MappingUpdate, apply_templates, delete_all, request_template
from service.app import create_app
from service.keys import KeyStore
from tests.api_server import ApiTestServer
from tests.dataset import BASE, index_documents, make_raw

TENANT = "upgrade-tenant"


@pytest.fixture(scope="module")
async def old_names(client: AsyncOpenSearch) -> AsyncIterator[IndexNames]:
    names = IndexNames(prefix=f"test-upgrade-{uuid.uuid4().hex[:8]}")
    body = request_template(names)["template"]
    del body["mappings"]["properties"]["duration_ms"]
    body["aliases"] = {names.read_alias: {}, names.write_alias: {"is_write_index": True}}
    await client.indices.create(index=names.first_index, body=body)
    old = RequestDocument.from_raw(make_raw(0, id="old-1"), TENANT).source()
    del old["duration_ms"]  # an older release did not have the field
    await client.index(index=names.write_alias, id=f"{TENANT}:old-1", body=old, refresh=True)
    yield names
    await delete_all(client, names)


async def test_apply_adds_the_new_field_once_and_new_documents_carry_it(
    client: AsyncOpenSearch, old_names: IndexNames
) -> None:
    assert await apply_templates(client, old_names) == [MappingUpdate(old_names.first_index, ("duration_ms",))]
    assert await apply_templates(client, old_names) == []  # idempotent
    mapping = await client.indices.get_mapping(index=old_names.first_index)
    assert mapping[old_names.first_index]["mappings"]["properties"]["duration_ms"] == {"type": "integer"}

    durations = {"new-fast": 250, "new-slow": 4_000, "new-none": None}
    documents = []
    for request_id, duration in durations.items():
        raw = make_raw(1, id=request_id, updatedAt=None)
        if duration is not None:
            raw = make_raw(1, id=request_id, updatedAt=BASE + timedelta(minutes=7, milliseconds=duration))
        documents.append(RequestDocument.from_raw(raw, TENANT))
    await index_documents(client, old_names, documents)

    settings = ServiceSettings(index_prefix=old_names.prefix, key_cache_seconds=0)
    key, _ = await KeyStore(client, old_names, 0).create(TENANT)
    async with TestClient(ApiTestServer(create_app(client, settings))) as api:

        async def ids(**params: Any) -> list[str]:
            response = await api.get("/api/v1/requests", params=params, headers={"Authorization": key})
            body = await response.json()
            assert response.status == 200, body
            return [r["id"] for r in body["requests"]]

        assert await ids(filter='{"duration_ms": {"gte": 1000}}') == ["new-slow"]
        less = '{"combinator":"and","rules":[{"field":"duration_ms","operator":"<","value":"1000"}]}'
        assert await ids(filter=less) == ["new-fast"]
        assert set(await ids(filter='{"combinator":"and","rules":[{"field":"duration_ms","operator":"null"}]}')) == {
            "old-1",
            "new-none",
        }
        # Missing values sort last in both orders (OpenSearch's default), ties by id.
        assert await ids(sortBy="duration_ms", sortOrder="asc") == ["new-fast", "new-slow", "new-none", "old-1"]
        assert await ids(sortBy="duration_ms", sortOrder="desc") == ["new-slow", "new-fast", "old-1", "new-none"]
        response = await api.get(
            "/api/v1/requests", params={"filter": '{"id": "new-slow"}'}, headers={"Authorization": key}
        )
        assert (await response.json())["requests"][0]["duration_ms"] == 4_000
