"""The route: auth → parameters → service.analytics.run → JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from core.routing import tenant_routing
from service.analytics.params import parse_analytics
from service.analytics.run import aggregate
from service.auth import tenant_of_request
from service.context import SERVICES
from service.errors import METHOD_NOT_ALLOWED, ApiError
from service.filters import FilterError
from service.handlers import COMPRESS_FROM_BYTES, JSON
from service.params import ParameterError
from service.query_string import QueryStringError, decode_query
from service.search_text import SearchError

ALLOWED_METHODS = ("GET", "HEAD")


async def analytics(request: web.Request) -> web.Response:
    if request.method not in ALLOWED_METHODS:
        raise ApiError(405, METHOD_NOT_ALLOWED, {"Allow": ", ".join(ALLOWED_METHODS)})
    services = request.app[SERVICES]
    tenant = await tenant_of_request(request.headers.get("Authorization"), services.keys)
    try:
        query = parse_analytics(decode_query(request.rel_url.raw_query_string))
    except (QueryStringError, ParameterError) as error:
        raise ApiError(400, str(error)) from None

    async def search(body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await services.client.search(
            index=services.names.read_alias, body=body, routing=tenant_routing(tenant)
        )
        return result

    try:
        result = await aggregate(search, query, tenant, datetime.now(UTC))
    except (ParameterError, SearchError) as error:
        raise ApiError(400, str(error)) from None
    except FilterError as error:
        raise ApiError(400, f"filter: {error}") from None
    body = orjson.dumps(result)
    response = web.Response(body=body, content_type=JSON)
    if len(body) >= COMPRESS_FROM_BYTES:
        response.enable_compression()  # gzip or deflate when the client's Accept-Encoding asks; else as is
    return response
