"""Route handlers. A request's path: auth → parameters (and cursor) → query body (service.query) → OpenSearch →
page (and the next cursor)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from opensearchpy.exceptions import TransportError

from core.routing import tenant_routing
from core.settings import ServiceSettings
from service.answer_size import refuse_oversized_page, too_large
from service.auth import tenant_of_request
from service.context import SERVICES, Services
from service.cursor import (
    INVALID_CURSOR,
    KEEP_ALIVE,
    CursorError,
    Position,
    issue_cursor,
    needs_point_in_time,
    read_cursor,
)
from service.cursor_pit import close_point_in_time, expired_cursor_error, open_point_in_time
from service.errors import METHOD_NOT_ALLOWED, ApiError
from service.filters import FilterError
from service.highlight import add_highlight, take_highlight
from service.openapi import openapi_spec
from service.page import PAGE_FILTER_PATH, EnginePage, read_page, render_page
from service.params import ParameterError, RequestsQuery, parse_query
from service.query import build_search_body, with_point_in_time
from service.query_string import QueryStringError, decode_query
from service.search_text import SearchError
from service.secret import CURSOR_SECRET, CursorSecret

ALLOWED_METHODS = ("GET", "HEAD")
# Below this, compressing costs more time than it saves on the wire.
COMPRESS_FROM_BYTES = 1024
JSON = "application/json"


async def list_requests(request: web.Request) -> web.Response:
    if request.method not in ALLOWED_METHODS:
        raise ApiError(405, METHOD_NOT_ALLOWED, {"Allow": ", ".join(ALLOWED_METHODS)})
    services = request.app[SERVICES]
    secret = request.app[CURSOR_SECRET]
    tenant = await tenant_of_request(request.headers.get("Authorization"), services.keys)
    query, position, body = await _parse_list_request(request, tenant, secret)
    pit_id = position.pit_id if position is not None else None
    opened = None
    if pit_id is None and needs_point_in_time(query):
        # The first page of a relevance search is served from the PIT too, so that every page scores alike.
        # Opened only now that the request is valid: a refused one costs the engine nothing.
        pit_id = opened = await open_point_in_time(services.client, services.names.read_alias, tenant_routing(tenant))
    try:
        engine_page = await _search_page(services, query, body, pit_id, tenant, offset=position is None)
    except BaseException:
        if opened is not None:
            await close_point_in_time(services.client, opened)
        raise
    next_cursor = None
    if engine_page.continue_after is not None:
        next_cursor = issue_cursor(engine_page.continue_after, query, tenant, await secret.key(), pit_id)
    elif pit_id is not None:
        await close_point_in_time(services.client, pit_id)  # the last page: nothing will use it again
    highlight = "highlight" in body
    return _page_response(engine_page, body["_source"], next_cursor, query.pageSize, services.settings, highlight)


async def _parse_list_request(
    request: web.Request, tenant: str, secret: CursorSecret
) -> tuple[RequestsQuery, Position | None, dict[str, Any]]:
    """The parameters, the cursor's position (None without one) and the search body; every problem a 400."""
    try:
        highlight, pairs = take_highlight(decode_query(request.rel_url.raw_query_string))
        query = parse_query(dict(pairs), [name for name, _ in pairs])
        position = None if query.cursor is None else read_cursor(query.cursor, query, tenant, await secret.key())
        body = build_search_body(query, tenant, None if position is None else position.after)
        if highlight:
            add_highlight(body)
    except (QueryStringError, ParameterError, SearchError) as error:
        raise ApiError(400, str(error)) from None
    except FilterError as error:
        raise ApiError(400, f"filter: {error}") from None
    except CursorError:
        raise ApiError(400, INVALID_CURSOR) from None
    return query, position, body


async def _search_page(
    services: Services, query: RequestsQuery, body: dict[str, Any], pit_id: str | None, tenant: str, *, offset: bool
) -> EnginePage:
    """The page `body` asks for, from the point in time `pit_id` when there is one (opened on the tenant's shards),
    else from the read alias on the tenant's shards (core.routing)."""
    limit = services.settings.max_response_bytes
    if pit_id is None:
        index, routing = services.names.read_alias, tenant_routing(tenant)
        await refuse_oversized_page(services.client, index, body, query.pageSize, limit, routing)
        result = await services.client.search(index=index, body=body, filter_path=PAGE_FILTER_PATH, routing=routing)
    else:
        body = with_point_in_time(body, pit_id, KEEP_ALIVE)
        try:
            await refuse_oversized_page(services.client, None, body, query.pageSize, limit)
            # Not partial: a shard whose context is gone would otherwise leave its requests out of the page.
            result = await services.client.search(
                body=body, filter_path=PAGE_FILTER_PATH, allow_partial_search_results=False
            )
        except TransportError as error:
            expired = expired_cursor_error(error)
            if expired is None:
                raise
            raise expired from None
    return read_page(result, query.pageSize, query.offset if offset else None)


def _page_response(
    engine_page: EnginePage,
    fields: list[str],
    next_cursor: str | None,
    page_size: int,
    settings: ServiceSettings,
    highlight: bool = False,
) -> web.Response:
    page = render_page(engine_page, fields, next_cursor, highlight)
    limit = settings.max_response_bytes
    if len(page) > limit:
        raise too_large(len(page), limit, page_size)
    response = web.Response(body=page, content_type=JSON)
    if len(page) >= COMPRESS_FROM_BYTES:
        response.enable_compression()  # gzip or deflate when the client's Accept-Encoding asks; else as is
    return response


async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(openapi_spec())
