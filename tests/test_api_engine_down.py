"""When OpenSearch goes away or hangs, the API answers 503 with Retry-After fast (with the default settings),
logs one line per kind of failure rather than one per request, keeps running, and recovers by itself."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from core.engine import make_service_client
from core.settings import OpenSearchSettings, ServiceSettings
from core.templates import IndexNames
from service.app import create_app, error_middleware
from service.engine_errors import ENGINE_FAILURES
from service.keys import KeyStore
from tests.api_server import ApiTestServer
from tests.dataset import TENANT_A, index_documents, tenant_documents
from tests.tcp_proxy import TcpProxy

# The goal for a hung engine, with the service's default settings: a 503 within this long.
FAST_503_SECONDS = 2.0
Api = TestClient[web.Request, web.Application]


@pytest.fixture(scope="module")
async def api_key(client: AsyncOpenSearch, index_names: IndexNames) -> str:
    await index_documents(client, index_names, tenant_documents(TENANT_A, 3))
    key, _ = await KeyStore(client, index_names, 0).create(TENANT_A)
    return key


@pytest.fixture
async def proxied_api(index_names: IndexNames, proxy: TcpProxy) -> AsyncIterator[Api]:
    """The real app, built as `llmsearch serve` builds it (default timeouts), whose OpenSearch client goes through
    the proxy (keys cached, so only searches need it)."""
    url = f"http://127.0.0.1:{proxy.port}"
    settings = ServiceSettings(index_prefix=index_names.prefix, key_cache_seconds=60)
    proxied = make_service_client(url, OpenSearchSettings(url=url), settings)
    async with TestClient(ApiTestServer(create_app(proxied, settings))) as api:
        yield api
    await proxied.close()


async def hang(proxy: TcpProxy) -> None:
    """The engine stops answering (as under SIGSTOP): connections are accepted, nothing comes back."""
    proxy.hang = True
    await proxy.stop()  # drop pooled connections so the next request opens a fresh, hanging one
    await proxy.start()


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
    assert time.monotonic() - started < FAST_503_SECONDS

    await proxy.start()  # the same port again
    response = await proxied_api.get("/api/v1/requests", headers=headers)
    assert response.status == 200, await response.text()
    assert (await response.json())["totalCount"] == 3


@pytest.mark.parametrize("path", ["/api/v1/requests", "/api/v1/requests/req-001", "/api/v1/analytics"])
async def test_hung_engine_is_a_fast_503_with_default_settings(
    proxied_api: Api, api_key: str, proxy: TcpProxy, path: str
) -> None:
    headers = {"Authorization": api_key}
    assert (await proxied_api.get(path, headers=headers)).status == 200
    await hang(proxy)
    started = time.monotonic()
    response = await proxied_api.get(path, headers=headers)
    elapsed = time.monotonic() - started
    assert response.status == 503
    assert "timed out" in (await response.json())["error"]
    assert response.headers["Retry-After"] == "1"
    assert elapsed <= FAST_503_SECONDS, f"503 after {elapsed:.2f}s"
    assert elapsed >= ServiceSettings().query_timeout_seconds - 0.2  # it did wait for the engine, not give up early

    proxy.hang = False
    response = await proxied_api.get(path, headers=headers)
    assert response.status == 200, await response.text()


async def test_many_failures_log_one_line_per_kind(
    proxied_api: Api, api_key: str, proxy: TcpProxy, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"Authorization": api_key}
    assert (await proxied_api.get("/api/v1/requests", headers=headers)).status == 200
    ENGINE_FAILURES.flush()  # nothing left over from earlier tests
    caplog.set_level(logging.INFO)
    caplog.clear()

    await hang(proxy)
    hung = await asyncio.gather(*(proxied_api.get("/api/v1/requests", headers=headers) for _ in range(25)))
    assert [r.status for r in hung] == [503] * 25
    await proxy.stop()
    proxy.hang = False
    down = [await proxied_api.get("/api/v1/requests", headers=headers) for _ in range(25)]
    assert [r.status for r in down] == [503] * 25

    # (asyncio's own complaints about the test proxy's cancelled connections are not the service's.)
    records = [record for record in caplog.records if record.name != "asyncio"]
    # Failed requests are reported by the service and opensearch-py (the start-up template check, which may still
    # be retrying in the background, logs its own line per attempt).
    lines = [r for r in records if r.levelno >= logging.WARNING and r.name in ("service.engine_errors", "opensearch")]
    assert not any(record.exc_info for record in records), "a traceback for an expected engine failure"
    assert [record.getMessage().split(":")[0] for record in lines] == ["engine timed out", "engine unreachable"]

    ENGINE_FAILURES.flush()
    summaries = [record.getMessage() for record in caplog.records if "more in the last" in record.getMessage()]
    assert sorted(summaries) == [
        "engine timed out: 24 more in the last 10s",
        "engine unreachable: 24 more in the last 10s",
    ]
    await proxy.start()
    assert (await proxied_api.get("/api/v1/requests", headers=headers)).status == 200


async def test_an_unexpected_error_still_logs_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app = web.Application(middlewares=[error_middleware])
    app.router.add_get("/broken", broken)
    caplog.set_level(logging.INFO)
    async with TestClient(ApiTestServer(app)) as api:
        response = await api.get("/broken")
        assert response.status == 500
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None
