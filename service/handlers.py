"""Route handlers. A request's path: auth → parameters → query body (service.query) → OpenSearch → page."""

from __future__ import annotations

from aiohttp import web

from service.auth import tenant_of_request
from service.context import SERVICES
from service.errors import METHOD_NOT_ALLOWED, ApiError
from service.filters import FilterError
from service.openapi import openapi_spec
from service.page import PAGE_FILTER_PATH, render_page
from service.params import ParameterError, parse_query
from service.query import build_search_body
from service.query_string import QueryStringError, decode_query
from service.search_text import SearchError

ALLOWED_METHODS = ("GET", "HEAD")
# Below this, compressing costs more time than it saves on the wire.
COMPRESS_FROM_BYTES = 1024
JSON = "application/json"


async def list_requests(request: web.Request) -> web.Response:
    if request.method not in ALLOWED_METHODS:
        raise ApiError(405, METHOD_NOT_ALLOWED, {"Allow": ", ".join(ALLOWED_METHODS)})
    services = request.app[SERVICES]
    tenant = await tenant_of_request(request.headers.get("Authorization"), services.keys)
    try:
        pairs = decode_query(request.rel_url.raw_query_string)
        query = parse_query(dict(pairs), [name for name, _ in pairs])
        body = build_search_body(query, tenant)
    except (QueryStringError, ParameterError, SearchError) as error:
        raise ApiError(400, str(error)) from None
    except FilterError as error:
        raise ApiError(400, f"filter: {error}") from None
    result = await services.client.search(
        index=services.names.read_alias, body=body, filter_path=PAGE_FILTER_PATH
    )
    page = render_page(result, body["_source"])
    if len(page) > services.settings.max_response_bytes:
        raise ApiError(400, too_large(len(page), services.settings.max_response_bytes, query.pageSize))
    response = web.Response(body=page, content_type=JSON)
    if len(page) >= COMPRESS_FROM_BYTES:
        response.enable_compression()  # gzip or deflate when the client's Accept-Encoding asks; else as is
    return response


def too_large(size: int, limit: int, page_size: int) -> str:
    return (
        f"pageSize: this page is {size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit of one answer; "
        f"ask for fewer requests (pageSize, now {page_size}) or fewer fields (fields=id,createdAt,model,...)"
    )


async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(openapi_spec())


async def health(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    engine = await services.client.cluster.health()
    return web.json_response({"status": "ok", "engine": engine.get("status")})
