"""`/metrics` on a real app and node: where it is served under each setting, and that its counters follow real
requests, engine calls (and failures, through the fault proxy), ingest and the key cache."""

from __future__ import annotations

import asyncio
import logging
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from opensearchpy import AsyncOpenSearch
from pydantic import SecretStr, ValidationError

from core.settings import ServiceSettings
from core.templates import IndexNames
from service.keys import KeyStore, Scope
from service.observability.metrics import METRICS, start_metrics_listener
from tests.dataset import TENANT_A, index_documents, tenant_documents
from tests.live_server import free_port
from tests.observability import METRICS_TOKEN, samples, scrape, served, value
from tests.tcp_proxy import TcpProxy

LIST = "/api/v1/requests"


def token_settings(names: IndexNames, **overrides: Any) -> ServiceSettings:
    return ServiceSettings(
        index_prefix=names.prefix, metrics="token", metrics_token=SecretStr(METRICS_TOKEN), **overrides
    )


@pytest.fixture(scope="module")
async def read_key(client: AsyncOpenSearch, index_names: IndexNames) -> str:
    await index_documents(client, index_names, tenant_documents(TENANT_A, 5))
    key, _ = await KeyStore(client, index_names, 0).create(TENANT_A, scopes=frozenset({Scope.READ, Scope.WRITE}))
    return key


async def test_token_mode_needs_the_token(opensearch_url: str, index_names: IndexNames) -> None:
    async with served(opensearch_url, token_settings(index_names)) as api:
        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": METRICS_TOKEN}):
            response = await api.get("/metrics", headers=headers)
            assert response.status == 401
            assert response.content_type == "application/json"
            assert "LLMSEARCH_METRICS_TOKEN" in (await response.json())["error"]
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        response = await api.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert response.status == 200
        assert response.content_type == "text/plain"
        found = samples(await response.text())
        # Outcomes are there from the start, at zero (so that rate() sees their first increment).
        assert found[("llmsearch_key_cache_total", frozenset({("result", "hit")}))] == 0
        assert found[("llmsearch_ingest_records_total", frozenset({("outcome", "rejected")}))] == 0


async def test_off_serves_metrics_nowhere(opensearch_url: str, index_names: IndexNames) -> None:
    port = free_port()
    settings = ServiceSettings(index_prefix=index_names.prefix, metrics="off", metrics_port=port)
    async with served(opensearch_url, settings) as api:
        response = await api.get("/metrics")
        assert (response.status, await response.json()) == (404, {"error": "Not Found"})
        assert await start_metrics_listener(api.app[METRICS], settings) is None
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", port)


async def test_port_mode_serves_metrics_on_their_own_port_only(
    opensearch_url: str, index_names: IndexNames, read_key: str
) -> None:
    port = free_port()
    settings = ServiceSettings(index_prefix=index_names.prefix, host="127.0.0.1", metrics_port=port)
    assert settings.metrics == "port"  # the default
    async with served(opensearch_url, settings) as api:
        response = await api.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert (response.status, await response.json()) == (404, {"error": "Not Found"})
        assert (await api.get(LIST, headers={"Authorization": read_key})).status == 200
        runner = await start_metrics_listener(api.app[METRICS], settings)
        assert runner is not None
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
                async with http.get("/metrics") as answer:
                    assert answer.status == 200
                    assert answer.headers["Content-Type"].startswith("text/plain; version=")
                    text = await answer.text()
                # The API app's own counts, the 404 above included.
                assert value(text, "llmsearch_http_requests_total", route=LIST, method="GET", status="200") == 1
                assert value(text, "llmsearch_http_requests_total", route="unmatched", method="GET", status="404") == 1
                assert value(text, "process_resident_memory_bytes") > 0
                async with http.get("/api/v1/requests") as answer:
                    assert (answer.status, await answer.json()) == (404, {"error": "Not Found"})
                async with http.post("/metrics") as answer:
                    assert (answer.status, answer.content_type) == (405, "application/json")
                    assert answer.headers["Allow"] == "GET,HEAD"
        finally:
            await runner.cleanup()


async def test_a_taken_metrics_port_is_logged_and_the_api_still_serves(
    opensearch_url: str, index_names: IndexNames, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = ServiceSettings(index_prefix=index_names.prefix, host="127.0.0.1", metrics_port=port)
        async with served(opensearch_url, settings) as api:
            caplog.set_level(logging.ERROR)
            assert await start_metrics_listener(api.app[METRICS], settings) is None
            assert (await api.get("/healthz")).status == 200
    (line,) = [r.getMessage() for r in caplog.records if r.name == "service.observability.metrics"]
    assert f"port {port}" in line and "LLMSEARCH_METRICS_PORT" in line


def test_the_metrics_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="LLMSEARCH_METRICS_TOKEN"):
        ServiceSettings(metrics="token")
    with pytest.raises(ValidationError, match="differ"):
        ServiceSettings(port=9464)
    with pytest.raises(ValidationError):
        ServiceSettings(metrics="token", metrics_token=SecretStr("short"))
    assert ServiceSettings(port=9464, metrics="off").metrics_port == 9464


