"""Helpers of the observability tests: an app with its own engine client, and reading the metrics it exposes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from core.engine import make_service_client
from core.settings import OpenSearchSettings, ServiceSettings
from service.app import create_app
from tests.api_server import ApiTestServer

Api = TestClient[web.Request, web.Application]
METRICS_TOKEN = "metrics-token-0123456789"


@contextlib.asynccontextmanager
async def served(
    engine_url: str,
    settings: ServiceSettings,
    routes: Mapping[str, Callable[[web.Request], Awaitable[web.StreamResponse]]] | None = None,
) -> AsyncIterator[Api]:
    """The real app, built as `llmsearch serve` builds it (plus `routes`, GET), with an engine client of its own (so
    that the engine calls its metrics count are its own), through aiohttp's test client."""
    engine = make_service_client(engine_url, OpenSearchSettings(url=engine_url), settings)
    app = create_app(engine, settings)
    for path, handler in (routes or {}).items():
        app.router.add_get(path, handler)
    try:
        async with TestClient(ApiTestServer(app)) as api:
            yield api
    finally:
        await engine.close()


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text exposition, parsed by prometheus-client's own parser."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def value(exposition: str, name: str, **labels: str) -> float:
    """One sample's value; 0 when there is none (a labelled counter appears at its first increment)."""
    return samples(exposition).get((name, frozenset(labels.items())), 0.0)


async def scrape(api: Api, token: str = METRICS_TOKEN) -> str:
    response = await api.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200, await response.text()
    return await response.text()
