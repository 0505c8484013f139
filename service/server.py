"""Serving the app so that even errors found before any route runs are answered in JSON.

aiohttp answers a request it cannot parse (a request line or header over its limit, an unknown method, bytes that
are not allowed in a URL) from its protocol handler, in text/plain, before middleware sees anything. `ApiRunner`
runs the app with a protocol handler that answers those in the API's error shape instead, with the status that
says what was wrong.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod, HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from service.errors import json_error
from service.limits import MAX_FIELD_BYTES, MAX_REQUEST_LINE_BYTES
from service.observability.request_context import REQUEST_ID, REQUEST_ID_HEADER, request_id_for

# Passed to aiohttp's parser (`web.Application(handler_args=...)`).
HTTP_PARSER_LIMITS = {"max_line_size": MAX_REQUEST_LINE_BYTES, "max_field_size": MAX_FIELD_BYTES}


def protocol_error(exc: BaseException | None, status: int) -> tuple[int, str]:
    """The status and message for an error aiohttp's protocol handler caught."""
    if isinstance(exc, LineTooLong):
        limit = exc.args[1] if len(exc.args) > 1 else None
        if limit == MAX_REQUEST_LINE_BYTES:
            return 414, f"The request line is longer than {MAX_REQUEST_LINE_BYTES} bytes; send a shorter query."
        return 431, f"A request header is longer than {MAX_FIELD_BYTES} bytes."
    if isinstance(exc, BadHttpMethod):
        return 405, "Method not allowed"
    if isinstance(exc, HttpProcessingError) or status == 400:
        # aiohttp's own text quotes the raw request line; the client knows what it sent.
        return 400, "The request is not valid HTTP (a bad byte in the request line or headers, or bad framing)."
    if status == 504:
        return 504, "The request took too long."
    return status, "Internal error; it has been logged."


class JsonErrorRequestHandler(RequestHandler):
    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # The parent logs (at debug level for garbage, which the open internet sends plenty of) and builds a
        # text/plain answer we discard; it also raises if part of a response was already sent.
        super().handle_error(request, status, exc, message)
        code, text = protocol_error(exc, status)
        # The id the app gave the request, if it got that far; else the client's or a new one (the headers may not
        # have been read: a bad request line), for the client's report.
        request_id = request.get(REQUEST_ID) or request_id_for(request.headers.get(REQUEST_ID_HEADER))
        headers = {REQUEST_ID_HEADER: request_id}
        if code == 405:
            headers["Allow"] = "GET, HEAD"
        response = json_error(code, text, headers)
        response.force_close()
        return response


class JsonErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        return JsonErrorRequestHandler(self, loop=self._loop, **self._kwargs)


class ApiRunner(web.AppRunner):
    """`web.AppRunner` whose connections use `JsonErrorRequestHandler`, without aiohttp's access log: the app logs
    each request itself (service.observability.access), once, as JSON."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        kwargs.setdefault("access_log", None)
        super().__init__(app, **kwargs)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return JsonErrorServer(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=server._loop,
            **server._kwargs,
        )
