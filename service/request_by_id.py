"""`GET /api/v1/requests/{id}`: one request of the caller's tenant, or 404.

Another tenant's request with that id is a 404 too, with the same body: the lookup is a search confined to the
caller's tenant (service.query), so the answer cannot tell "theirs" from "nobody's".
"""

from __future__ import annotations

import orjson
from aiohttp import web

from core.documents import MAX_ID_LENGTH
from core.routing import tenant_routing
from service.auth import tenant_of_request
from service.context import SERVICES
from service.errors import METHOD_NOT_ALLOWED, REQUEST_NOT_FOUND, ApiError
from service.page import LOOKUP_FILTER_PATH, request_object
from service.params import ParameterError, parse_lookup
from service.query import build_lookup_body
from service.query_string import QueryStringError, decode_percent, decode_query

ALLOWED_METHODS = ("GET", "HEAD")
JSON = "application/json"


async def get_request(request: web.Request) -> web.Response:
    if request.method not in ALLOWED_METHODS:
        raise ApiError(405, METHOD_NOT_ALLOWED, {"Allow": ", ".join(ALLOWED_METHODS)})
    services = request.app[SERVICES]
    tenant = await tenant_of_request(request.headers.get("Authorization"), services.keys)
    request_id = path_id(request.rel_url.raw_path)
    try:
        pairs = decode_query(request.rel_url.raw_query_string)
        query = parse_lookup(dict(pairs), [name for name, _ in pairs])
    except (QueryStringError, ParameterError) as error:
        raise ApiError(400, str(error)) from None
    body = build_lookup_body(request_id, tenant, query.returned_fields)
    result = await services.client.search(
        index=services.names.read_alias, body=body, filter_path=LOOKUP_FILTER_PATH, routing=tenant_routing(tenant)
    )
    hits = result.get("hits", {}).get("hits", [])  # filter_path leaves out `hits` altogether when none matched
    if not hits:
        raise ApiError(404, REQUEST_NOT_FOUND)
    return web.Response(body=orjson.dumps(request_object(hits[0]["_source"], body["_source"])), content_type=JSON)


def path_id(raw_path: str) -> str:
    """The request id: the path's last segment, percent-decoded strictly. The route's `{id}` never spans a `/`, so
    an id holding one arrives as `%2F`. aiohttp would decode leniently (`%FF` stays text), but a client that sent
    such bytes did not mean those characters."""
    segment = raw_path.rsplit("/", 1)[-1]
    try:
        request_id = decode_percent(segment, "id:")  # `+` is itself in a path, not a space
    except QueryStringError as error:
        raise ApiError(400, str(error)) from None
    if len(request_id) > MAX_ID_LENGTH:
        raise ApiError(
            400, f"id: {len(request_id)} characters; request ids have at most {MAX_ID_LENGTH}, so none has this one"
        )
    return request_id