async def test_counters_follow_requests_engine_calls_and_the_key_cache(
    opensearch_url: str, index_names: IndexNames, read_key: str
) -> None:
    async with served(opensearch_url, token_settings(index_names, key_cache_seconds=60)) as api:
        headers = {"Authorization": read_key}
        for _ in range(3):
            assert (await api.get(LIST, headers=headers)).status == 200
        assert (await api.get(f"{LIST}/req-001", headers=headers)).status == 200
        assert (await api.get(f"{LIST}/no-such-request", headers=headers)).status == 404
        assert (await api.get(f"{LIST}?pageSize=0", headers=headers)).status == 400
        assert (await api.get(LIST)).status == 401
        assert (await api.get("/no/such/path")).status == 404
        assert (await api.request("PROPFIND", LIST, headers=headers)).status == 405
        text = await scrape(api)

    def requests(route: str, method: str, status: int) -> float:
        return value(text, "llmsearch_http_requests_total", route=route, method=method, status=str(status))

    assert requests(LIST, "GET", 200) == 3
    assert requests("/api/v1/requests/{id}", "GET", 200) == 1
    assert requests("/api/v1/requests/{id}", "GET", 404) == 1  # the pattern, never the id
    assert requests(LIST, "GET", 400) == 1
    assert requests(LIST, "GET", 401) == 1
    assert requests("unmatched", "GET", 404) == 1
    assert requests(LIST, "other", 405) == 1
    assert not any("no-such" in str(labels) or "req-001" in str(labels) for _, labels in samples(text))
    assert value(text, "llmsearch_http_request_duration_seconds_count", route=LIST) == 6
    assert value(text, "llmsearch_http_request_duration_seconds_bucket", route=LIST, le="+Inf") == 6
    assert value(text, "llmsearch_http_request_duration_seconds_sum", route=LIST) > 0
    # One key, cached for 60 s: OpenSearch was asked once, every later request was answered from the cache.
    assert value(text, "llmsearch_key_cache_total", result="miss") == 1
    assert value(text, "llmsearch_key_cache_total", result="hit") == 5
    # Three pages and two look-ups by id (searches), and the key (a get).
    assert value(text, "llmsearch_engine_request_duration_seconds_count", endpoint="search") >= 5
    assert value(text, "llmsearch_engine_request_duration_seconds_count", endpoint="get") >= 1


async def test_ingest_counts_records_by_outcome(opensearch_url: str, index_names: IndexNames, read_key: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    good = [{"id": f"m-{i}", "createdAt": now.isoformat(), "model": "gpt-4o"} for i in range(3)]
    bad = [{"id": "m-bad", "createdAt": now.isoformat(), "status": "teapot"}, {"model": "no id"}]
    older = {**good[0], "updatedAt": (now - timedelta(days=2)).isoformat()}
    async with served(opensearch_url, token_settings(index_names)) as api:
        headers = {"Authorization": read_key}
        params = {"refresh": "wait_for"}
        response = await api.post("/api/v1/ingest", json=[*good, *bad], headers=headers, params=params)
        assert (response.status, (await response.json())["accepted"]) == (207, 3)
        response = await api.post("/api/v1/ingest", json=[older], headers=headers, params=params)
        assert await response.json() == {"accepted": 1, "superseded": 1}
        text = await scrape(api)
    assert value(text, "llmsearch_ingest_records_total", outcome="accepted") == 3
    assert value(text, "llmsearch_ingest_records_total", outcome="superseded") == 1
    assert value(text, "llmsearch_ingest_records_total", outcome="rejected") == 2
    assert value(text, "llmsearch_engine_request_duration_seconds_count", endpoint="bulk") == 2


async def test_engine_failures_are_counted_by_kind(index_names: IndexNames, read_key: str, proxy: TcpProxy) -> None:
    url = f"http://127.0.0.1:{proxy.port}"
    async with served(url, token_settings(index_names, key_cache_seconds=60)) as api:
        headers = {"Authorization": read_key}
        assert (await api.get(LIST, headers=headers)).status == 200  # the key is cached from here on
        before = await scrape(api)
        assert value(before, "llmsearch_engine_errors_total", kind="connection") == 0

        proxy.reply = b"429"  # the engine rejects the work
        await proxy.cut()
        assert (await api.get(LIST, headers=headers)).status == 503
        proxy.reply = None
        await proxy.stop()  # the engine is gone
        for _ in range(2):
            assert (await api.get(LIST, headers=headers)).status == 503
        proxy.hang = True  # the engine accepts and never answers
        await proxy.start()
        assert (await api.get(LIST, headers=headers)).status == 503
        proxy.hang = False
        assert (await api.get(LIST, headers=headers)).status == 200
        after = await scrape(api)
    # At least: the app's start-up template check runs beside the requests and may have met a failure too.
    assert value(after, "llmsearch_engine_errors_total", kind="status_429") >= 1
    assert value(after, "llmsearch_engine_errors_total", kind="connection") >= 2
    assert value(after, "llmsearch_engine_errors_total", kind="timeout") >= 1
    assert value(after, "llmsearch_http_requests_total", route=LIST, method="GET", status="503") == 4
    # Failed calls are timed too: the hung one took about the query timeout.
    assert value(after, "llmsearch_engine_request_duration_seconds_sum", endpoint="search") >= 1.0
