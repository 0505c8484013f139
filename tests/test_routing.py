"""Requests are routed by tenant (core.routing), on a real multi-shard index.

Writes: the loader and POST /api/v1/ingest put a tenant's documents on the shard its routing value leads to (or, with
a routing partition, on that many shards). Reads: a document of tenant A deliberately put on another shard (a
"stray", written straight to the engine with another routing value) is found by an unrouted search but by none of
the service's reads (list, relevance list through a point in time, by id, analytics, export): proof that every read
asks only the tenant's shards. The tenant term is still there: tenant B, routed to the same shard as a stray of
A's, never sees it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from core.documents import RawRequest, RequestDocument, document_id
from core.index_settings import Layout
from core.routing import tenant_routing
from core.settings import ServiceSettings
from core.templates import IndexNames, apply_templates, delete_all
from loaders.sources.ndjson import NdjsonSource
from service.app import create_app
from service.keys import KeyStore, Scope
from tests.api_server import ApiTestServer
from tests.test_load_support import ingest, options, request, run_load, write_ndjson

Api = TestClient[web.Request, web.Application]
SHARDS = 4
LOADED, INGESTED, OTHER = "routed-a", "routed-b", "routed-c"


async def shards_of(client: AsyncOpenSearch, names: IndexNames, routing: str) -> set[int]:
    found = await client.search_shards(index=names.read_alias, routing=routing)
    return {copy["shard"] for group in found["shards"] for copy in group if copy["primary"]}


async def docs_per_shard(client: AsyncOpenSearch, names: IndexNames, tenant: str) -> dict[int, int]:
    """Each shard's count of `tenant`'s documents, asking the shards one at a time."""
    counts = {}
    for shard in range(SHARDS):
        found = await client.count(
            index=names.read_alias,
            body={"query": {"term": {"tenant_id": tenant}}},
            preference=f"_shards:{shard}",
        )
        counts[shard] = int(found["count"])
    return {shard: n for shard, n in counts.items() if n}


@pytest.fixture(scope="module")
async def names(client: AsyncOpenSearch) -> AsyncIterator[IndexNames]:
    names = IndexNames(prefix=f"test-routing-{uuid.uuid4().hex[:8]}")
    await apply_templates(client, names, Layout(shards=SHARDS))
    yield names
    await delete_all(client, names)


@pytest.fixture(scope="module")
async def api(client: AsyncOpenSearch, names: IndexNames) -> AsyncIterator[Api]:
    settings = ServiceSettings(index_prefix=names.prefix, key_cache_seconds=0)
    async with TestClient(ApiTestServer(create_app(client, settings))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
async def loaded(
    client: AsyncOpenSearch, names: IndexNames, api: Api, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """40 requests loaded for LOADED, 40 ingested for INGESTED and OTHER each; a read key per tenant."""
    work = tmp_path_factory.mktemp("routing")
    path = write_ndjson(work / "a.ndjson", [request(n, prefix="a", completion="refund please") for n in range(40)])
    counts = (await run_load(NdjsonSource(path, 1 << 20), client, names, LOADED, options(work / "load"))).counts
    assert counts.created == 40
    store = KeyStore(client, names, cache_seconds=0)
    keys = {}
    for tenant in (LOADED, INGESTED, OTHER):
        keys[tenant], _ = await store.create(tenant, "routing", frozenset({Scope.READ, Scope.WRITE}))
    for tenant in (INGESTED, OTHER):
        await ingest(api, keys[tenant], [request(n, prefix=tenant[-1], completion="refund please") for n in range(40)])
    await client.indices.refresh(index=names.read_alias)
    return keys


async def test_each_tenant_lives_on_the_shard_its_routing_leads_to(
    client: AsyncOpenSearch, names: IndexNames, loaded: dict[str, str]
) -> None:
    for tenant in (LOADED, INGESTED, OTHER):
        shard = await shards_of(client, names, tenant_routing(tenant))
        assert await docs_per_shard(client, names, tenant) == {shard.pop(): 40}, tenant


async def stray(client: AsyncOpenSearch, names: IndexNames, tenant: str) -> tuple[str, str]:
    """A document of `tenant` put on a shard its routing does not lead to; returns (request id, the routing used)."""
    home = await shards_of(client, names, tenant_routing(tenant))
    routing = ""
    for n in range(1000):
        routing = f"elsewhere-{n}"
        if not await shards_of(client, names, routing) & home:
            break
    request_id = f"stray-{tenant}"
    raw = RawRequest.model_validate(
        request(0, prefix=f"stray-{tenant}") | {"id": request_id, "completion": "refund please"}
    )
    document = RequestDocument.from_raw(raw, tenant_id=tenant)
    await client.index(
        index=f"{names.prefix}-000001",
        id=document_id(tenant, request_id),
        body=document.model_dump(mode="json", exclude_none=True),
        routing=routing,
        refresh=True,
    )
    return request_id, routing


async def test_every_read_asks_only_the_tenants_shards(
    client: AsyncOpenSearch, names: IndexNames, api: Api, loaded: dict[str, str], tmp_path: Path
) -> None:
    request_id, _routing = await stray(client, names, LOADED)
    unrouted = await client.count(index=names.read_alias, body={"query": {"term": {"tenant_id": LOADED}}})
    assert unrouted["count"] == 41  # the stray is there for anyone who asks every shard

    auth = {"Authorization": f"Bearer {loaded[LOADED]}"}

    async def get(path: str, **params: str) -> Any:
        response = await api.get(path, params=params, headers=auth)
        assert response.status == 200, await response.text()
        return await response.json() if "export" not in path else await response.text()

    page = await get("/api/v1/requests", pageSize="100")
    assert page["totalCount"] == 40 and request_id not in {r["id"] for r in page["requests"]}
    relevance = await get("/api/v1/requests", search="refund", sortBy="relevance", pageSize="100")
    assert relevance["totalCount"] == 40 and request_id not in {r["id"] for r in relevance["requests"]}
    by_id = await api.get(f"/api/v1/requests/{request_id}", headers=auth)
    assert by_id.status == 404
    window = {"from": "2025-06-01T00:00:00Z", "to": "2025-07-01T00:00:00Z"}
    analytics = await get("/api/v1/analytics", metrics="count", interval="day", **window)
    assert analytics["series"][0]["totals"]["count"] == 40
    exported = await get("/api/v1/export", format="ndjson")
    ids = [orjson.loads(line)["id"] for line in exported.splitlines() if line]
    assert len(ids) == 40 and request_id not in ids


async def test_the_tenant_term_still_confines_a_shared_shard(
    client: AsyncOpenSearch, names: IndexNames, api: Api, loaded: dict[str, str]
) -> None:
    # A document of OTHER's put on INGESTED's shard: INGESTED's routed reads ask that shard, and must not see it.
    home = await shards_of(client, names, tenant_routing(INGESTED))
    raw = RawRequest.model_validate(request(0, prefix="x") | {"id": "intruder", "completion": "refund please"})
    document = RequestDocument.from_raw(raw, tenant_id=OTHER)
    await client.index(
        index=f"{names.prefix}-000001",
        id=document_id(OTHER, "intruder"),
        body=document.model_dump(mode="json", exclude_none=True),
        routing=tenant_routing(INGESTED),
        refresh=True,
    )
    assert await shards_of(client, names, tenant_routing(INGESTED)) == home
    response = await api.get(
        "/api/v1/requests", params={"pageSize": "100"}, headers={"Authorization": f"Bearer {loaded[INGESTED]}"}
    )
    page = await response.json()
    assert page["totalCount"] == 40 and "intruder" not in {r["id"] for r in page["requests"]}


async def test_a_partitioned_layout_spreads_a_tenant_over_that_many_shards(
    client: AsyncOpenSearch, api: Api, tmp_path: Path
) -> None:
    names = IndexNames(prefix=f"test-routing-p-{uuid.uuid4().hex[:8]}")
    await apply_templates(client, names, Layout(shards=SHARDS, routing_partition_size=2))
    try:
        path = write_ndjson(tmp_path / "p.ndjson", [request(n, prefix="p") for n in range(200)])
        counts = (await run_load(NdjsonSource(path, 1 << 20), client, names, LOADED, options(tmp_path / "p"))).counts
        assert counts.created == 200
        await client.indices.refresh(index=names.read_alias)
        spread = await docs_per_shard(client, names, LOADED)
        assert len(spread) == 2 and sum(spread.values()) == 200
        assert set(spread) == await shards_of(client, names, tenant_routing(LOADED))
        mapping = await client.indices.get_mapping(index=f"{names.prefix}-000001")
        assert mapping[f"{names.prefix}-000001"]["mappings"]["_routing"] == {"required": True}
    finally:
        await delete_all(client, names)
