"""JSON error bodies: every error the API returns is `{"error": "<what went wrong>"}`."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

# The spec fixes these strings exactly.
MISSING_KEY = "You must be logged in or provide an API key."
INVALID_KEY = "Invalid API key."
METHOD_NOT_ALLOWED = "Method not allowed"


class ErrorBody(BaseModel):
    error: str


class ApiError(Exception):
    """Raised anywhere below a handler; the error middleware renders it."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=ErrorBody(error=message).model_dump_json(),
        content_type="application/json",
        headers=headers,
    )
