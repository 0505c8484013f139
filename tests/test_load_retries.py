"""Retries against real OpenSearch behind a fault-injecting HTTP proxy: whole bulk requests answered 503, 429 or
with a dropped connection, and single documents answered 429 or 503, are all retried with backoff; nothing is
lost, doubled or dead-lettered."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from opensearchpy import AsyncOpenSearch

from core.engine import make_client
from core.settings import OpenSearchSettings
from loaders.sources.ndjson import NdjsonSource
from tests.test_load_support import dead_letters, documents, fresh_index, options, request, run_load, write_ndjson

HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}


class FaultyProxy:
    """Forwards everything to the engine, except that the n-th bulk request meets the fault planned for it."""

    def __init__(self, upstream: str, faults: dict[int, str]) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults = faults
        self.bulk_requests = 0
        self.session: aiohttp.ClientSession | None = None

    async def handle(self, incoming: web.Request) -> web.StreamResponse:
        assert self.session is not None
        body = await incoming.read()
        fault = None
        if incoming.path.endswith("/_bulk"):
            self.bulk_requests += 1
            fault = self.faults.get(self.bulk_requests)
        if fault == "503":
            return web.json_response({"error": {"type": "unavailable"}, "status": 503}, status=503)
        if fault == "429":
            return web.json_response({"error": {"type": "es_rejected_execution_exception"}, "status": 429}, status=429)
        if fault == "drop":
            assert incoming.transport is not None
            incoming.transport.close()  # the client sees the connection die mid-request
            return web.Response(status=500)
        headers = {k: v for k, v in incoming.headers.items() if k.lower() not in HOP_HEADERS}
        async with self.session.request(
            incoming.method, self.upstream + incoming.path_qs, data=body, headers=headers
        ) as upstream:
            payload = await upstream.read()
            status = upstream.status
            content_type = upstream.headers.get("content-type", "application/json")
        if fault in ("item-503", "item-429") and status == 200:
            # The engine did index the first document; telling the client otherwise forces a resend (an update).
            answer = json.loads(payload)
            (item,) = answer["items"][0].values()
            code = 503 if fault == "item-503" else 429
            item.update(status=code, error={"type": "injected", "reason": f"injected {code}"})
            answer["errors"] = True
            payload = json.dumps(answer).encode()
        return web.Response(body=payload, status=status, headers={"content-type": content_type})


@pytest.fixture
async def proxy_url(opensearch_url: str) -> AsyncIterator[tuple[str, FaultyProxy]]:
    proxy = FaultyProxy(opensearch_url, {1: "503", 2: "drop", 3: "429", 4: "item-503", 5: "item-429"})
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as session:
        proxy.session = session
        yield f"http://127.0.0.1:{port}", proxy
    await runner.cleanup()


async def test_transient_failures_are_retried_not_rejected(
    client: AsyncOpenSearch, proxy_url: tuple[str, FaultyProxy], tmp_path: Path
) -> None:
    url, proxy = proxy_url
    path = write_ndjson(tmp_path / "retry.ndjson", [request(n) for n in range(600)])
    dead = tmp_path / "dead.ndjson"
    flaky = make_client(url, OpenSearchSettings(url=url, timeout_seconds=30))
    try:
        async with fresh_index(client) as names:
            opts = options(tmp_path, dead_letter_path=dead, chunk_size=100, concurrency=1, initial_backoff=0.05)
            result = await run_load(NdjsonSource(path, 1 << 20), flaky, names, "acme", opts)
            assert result.counts.rejected == 0 and result.counts.indexed == 600
            assert result.request_retries == 2  # 503, dropped connection (429s are the helper's own retries)
            assert result.document_retries >= 1  # the document answered 503 (and the 429 one, if the helper gave up)
            assert proxy.bulk_requests >= 6 + 3  # six chunks, plus the resent ones
            assert len(await documents(client, names)) == 600
    finally:
        await flaky.close()
    assert dead_letters(dead) == []
