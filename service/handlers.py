"""Route handlers. A request's path: auth → parameters (and cursor) → query body (service.query) → OpenSearch →
page (and the next cursor)."""

from __future__ import annotations

from aiohttp import web

from service.answer_size import refuse_oversized_page, too_large
from service.auth import tenant_of_request
from service.context import SERVICES
from service.cursor import INVALID_CURSOR, CursorError, issue_cursor, read_cursor
from service.errors import METHOD_NOT_ALLOWED, ApiError
from service.filters import FilterError
from service.openapi import openapi_spec
from service.page import PAGE_FILTER_PATH, read_page, render_page
from service.params import ParameterError, parse_query
from service.query import build_search_body
from service.query_string import QueryStringError, decode_query
from service.search_text import SearchError
from service.secret import CURSOR_SECRET

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
    try:
        pairs = decode_query(request.rel_url.raw_query_string)
        query = parse_query(dict(pairs), [name for name, _ in pairs])
        after = None
        if query.cursor is not None:
            after = read_cursor(query.cursor, query, tenant, await secret.key())
        body = build_search_body(query, tenant, after)
    except (QueryStringError, ParameterError, SearchError) as error:
        raise ApiError(400, str(error)) from None
    except FilterError as error:
        raise ApiError(400, f"filter: {error}") from None
    except CursorError:
        raise ApiError(400, INVALID_CURSOR) from None
    limit = services.settings.max_response_bytes
    await refuse_oversized_page(services.client, services.names.read_alias, body, query.pageSize, limit)
    result = await services.client.search(index=services.names.read_alias, body=body, filter_path=PAGE_FILTER_PATH)
    engine_page = read_page(result, query.pageSize, query.offset if after is None else None)
    next_cursor = None
    if engine_page.continue_after is not None:
        next_cursor = issue_cursor(engine_page.continue_after, query, tenant, await secret.key())
    page = render_page(engine_page, body["_source"], next_cursor)
    if len(page) > limit:
        raise too_large(len(page), limit, query.pageSize)
    response = web.Response(body=page, content_type=JSON)
    if len(page) >= COMPRESS_FROM_BYTES:
        response.enable_compression()  # gzip or deflate when the client's Accept-Encoding asks; else as is
    return response


async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(openapi_spec())


async def health(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    engine = await services.client.cluster.health()
    return web.json_response({"status": "ok", "engine": engine.get("status")})
