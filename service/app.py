"""The aiohttp application: routes, the error middleware, and start-up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import OpenSearchException

from core.engine import observe_engine_calls
from core.settings import ServiceSettings
from core.templates import IndexNames, apply_templates
from service.analytics.handler import analytics
from service.context import SERVICES, Services
from service.docs import DOCS_PATH, SCRIPT_PATH, docs_page, redoc_script
from service.engine_errors import answer_engine_failure
from service.errors import ApiError, http_error, json_error
from service.export_api import export_requests
from service.handlers import list_requests, openapi_document
from service.ingest.handler import INGEST_GATE, ingest
from service.keys import KeyStore
from service.observability.access import observe_requests, send_request_id
from service.observability.health import add_health_routes
from service.observability.metrics import METRICS, ServiceMetrics, add_metrics_route
from service.page_routes import add_page_routes
from service.request_by_id import get_request
from service.secret import CURSOR_SECRET, CursorSecret
from service.server import HTTP_PARSER_LIMITS

log = logging.getLogger(__name__)
TEMPLATE_RETRY_SECONDS = 2.0
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as `{"error": ...}`; engine trouble as 503 (logged once per kind per interval, without a
    traceback: service.engine_errors); anything unexpected as a 500 logged with its traceback."""
    try:
        return await handler(request)
    except ApiError as error:
        return json_error(error.status, error.message, error.headers)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return http_error(error)
    except (TimeoutError, OpenSearchException) as error:
        api_error = answer_engine_failure(error)
        if api_error is None:
            raise
        return json_error(api_error.status, api_error.message, api_error.headers)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path_qs)
        return json_error(500, "Internal error; it has been logged.")


async def _ensure_templates(services: Services) -> None:
    """Apply the index templates (and add new fields to older indices), retrying while the engine is away so
    start-up never fails on it."""
    while True:
        try:
            for update in await apply_templates(services.client, services.names):
                log.info("index %s: added %s to its mapping", update.index, ", ".join(update.added))
            return
        except (TimeoutError, OpenSearchException, OSError) as error:
            log.warning("could not check index templates yet (%s); retrying", error)
            await asyncio.sleep(TEMPLATE_RETRY_SECONDS)


async def _template_context(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_ensure_templates(app[SERVICES]))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _engine_metrics_context(app: web.Application) -> AsyncIterator[None]:
    """The app's metrics see its client's engine calls while it runs (only then: a test's client outlives apps)."""
    stop = observe_engine_calls(app[SERVICES].client, app[METRICS].engine_call)
    yield
    stop()


def create_app(client: AsyncOpenSearch, settings: ServiceSettings) -> web.Application:
    names = IndexNames(settings.index_prefix)
    metrics = ServiceMetrics()
    # The observing middleware first (outermost): it sees the answer the error middleware makes of an error.
    app = web.Application(middlewares=[observe_requests(metrics), error_middleware], handler_args=HTTP_PARSER_LIMITS)
    app[METRICS] = metrics
    app[SERVICES] = Services(
        client=client,
        names=names,
        keys=KeyStore(client, names, settings.key_cache_seconds, on_lookup=metrics.key_looked_up),
        settings=settings,
    )
    app.on_response_prepare.append(send_request_id)
    app[CURSOR_SECRET] = CursorSecret(client, names, settings.cursor_secret)
    app.router.add_route("*", "/api/v1/requests", list_requests)
    app.router.add_route("*", "/api/v1/export", export_requests)
    app.router.add_route("*", "/api/v1/requests/{id}", get_request)  # `{id}` stops at `/`: one path segment
    app.router.add_route("*", "/api/v1/analytics", analytics)
    app.router.add_route("*", "/api/v1/ingest", ingest)
    app[INGEST_GATE] = asyncio.Semaphore(settings.ingest_concurrency)
    app.router.add_get("/api/v1/openapi.json", openapi_document)
    app.router.add_get(DOCS_PATH, docs_page)
    app.router.add_get(SCRIPT_PATH, redoc_script)
    add_health_routes(app)  # /healthz, /readyz
    add_metrics_route(app, settings)  # /metrics, with LLMSEARCH_METRICS=token only
    add_page_routes(app)  # the page at `/`, its files under `/app/`, `/api/v1/schema` and `/api/v1/me`
    app.cleanup_ctx.append(_engine_metrics_context)
    app.cleanup_ctx.append(_template_context)
    return app
