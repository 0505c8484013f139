"""The cap on one answer's bytes: a page over it is a 400 that says how to ask for less, not a 50 MB answer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from core.documents import RawRequest, RequestDocument
from core.settings import ServiceSettings
from core.templates import IndexNames
from service.app import create_app
from service.keys import KeyStore
from tests.api_server import ApiTestServer
from tests.dataset import BASE, index_documents

Api = TestClient[web.Request, web.Application]
TENANT = "big-answers"
LIMIT = 200_000
BODY = "lorem ipsum " * 2_000  # about 24 KB a request


@pytest.fixture(scope="module")
async def small_limit_api(
    client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore
) -> AsyncIterator[tuple[Api, str]]:
    documents = [
        RequestDocument.from_raw(RawRequest(id=f"b{i:02d}", createdAt=BASE, completion=BODY), TENANT) for i in range(20)
    ]
    await index_documents(client, index_names, documents)
    key, _ = await keys.create(TENANT)
    settings = ServiceSettings(index_prefix=index_names.prefix, key_cache_seconds=0, max_response_bytes=LIMIT)
    async with TestClient(ApiTestServer(create_app(client, settings))) as api:
        yield api, key


async def test_a_page_over_the_limit_is_a_400_that_says_how_to_ask_for_less(small_limit_api: tuple[Api, str]) -> None:
    api, key = small_limit_api
    response = await api.get("/api/v1/requests", params={"pageSize": "20"}, headers={"Authorization": key})
    body = await response.json()
    assert response.status == 400
    assert body["error"].startswith("pageSize:") and "limit" in body["error"] and "fields=" in body["error"]


async def test_smaller_pages_or_fewer_fields_fit(small_limit_api: tuple[Api, str]) -> None:
    api, key = small_limit_api
    for params in ({"pageSize": "5"}, {"pageSize": "20", "fields": "id,createdAt"}):
        response = await api.get("/api/v1/requests", params=params, headers={"Authorization": key})
        assert response.status == 200, await response.text()
        assert (await response.json())["totalCount"] == 20
