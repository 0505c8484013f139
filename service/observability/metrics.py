"""The service's Prometheus metrics, and where `GET /metrics` serves them.

Each app has a registry of its own (not prometheus-client's global one), so apps built side by side in one
process (the tests) count apart. Every label takes a few known values only: routes are the route patterns
(`/api/v1/requests/{id}`, `unmatched` for paths no route knows), methods the standard ones (`other` for the rest),
engine endpoints and failures a handful of kinds (core.engine), so no client can make series without end.

Where it is served (`LLMSEARCH_METRICS`): `port` (default), on a listener of its own at
`LLMSEARCH_HOST`:`LLMSEARCH_METRICS_PORT`, never on the API port; `token`, on the API port for
`Authorization: Bearer <LLMSEARCH_METRICS_TOKEN>` only; `off`, nowhere.
"""

from __future__ import annotations

import errno
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from core.settings import ServiceSettings
from service.errors import ApiError, http_error
from service.server import ApiRunner

log = logging.getLogger(__name__)
METRICS_PATH = "/metrics"
# From 1 ms: most answers take a few milliseconds, and the default buckets (from 5 ms) would lump them together.
SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
INVALID_TOKEN = "Metrics need `Authorization: Bearer <LLMSEARCH_METRICS_TOKEN>`."
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ServiceMetrics:
    """The metrics of one app, and what updates them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._requests = Counter(
            "llmsearch_http_requests",
            "HTTP requests answered, by route pattern, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self._request_seconds = Histogram(
            "llmsearch_http_request_duration_seconds",
            "Time from receiving a request to the end of its answer (streams included), by route pattern.",
            ["route"],
            buckets=SECONDS_BUCKETS,
            registry=registry,
        )
        self._engine_seconds = Histogram(
            "llmsearch_engine_request_duration_seconds",
            "OpenSearch calls (with any retries on other hosts), by kind of endpoint: search, count, get, bulk, "
            "point_in_time, other.",
            ["endpoint"],
            buckets=SECONDS_BUCKETS,
            registry=registry,
        )
        self._engine_errors = Counter(
            "llmsearch_engine_errors",
            "Failed OpenSearch calls, by kind: timeout, connection, status_<code> (404 includes looking up an "
            "unknown API key), other.",
            ["kind"],
            registry=registry,
        )
        self._ingest_records = Counter(
            "llmsearch_ingest_records",
            "Records sent to POST /api/v1/ingest, by outcome: accepted (stored as the newest version), superseded "
            "(accepted, but older than the version already stored), rejected (not stored; the answer lists them).",
            ["outcome"],
            registry=registry,
        )
        self._key_cache = Counter(
            "llmsearch_key_cache",
            "API key look-ups, by whether the key cache answered (hit) or OpenSearch was asked (miss).",
            ["result"],
            registry=registry,
        )
        # The labelled series the hot path updates, by their labels: `labels()` checks and locks on every call,
        # which was most of the cost per request (the labels take few values, so these stay small).
        self._served: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._engine_calls: dict[str, Any] = {}
        # Each outcome from the start, at 0, so that rate() sees the first one.
        self._ingested = {outcome: self._ingest_records.labels(outcome) for outcome in ("accepted", "superseded")}
        self._rejected = self._ingest_records.labels("rejected")
        self._cache_hit = self._key_cache.labels("hit")
        self._cache_miss = self._key_cache.labels("miss")
        ProcessCollector(registry=registry)  # memory, CPU, open files: read at scrape time only
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)

    def request_served(self, route: str, method: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        series = self._served.get((route, method, status))
        if series is None:
            series = (self._requests.labels(route, method, str(status)), self._request_seconds.labels(route))
            self._served[route, method, status] = series
        series[0].inc()
        series[1].observe(seconds)

    def engine_call(self, endpoint: str, seconds: float, error: str | None) -> None:
        """A core.engine.EngineCallObserver."""
        histogram = self._engine_calls.get(endpoint)
        if histogram is None:
            histogram = self._engine_calls[endpoint] = self._engine_seconds.labels(endpoint)
        histogram.observe(seconds)
        if error is not None:
            self._engine_errors.labels(error).inc()

    def records_ingested(self, accepted: int, superseded: int, rejected: int) -> None:
        """`accepted` as the ingest answer counts it, superseded records included."""
        self._ingested["accepted"].inc(accepted - superseded)
        self._ingested["superseded"].inc(superseded)
        self._rejected.inc(rejected)

    def key_looked_up(self, cached: bool) -> None:
        (self._cache_hit if cached else self._cache_miss).inc()

    def exposition(self, accept: str) -> tuple[bytes, str]:
        """The metrics in the format `accept` asks for (the Prometheus text format unless it asks for OpenMetrics),
        and its content type."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type


METRICS = web.AppKey("metrics", ServiceMetrics)


async def metrics_endpoint(request: web.Request) -> web.Response:
    body, content_type = request.app[METRICS].exposition(request.headers.get("Accept", ""))
    return web.Response(body=body, headers={"Content-Type": content_type})


def token_protected(token: str) -> Handler:
    """`metrics_endpoint` for `Authorization: Bearer <token>` only; anything else is a 401."""
    expected = f"Bearer {token}".encode()

    async def protected(request: web.Request) -> web.StreamResponse:
        presented = request.headers.get("Authorization", "").encode("utf-8", "surrogatepass")
        if not hmac.compare_digest(presented, expected):  # constant time: the token cannot be guessed bytewise
            raise ApiError(401, INVALID_TOKEN, {"WWW-Authenticate": 'Bearer realm="metrics"'})
        return await metrics_endpoint(request)

    return protected


def add_metrics_route(app: web.Application, settings: ServiceSettings) -> None:
    """`/metrics` on the API port: only with `LLMSEARCH_METRICS=token` (otherwise the path is a JSON 404 there)."""
    if settings.metrics == "token" and settings.metrics_token is not None:
        app.router.add_get(METRICS_PATH, token_protected(settings.metrics_token.get_secret_value()))


@web.middleware
async def _json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The metrics listener answers its errors (another path, another method) as JSON too."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return http_error(error)


def metrics_app(metrics: ServiceMetrics) -> web.Application:
    """The metrics listener's app: `GET /metrics` and nothing else."""
    app = web.Application(middlewares=[_json_errors])
    app[METRICS] = metrics
    app.router.add_get(METRICS_PATH, metrics_endpoint)
    return app


async def start_metrics_listener(metrics: ServiceMetrics, settings: ServiceSettings) -> web.AppRunner | None:
    """With `LLMSEARCH_METRICS=port`, serve `metrics` at `host`:`metrics_port` (the caller cleans the runner up).

    A port already taken is logged as an error and the API is served without it: metrics are for watching the
    service, and several services on one machine (benchmarks, tests) must not stop each other from starting."""
    if settings.metrics != "port":
        return None
    runner = ApiRunner(metrics_app(metrics))
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.metrics_port).start()
    except OSError as error:
        await runner.cleanup()
        if error.errno != errno.EADDRINUSE:
            raise
        log.error(
            "metrics are not served: port %d on %s is taken (%s); set LLMSEARCH_METRICS_PORT to a free one",
            settings.metrics_port,
            settings.host,
            error.strerror,
        )
        return None
    log.info("metrics at http://%s:%d%s", settings.host, settings.metrics_port, METRICS_PATH)
    return runner
