"""`/healthz` and `/readyz` on a real app and node: liveness never asks the engine; readiness says what is missing
or why the engine cannot be asked, fast, as JSON."""

from __future__ import annotations

import asyncio
import time
import uuid

from opensearchpy import AsyncOpenSearch

from core.settings import ServiceSettings
from core.templates import IndexNames, delete_all
from service.observability.health import missing_parts
from tests.observability import Api, served
from tests.tcp_proxy import TcpProxy

# A hung engine: readiness answers within the service's query timeout (1.5 s by default) and a margin.
FAST_503_SECONDS = 2.0


async def test_healthz_makes_no_engine_call(index_names: IndexNames, proxy: TcpProxy) -> None:
    proxy.refuse = True  # every connection to the engine is closed at once
    async with served(f"http://127.0.0.1:{proxy.port}", ServiceSettings(index_prefix=index_names.prefix)) as api:
        for _ in range(3):
            response = await api.get("/healthz")
            assert (response.status, await response.json()) == (200, {"status": "ok"})
        await proxy.stop()  # nothing listens at all
        assert (await api.get("/healthz")).status == 200
        proxy.refuse, proxy.hang = False, True  # the engine accepts and never answers: a call would wait 1.5 s
        await proxy.start()
        started = time.monotonic()
        response = await api.get("/healthz")
        assert (response.status, await response.json()) == (200, {"status": "ok"})
        assert time.monotonic() - started < 0.5
        assert (await api.get("/readyz")).status == 503  # while readiness, which asks, is not


async def test_readyz_on_a_ready_prefix(opensearch_url: str, index_names: IndexNames) -> None:
    async with served(opensearch_url, ServiceSettings(index_prefix=index_names.prefix)) as api:
        response = await api.get("/readyz")
        assert response.status == 200
        assert await response.json() == {"status": "ready"}
        # Unauthenticated, and the same for HEAD (a load balancer's probe).
        assert (await api.head("/readyz")).status == 200


async def test_readyz_names_what_is_missing(opensearch_url: str, client: AsyncOpenSearch) -> None:
    never = IndexNames(f"test-never-{uuid.uuid4().hex[:8]}")
    assert await missing_parts(client, never) == [
        f"index template {never.prefix}-requests",
        f"index template {never.prefix}-keys",
        f"read alias {never.read_alias}",
        f"write alias {never.write_alias}",
        f"keys index {never.keys_index}",
    ]

    names = IndexNames(f"test-ready-{uuid.uuid4().hex[:8]}")
    try:
        async with served(opensearch_url, ServiceSettings(index_prefix=names.prefix)) as api:
            await ready(api)  # the app applied the templates at start
            await client.indices.delete_alias(index=names.first_index, name=names.write_alias)
            await client.indices.delete_index_template(name=f"{names.prefix}-requests")
            response = await api.get("/readyz")
            assert response.status == 503
            assert response.content_type == "application/json"
            assert await response.json() == {
                "error": f"Not ready: missing index template {names.prefix}-requests, write alias "
                f"{names.write_alias} (applied at start; see the service's log)."
            }
    finally:
        await delete_all(client, names)


async def ready(api: Api) -> None:
    deadline = time.monotonic() + 30
    while (await api.get("/readyz")).status != 200:
        assert time.monotonic() < deadline, "not ready within 30 s"
        await asyncio.sleep(0.1)


async def test_readyz_is_a_503_with_the_reason_when_the_engine_is_down(
    index_names: IndexNames, proxy: TcpProxy
) -> None:
    async with served(f"http://127.0.0.1:{proxy.port}", ServiceSettings(index_prefix=index_names.prefix)) as api:
        assert (await api.get("/readyz")).status == 200
        await proxy.stop()
        response = await api.get("/readyz")
        assert response.status == 503
        assert response.headers["Retry-After"] == "1"
        body = await response.json()
        assert set(body) == {"error"} and "Not ready" in body["error"] and "unavailable" in body["error"]
        assert (await api.get("/healthz")).status == 200  # alive all the same: no restart would help

        proxy.hang = True
        await proxy.start()
        started = time.monotonic()
        response = await api.get("/readyz")
        assert response.status == 503 and "timed out" in (await response.json())["error"]
        assert time.monotonic() - started < FAST_503_SECONDS

        proxy.hang = False
        await proxy.cut()
        assert (await api.get("/readyz")).status == 200  # back by itself
