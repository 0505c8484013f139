"""The outermost middleware: gives each request its id, then counts, times and logs it.

One access line per request, a JSON object (service.observability.logs): `request_id`, `method`, `route` (the route
pattern, not the path: no ids or other client data, and few distinct values), `status`, `duration_ms`, `tenant` and
`key_id` (the id `llmsearch keys list` shows; never the key, and never a body). Probes and scrapes (`/healthz`,
`/readyz`, `/metrics`) are counted but not logged: they come every few seconds and say nothing new.

It wraps the error middleware, so it sees every answer as sent, errors included. The request id goes out in the
`X-Request-Id` header of every answer, added as the answer's headers are sent (`on_response_prepare`): a streamed
answer (the export) sends them before its handler returns.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from service.observability.logs import FIELDS
from service.observability.metrics import METRICS_PATH, ServiceMetrics
from service.observability.request_context import (
    REQUEST_ID,
    REQUEST_ID_HEADER,
    RequestFacts,
    done_serving,
    request_id_for,
    serving,
)

ACCESS_LOGGER = "llmsearch.access"
UNMATCHED = "unmatched"  # the route of a path that no route matches
QUIET_ROUTES = frozenset({"/healthz", "/readyz", METRICS_PATH})
CLIENT_CLOSED = 499  # the client went away before its answer (the status nginx logs for it)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

access_log = logging.getLogger(ACCESS_LOGGER)


def route_of(request: web.Request) -> str:
    """The pattern of the route that served `request` (`/api/v1/requests/{id}`), or `unmatched`."""
    resource = request.match_info.route.resource
    return UNMATCHED if resource is None else resource.canonical


def observe_requests(metrics: ServiceMetrics) -> Middleware:
    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        facts = RequestFacts(request_id_for(request.headers.get(REQUEST_ID_HEADER)))
        request[REQUEST_ID] = facts.request_id
        token = serving(facts)
        started = time.perf_counter()
        status = 500  # what the protocol handler answers for an exception that escapes (there should be none)
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as answer:  # a redirect, which the error middleware lets through
            status = answer.status
            raise
        except asyncio.CancelledError:
            status = CLIENT_CLOSED
            raise
        finally:
            seconds = time.perf_counter() - started
            route = route_of(request)
            metrics.request_served(route, request.method, status, seconds)
            if route not in QUIET_ROUTES and access_log.isEnabledFor(logging.INFO):
                _log_access(facts, request.method, route, status, seconds)
            done_serving(token)

    return observe


def _log_access(facts: RequestFacts, method: str, route: str, status: int, seconds: float) -> None:
    fields = {
        "request_id": facts.request_id,
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "tenant": facts.tenant,
        "key_id": facts.key_id,
    }
    # The record made and handled directly: `info()` would also look up the caller's file and line in the stack
    # (a fifth of the line's cost), which no access line shows.
    record = access_log.makeRecord(ACCESS_LOGGER, logging.INFO, "", 0, "request", (), None, extra={FIELDS: fields})
    access_log.handle(record)


async def send_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: the request's id in the answer's headers."""
    request_id = request.get(REQUEST_ID)
    if request_id is not None:
        response.headers[REQUEST_ID_HEADER] = request_id
