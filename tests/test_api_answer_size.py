"""The cap on one answer's bytes: a page over it is a 400 that says how to ask for less, not a 50 MB answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from core.documents import RawRequest, RequestDocument
from core.engine import make_client
from core.settings import OpenSearchSettings, ServiceSettings
from core.templates import IndexNames
from service.app import create_app
from service.keys import KeyStore
from tests.api_server import ApiTestServer
from tests.dataset import BASE, index_documents
from tests.tcp_proxy import TcpProxy

Api = TestClient[web.Request, web.Application]
Served = tuple[Api, str, TcpProxy]
TENANT = "big-answers"
LIMIT = 1_000_000
BODY = "lorem ipsum " * 2_000  # about 24 KB a request
COUNT = 60  # 1.4 MB in all: more than LIMIT, in a page large enough to be sized before it is fetched


@pytest.fixture(scope="module")
async def small_limit_api(
    client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore, opensearch_url: str
) -> AsyncIterator[Served]:
    documents = [
        RequestDocument.from_raw(RawRequest(id=f"b{i:02d}", createdAt=BASE, completion=BODY), TENANT)
        for i in range(COUNT)
    ]
    await index_documents(client, index_names, documents)
    key, _ = await keys.create(TENANT)
    settings = ServiceSettings(index_prefix=index_names.prefix, key_cache_seconds=0, max_response_bytes=LIMIT)
    target = urlsplit(opensearch_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 9200)
    await proxy.start()
    url = f"http://127.0.0.1:{proxy.port}"
    proxied = make_client(url, OpenSearchSettings(url=url, timeout_seconds=30))
    async with TestClient(ApiTestServer(create_app(proxied, settings))) as api:
        yield api, key, proxy
    await proxied.close()
    await proxy.stop()


async def get(served: Served, **params: str) -> tuple[int, dict[str, object], int]:
    """The answer, and how many bytes the engine sent the service for it."""
    api, key, proxy = served
    before = proxy.bytes_from_target
    response = await api.get("/api/v1/requests", params=params, headers={"Authorization": key})
    return response.status, await response.json(), proxy.bytes_from_target - before


async def test_a_large_page_over_the_limit_is_refused_before_its_documents_are_fetched(small_limit_api: Served) -> None:
    status, body, fetched = await get(small_limit_api, pageSize=str(COUNT))
    assert status == 400
    message = str(body["error"])
    assert message.startswith("pageSize:") and "limit" in message and "fields=" in message
    assert fetched < 50_000  # the sizes only, not the 1.4 MB of documents


async def test_chosen_fields_are_checked_once_rendered(small_limit_api: Served) -> None:
    """size_chars does not split by field, so a page with chosen fields is fetched, then measured exactly."""
    status, body, fetched = await get(small_limit_api, pageSize=str(COUNT), fields="id,completion")
    assert status == 400 and str(body["error"]).startswith("pageSize:")
    assert fetched > LIMIT


async def test_smaller_pages_or_fewer_fields_fit(small_limit_api: Served) -> None:
    for params in ({"pageSize": "30"}, {"pageSize": str(COUNT), "fields": "id,createdAt"}):
        status, body, _ = await get(small_limit_api, **params)
        assert status == 200, body
        assert body["totalCount"] == COUNT
