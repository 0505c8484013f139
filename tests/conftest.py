"""Shared fixtures: one real OpenSearch for the session, a fresh index prefix per test module."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlparse

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from core.engine import make_client
from core.settings import OpenSearchSettings, ServiceSettings
from core.templates import IndexNames, apply_templates, delete_all
from service.app import create_app
from service.keys import KeyStore
from tests.api_server import ApiTestServer
from tests.engine import opensearch_for_tests
from tests.tcp_proxy import TcpProxy


@pytest.fixture(scope="session")
def opensearch_url() -> Iterator[str]:
    with opensearch_for_tests() as url:
        yield url


@pytest.fixture(scope="session")
async def client(opensearch_url: str) -> AsyncIterator[AsyncOpenSearch]:
    os_client = make_client(opensearch_url, OpenSearchSettings(url=opensearch_url, timeout_seconds=30))
    yield os_client
    await os_client.close()


@pytest.fixture(scope="module")
async def index_names(client: AsyncOpenSearch) -> AsyncIterator[IndexNames]:
    """A prefix of the module's own, with templates applied; everything under it is removed afterwards."""
    names = IndexNames(prefix=f"test-{uuid.uuid4().hex[:10]}")
    await apply_templates(client, names)
    yield names
    await delete_all(client, names)


@pytest.fixture(scope="module")
async def keys(client: AsyncOpenSearch, index_names: IndexNames) -> KeyStore:
    return KeyStore(client, index_names, cache_seconds=0)


@pytest.fixture(scope="module")
async def api(
    client: AsyncOpenSearch, index_names: IndexNames
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The real aiohttp app, over the module's indices, through aiohttp's test client."""
    settings = ServiceSettings(index_prefix=index_names.prefix, key_cache_seconds=0)
    async with TestClient(ApiTestServer(create_app(client, settings))) as test_client:
        yield test_client


@pytest.fixture
async def proxy(opensearch_url: str) -> AsyncIterator[TcpProxy]:
    """A fault-injecting TCP proxy in front of the real engine (tests.tcp_proxy), for one test."""
    target = urlparse(opensearch_url)
    tcp = TcpProxy(target.hostname or "127.0.0.1", target.port or 9200)
    await tcp.start()
    yield tcp
    await tcp.stop()
