"""Reading an ingest body: a JSON array of records or NDJSON, gzip allowed (aiohttp decodes `Content-Encoding`
as the bytes arrive), never more than the limit held in memory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from service.errors import ApiError

NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl"})
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Line:
    """One record as sent: its parsed JSON, or why it could not be parsed."""

    data: Any = None
    error: str | None = None


async def read_body(request: web.Request, max_bytes: int) -> bytes:
    """The decoded body; over `max_bytes` is a 413 (decided on `Content-Length` when it already says so)."""
    if request.content_length is not None and request.content_length > max_bytes and not _compressed(request):
        raise _too_large(max_bytes)
    body = bytearray()
    async for chunk in request.content.iter_chunked(CHUNK_BYTES):
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(max_bytes)
    return bytes(body)


def split_records(body: bytes, content_type: str) -> list[Line]:
    """The records of a body, each parsed or with the reason it is not; a 400 when nothing could be read at all."""
    if not body.strip():
        raise ApiError(400, "The body is empty; send a JSON array of records or NDJSON (one record a line).")
    if content_type in NDJSON_TYPES:
        lines = [_line(text) for text in body.split(b"\n") if text.strip()]
        if all(line.error is not None for line in lines):
            raise ApiError(400, f"No line of the NDJSON body is JSON: {lines[0].error}")
        return lines
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise ApiError(
            400,
            f"The body is not JSON ({error}); send a JSON array of records, or NDJSON with Content-Type: "
            "application/x-ndjson.",
        ) from None
    if not isinstance(parsed, list):
        raise ApiError(400, "The body is JSON but not an array; send a JSON array of records (or NDJSON).")
    return [Line(data=item) for item in parsed]


def _line(text: bytes) -> Line:
    try:
        return Line(data=orjson.loads(text))
    except orjson.JSONDecodeError as error:
        return Line(error=f"not JSON: {error}")


def _compressed(request: web.Request) -> bool:
    return request.headers.get("Content-Encoding", "identity").lower() != "identity"


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(
        413, f"The body is over {max_bytes:,} bytes (decoded); send fewer records per call.", {"Connection": "close"}
    )
