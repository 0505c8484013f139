"""The Python client against the real service and node: batching and results, 429 and 503 through the fault proxy
(retried until acknowledged), and a service killed with SIGKILL mid-stream: every record ends acknowledged and
present, or reported failed; none is acknowledged and absent."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from opensearchpy import AsyncOpenSearch
from opensearchpy.helpers import async_scan

from bench.api import start_service
from client import AsyncClient, Client
from core.engine import make_client
from core.settings import OpenSearchSettings, ServiceSettings
from core.templates import IndexNames
from service.app import create_app
from service.keys import KeyStore, Scope
from service.server import ApiRunner
from tests.live_server import free_port, live_service
from tests.tcp_proxy import TcpProxy

TENANT = "client-tenant"
START = datetime(2026, 6, 1, tzinfo=UTC)


def records(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{prefix}-{i}",
            "createdAt": (START + timedelta(seconds=i)).isoformat(),
            "model": "gpt-4o",
            "status": 200,
            "user_id": f"u{i % 5}",
            "request_body": {"messages": [{"role": "user", "content": f"{prefix} message {i}"}]},
            "completion": f"{prefix} reply {i}",
            "prompt_tokens": 12,
            "completion_tokens": 3,
        }
        for i in range(count)
    ]


@pytest.fixture(scope="module")
async def write_key(keys: KeyStore) -> str:
    key, _ = await keys.create(TENANT, "client", frozenset({Scope.READ, Scope.WRITE}))
    return key


async def stored_ids(client: AsyncOpenSearch, names: IndexNames, prefix: str) -> set[str]:
    await client.indices.refresh(index=names.read_alias)
    query = {"query": {"prefix": {"id": prefix + "-"}}, "_source": ["id"]}
    return {hit["_source"]["id"] async for hit in async_scan(client, index=names.read_alias, query=query)}


async def stored_count(client: AsyncOpenSearch, names: IndexNames, prefix: str) -> int:
    found = await client.count(index=names.read_alias, body={"query": {"prefix": {"id": prefix + "-"}}})
    return int(found["count"])


async def test_ingest_batches_and_reports_each_record(
    opensearch_url: str, index_names: IndexNames, write_key: str, client: AsyncOpenSearch
) -> None:
    settings = ServiceSettings(index_prefix=index_names.prefix, key_cache_seconds=0)
    batch = [*records("batch", 250), {"id": "bad", "createdAt": "yesterday"}]
    with live_service(opensearch_url, settings) as url:
        async with AsyncClient(url, write_key, batch_records=100) as api:
            results = await api.ingest(batch, refresh=True)
            assert results.accepted == 250
            (failed,) = results.failed
            assert (failed.index, failed.id) == (250, "bad") and "createdAt" in (failed.error or "")
            page = await api.search(search="batch reply", pageSize=1)
            assert page["totalCount"] == 250
            chart = await api.analytics(from_="2026-06-01T00:00:00Z", to="2026-06-01T01:00:00Z", metrics=["count"])
            assert chart["totals"]["count"] == 250
        sync = Client(url, write_key)  # for code without an event loop: here, a thread of its own
        assert (await asyncio.to_thread(sync.search, search="batch reply 7", pageSize=1))["totalCount"] == 1
        found = await asyncio.to_thread(sync.get, "batch-7", fields="completion")
        assert found["completion"] == "batch reply 7"
    assert len(await stored_ids(client, index_names, "batch")) == 250


async def _serve_through(proxy: TcpProxy, settings: ServiceSettings) -> tuple[web.AppRunner, str, AsyncOpenSearch]:
    engine = make_client(f"http://127.0.0.1:{proxy.port}", OpenSearchSettings(timeout_seconds=5))
    runner = ApiRunner(create_app(engine, settings))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}", engine


@pytest.mark.parametrize("fault", ["busy", "down"])
async def test_a_busy_or_absent_engine_is_retried_until_acknowledged(
    proxy: TcpProxy, index_names: IndexNames, write_key: str, client: AsyncOpenSearch, fault: str
) -> None:
    """The engine answers 429 (busy), or nothing at all (down), for a while; the service passes on 429 or 503 with
    Retry-After, and the client sends again until every record is acknowledged."""
    settings = ServiceSettings(index_prefix=index_names.prefix, key_cache_seconds=0)
    runner, url, engine = await _serve_through(proxy, settings)
    prefix = f"fault-{fault}"
    statuses: list[int] = []
    try:
        async with AsyncClient(url, write_key, backoff=0.2, max_backoff=0.5, max_retries=20) as api:
            await api.search(pageSize=1)  # the key is looked up (and cached) before the engine goes away
            if fault == "busy":
                proxy.reply = b"429"
            else:
                proxy.refuse = True
            await proxy.cut()
            sending = asyncio.create_task(api.ingest(records(prefix, 40)))
            await asyncio.sleep(1.5)
            statuses = list(proxy.replied)
            proxy.reply = None
            proxy.refuse = False
            results = await sending
        assert results.accepted == 40 and not results.failed
        if fault == "busy":
            assert statuses, "the proxy answered 429 at least once"
    finally:
        await runner.cleanup()
        await engine.close()
    assert len(await stored_ids(client, index_names, prefix)) == 40


# The service as its own process (bench.api's start), so it can be killed like one; key lookups not cached.
NO_KEY_CACHE = {"LLMSEARCH_KEY_CACHE_SECONDS": "0"}


async def test_sigkill_mid_stream_loses_no_acknowledged_record(
    opensearch_url: str, index_names: IndexNames, write_key: str, client: AsyncOpenSearch, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "service.log"
    process = start_service(opensearch_url, index_names.prefix, port, log, env=NO_KEY_CACHE)
    batch = records("crash", 20_000)
    try:
        async with AsyncClient(url, write_key, batch_records=50, backoff=0.3, max_backoff=1.0, max_retries=30) as api:
            sending = asyncio.create_task(api.ingest(batch))
            while await stored_count(client, index_names, "crash") < 500:  # well into the stream
                await asyncio.sleep(0.05)
            assert not sending.done(), "the stream was still going when the service was killed"
            process.send_signal(signal.SIGKILL)
            process.wait()
            await asyncio.sleep(1.0)
            process = await asyncio.to_thread(
                start_service, opensearch_url, index_names.prefix, port, log, env=NO_KEY_CACHE
            )
            results = await sending
    finally:
        process.kill()
        process.wait()
    acknowledged = {r.id for r in results.records if r.ok}
    stored = await stored_ids(client, index_names, "crash")
    assert len(results.records) == len(batch)
    assert acknowledged <= stored, f"acknowledged but absent: {sorted(map(str, acknowledged - stored))[:5]}"
    failed = [r for r in results.records if not r.ok]
    assert not failed, f"with the service back, the retries get every record through: {failed[:3]}"
    assert len(stored) == len(batch)
