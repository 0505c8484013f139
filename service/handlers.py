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
    return web.Response(body=render_page(result, body["_source"]), content_type=JSON)


async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(openapi_spec())


async def health(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    engine = await services.client.cluster.health()
    return web.json_response({"status": "ok", "engine": engine.get("status")})
