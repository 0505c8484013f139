"""When OpenSearch goes away the API answers 503 within its timeout, keeps running, and recovers by itself."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from urllib.parse import urlparse

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from core.engine import make_client
from core.settings import OpenSearchSettings, ServiceSettings
from core.templates import IndexNames
from service.app import create_app
from service.keys import KeyStore
from tests.api_server import ApiTestServer
from tests.dataset import TENANT_A, index_documents, tenant_documents
from tests.tcp_proxy import TcpProxy

TIMEOUT = 2.0
Api = TestClient[web.Request, web.Application]


@pytest.fixture
async def proxy(opensearch_url: str) -> AsyncIterator[TcpProxy]:
    target = urlparse(opensearch_url)
    tcp = TcpProxy(target.hostname or "127.0.0.1", target.port or 9200)
    await tcp.start()
    yield tcp
    await tcp.stop()


@pytest.fixture(scope="module")
async def api_key(client: AsyncOpenSearch, index_names: IndexNames) -> str:
    await index_documents(client, index_names, tenant_documents(TENANT_A, 3))
    key, _ = await KeyStore(client, index_names, 0).create(TENANT_A)
    return key


@pytest.fixture
async def proxied_api(index_names: IndexNames, proxy: TcpProxy) -> AsyncIterator[Api]:
    """The real app whose OpenSearch client goes through the proxy (keys cached, so only searches need it)."""
    url = f"http://127.0.0.1:{proxy.port}"
    proxied = make_client(url, OpenSearchSettings(url=url, timeout_seconds=TIMEOUT))
    settings = ServiceSettings(index_prefix=index_names.prefix, key_cache_seconds=60)
    async with TestClient(ApiTestServer(create_app(proxied, settings))) as api:
        yield api
    await proxied.close()


async def test_engine_outage_is_503_then_recovers(proxied_api: Api, api_key: str, proxy: TcpProxy) -> None:
    headers = {"Authorization": api_key}
    assert (await proxied_api.get("/api/v1/requests", headers=headers)).status == 200

    await proxy.stop()
    started = time.monotonic()
    response = await proxied_api.get("/api/v1/requests", headers=headers)
    assert response.status == 503
    body = await response.json()
    assert set(body) == {"error"} and "unavailable" in body["error"]
    assert response.headers["Retry-After"] == "1"
    assert time.monotonic() - started < TIMEOUT + 1.5

    await proxy.start()  # the same port again
    response = await proxied_api.get("/api/v1/requests", headers=headers)
    assert response.status == 200, await response.text()
    assert (await response.json())["totalCount"] == 3


async def test_engine_that_stops_answering_is_503_within_the_timeout(
    proxied_api: Api, api_key: str, proxy: TcpProxy
) -> None:
    headers = {"Authorization": api_key}
    assert (await proxied_api.get("/api/v1/requests", headers=headers)).status == 200
    proxy.hang = True
    await proxy.stop()  # drop pooled connections so the next request opens a fresh, hanging one
    await proxy.start()
    started = time.monotonic()
    response = await proxied_api.get("/api/v1/requests", headers=headers)
    elapsed = time.monotonic() - started
    assert response.status == 503
    assert "timed out" in (await response.json())["error"]
    assert TIMEOUT - 0.5 < elapsed < TIMEOUT + 1.5

    proxy.hang = False
    response = await proxied_api.get("/api/v1/requests", headers=headers)
    assert response.status == 200, await response.text()
