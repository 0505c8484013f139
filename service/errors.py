"""JSON error bodies: every error the API returns is `{"error": "<what went wrong>"}`."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

# The spec fixes these strings exactly.
MISSING_KEY = "You must be logged in or provide an API key."
INVALID_KEY = "Invalid API key."
METHOD_NOT_ALLOWED = "Method not allowed"
# Ours: the same for an id nobody has and another tenant's.
REQUEST_NOT_FOUND = "Request not found."


class ErrorBody(BaseModel):
    error: str


class ApiError(Exception):
    """Raised anywhere below a handler; the error middleware renders it."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def printable(text: str) -> str:
    """`text` made encodable: a lone surrogate (which JSON text can carry, as `\\ud800`) becomes `\\ud800`."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    # Messages quote what the client sent; whatever that was, the error itself must still be sent.
    return web.Response(
        status=status,
        body=ErrorBody(error=printable(message)).model_dump_json(),
        content_type="application/json",
        headers=headers,
    )


def http_error(error: web.HTTPException) -> web.Response:
    """One of aiohttp's own HTTP errors (no such route, a method the route does not take) in the API's shape, with
    its `Allow` header kept."""
    headers = {name: value for name, value in error.headers.items() if name.lower() == "allow"}
    return json_error(error.status, error.reason, headers)
