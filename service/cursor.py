"""Paging cursors: where the next page starts, as an opaque, signed token.

A cursor is `<payload>.<signature>`, both unpadded base64url. The payload is JSON:
`{"v": 1, "q": <fingerprint>, "a": [<sort values of the page's last request>]}`; the signature is HMAC-SHA256 of the
payload bytes under the service's secret (service.secret). The next page is `search_after` those sort values,
inside the same tenant-filtered query (service.query adds the tenant term, as on every search): the values only
say where to start within it, and the signature means they are values the engine itself returned.

The fingerprint is a hash of what decides which requests match and in which order: the tenant, `user_id`,
`app_id`, `search`, `filter`, `sortBy` and `sortOrder`, as sent (after blank-means-absent). A cursor used with any
of them changed, or with another tenant's key, is refused. `pageSize` and `fields` are left out on purpose: the
sort values position the next page whatever its size and whatever fields it returns.

Nothing is kept on the server, so a cursor never expires: it continues from its sort values over the index as it is
when it is used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from core.documents import MAX_ID_LENGTH
from core.fields import MAX_KEYWORD_CHARS
from service.params import RequestsQuery
from service.query import SortValue, sort_clauses

INVALID_CURSOR = "Invalid cursor."
CURSOR_VERSION = 1
FINGERPRINT_BYTES = 16  # 128 bits: only ever compared with the fingerprint of the query at hand
# The longest cursor the service can issue: a keyword sort value and the id, each character at most 6 bytes of
# JSON (`\u001f`), base64 adding a third, plus the envelope and signature. Anything longer was not issued here.
MAX_CURSOR_CHARS = 4 * (6 * (MAX_KEYWORD_CHARS + MAX_ID_LENGTH) + 256) // 3 + 64
_TOKEN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class CursorError(ValueError):
    """The cursor was not issued by this service for this query. Always answered as `INVALID_CURSOR`: which
    check failed is of no use to a client, and of some to a forger."""


class CursorPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1]
    q: StrictStr
    a: list[SortValue]


def fingerprint(query: RequestsQuery, tenant_id: str) -> str:
    parts = [tenant_id, query.user_id, query.app_id, query.search, query.filter, query.sortBy, query.sortOrder.value]
    # ensure_ascii: text from a client can hold anything JSON can escape, and the hash needs bytes.
    canonical = json.dumps(parts, ensure_ascii=True, separators=(",", ":")).encode()
    return _b64(hashlib.sha256(canonical).digest()[:FINGERPRINT_BYTES])


def issue_cursor(sort_values: Sequence[SortValue], query: RequestsQuery, tenant_id: str, key: bytes) -> str:
    payload = orjson.dumps({"v": CURSOR_VERSION, "q": fingerprint(query, tenant_id), "a": list(sort_values)})
    return f"{_b64(payload)}.{_b64(_sign(payload, key))}"


def read_cursor(token: str, query: RequestsQuery, tenant_id: str, key: bytes) -> list[SortValue]:
    """The sort values to continue after; `CursorError` unless the token is one this service issued for `query`
    and `tenant_id`, untouched."""
    if len(token) > MAX_CURSOR_CHARS or not _TOKEN.fullmatch(token):
        raise CursorError(INVALID_CURSOR)
    encoded_payload, encoded_signature = token.split(".")
    payload = _unb64(encoded_payload)
    if not hmac.compare_digest(_unb64(encoded_signature), _sign(payload, key)):
        raise CursorError(INVALID_CURSOR)
    try:
        parsed = CursorPayload.model_validate_json(payload)
    except ValidationError:
        raise CursorError(INVALID_CURSOR) from None
    if parsed.q != fingerprint(query, tenant_id) or len(parsed.a) != len(sort_clauses(query)):
        raise CursorError(INVALID_CURSOR)
    return parsed.a


def _sign(payload: bytes, key: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise CursorError(INVALID_CURSOR) from None
    # Base64 leaves spare bits in the last character; only the one spelling this service writes is accepted, so
    # every change to a cursor's text is refused, not just the ones that change its bytes.
    if _b64(data) != text:
        raise CursorError(INVALID_CURSOR)
    return data
