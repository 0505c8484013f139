"""Paging cursors: where the next page starts, as an opaque, signed token.

A cursor is `<payload>.<signature>`, both unpadded base64url. The payload is JSON:
`{"v": 1, "q": <fingerprint>, "a": [<sort values of the page's last request>]}`, plus `"p": <point-in-time id>` for
a relevance-sorted search (below); the signature is HMAC-SHA256 of the payload bytes under the service's secret
(service.secret). The next page is `search_after` those sort values, inside the same tenant-filtered query
(service.query adds the tenant term, as on every search): the values only say where to start within it, and the
signature means they are values the engine itself returned, and a point in time the service itself opened.

The fingerprint is a hash of what decides which requests match and in which order: the tenant, `user_id`,
`app_id`, `search`, `filter`, `sortBy` and `sortOrder`, as sent (after blank-means-absent). A cursor used with any
of them changed, or with another tenant's key, is refused. `pageSize` and `fields` are left out on purpose: the
sort values position the next page whatever its size and whatever fields it returns.

Field sorts keep nothing on the server, so their cursors never expire: a cursor continues from its sort values over
the index as it is when it is used, and a request keeps its place as long as its field does.

A relevance score is not a stored value: BM25 computes it from statistics of the whole index (how many requests
contain each word, their average length), which change with every request indexed or deleted, so the score a
cursor carries would mean another position on the next page, and pages would repeat or skip requests. A
relevance-sorted search (`sortBy=relevance` with `search`) therefore pages through an OpenSearch point in time
(PIT), opened with its first page (service.cursor_pit) and carried, signed, in each cursor: every page reads the
index as it was when the first page was served. The PIT lives `KEEP_ALIVE_MINUTES` after each page, and is
closed once the last page is served. Without `search` every score is equal (the query only filters), the order
is by `id` alone and needs no PIT. Cursors issued before PITs existed (no `p`) are refused for such searches.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from core.documents import MAX_ID_LENGTH
from core.fields import MAX_KEYWORD_CHARS, RELEVANCE
from service.params import RequestsQuery
from service.query import SortValue, sort_clauses

INVALID_CURSOR = "Invalid cursor."
# How long a relevance cursor's point in time outlives the page that last used it (every page renews it): long
# enough for a person to read a page, short enough that abandoned searches free the engine's reader contexts soon.
KEEP_ALIVE_MINUTES = 5
KEEP_ALIVE = f"{KEEP_ALIVE_MINUTES}m"
# Begins like INVALID_CURSOR, so a client that only checks for that still understands it.
EXPIRED_CURSOR = (
    f"Invalid cursor: it has expired. A relevance-sorted cursor keeps its order for {KEEP_ALIVE_MINUTES} minutes "
    "after its page, and ends with the last page; start again from the first page (leave out cursor)."
)
CURSOR_VERSION = 1
FINGERPRINT_BYTES = 16  # 128 bits: only ever compared with the fingerprint of the query at hand
# The longest cursor the service can issue: a keyword sort value and the id, each character at most 6 bytes of
# JSON (`\u001f`), base64 adding a third, plus the envelope and signature. Anything longer was not issued here.
MAX_CURSOR_CHARS = 4 * (6 * (MAX_KEYWORD_CHARS + MAX_ID_LENGTH) + 256) // 3 + 64
# A relevance cursor's first sort value is a score (a number), so its point-in-time id (base64, nothing to escape)
# may take the room of a longest keyword: about 49,000 characters, some 400 shards at ~120 characters each. Not a
# limit on what clients send (they never send a PIT id of their own), so not one of the API's MAX_ constants.
PIT_ID_ROOM_CHARS = 6 * MAX_KEYWORD_CHARS
_TOKEN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class CursorError(ValueError):
    """The cursor was not issued by this service for this query. Always answered as `INVALID_CURSOR`: which
    check failed is of no use to a client, and of some to a forger."""


class CursorPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1]
    q: StrictStr
    a: list[SortValue]
    p: Annotated[StrictStr, Field(min_length=1, max_length=PIT_ID_ROOM_CHARS)] | None = None


@dataclass(frozen=True)
class Position:
    """Where a cursor's page starts: after `after`, in the point in time `pit_id` (relevance searches) or in the
    index as it is now (None)."""

    after: list[SortValue]
    pit_id: str | None


def needs_point_in_time(query: RequestsQuery) -> bool:
    """Whether `query`'s order depends on index statistics: relevance with a search (without one, every score is
    the same and `id` alone orders)."""
    return query.sortBy == RELEVANCE and query.search is not None


def fingerprint(query: RequestsQuery, tenant_id: str) -> str:
    parts = [tenant_id, query.user_id, query.app_id, query.search, query.filter, query.sortBy, query.sortOrder.value]
    # ensure_ascii: text from a client can hold anything JSON can escape, and the hash needs bytes.
    canonical = json.dumps(parts, ensure_ascii=True, separators=(",", ":")).encode()
    return _b64(hashlib.sha256(canonical).digest()[:FINGERPRINT_BYTES])


def issue_cursor(
    sort_values: Sequence[SortValue], query: RequestsQuery, tenant_id: str, key: bytes, pit_id: str | None = None
) -> str:
    """The cursor to the page after `sort_values`; `pit_id` is the point in time a relevance search pages through
    (and must be given exactly when `needs_point_in_time`)."""
    if (pit_id is not None) != needs_point_in_time(query):
        raise ValueError("a point in time goes with a relevance search's cursor, and only with one")
    if pit_id is not None and len(pit_id) > PIT_ID_ROOM_CHARS:
        raise ValueError(f"a point-in-time id of {len(pit_id)} characters does not fit in a cursor")
    content: dict[str, object] = {"v": CURSOR_VERSION, "q": fingerprint(query, tenant_id), "a": list(sort_values)}
    if pit_id is not None:
        content["p"] = pit_id  # field-sort cursors stay byte for byte what they were before PITs
    payload = orjson.dumps(content)
    return f"{_b64(payload)}.{_b64(_sign(payload, key))}"


def read_cursor(token: str, query: RequestsQuery, tenant_id: str, key: bytes) -> Position:
    """Where to continue; `CursorError` unless the token is one this service issued for `query` and `tenant_id`,
    untouched."""
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
    if (parsed.p is not None) != needs_point_in_time(query):
        raise CursorError(INVALID_CURSOR)  # e.g. a relevance cursor from before PITs: its scores mean nothing now
    return Position(parsed.a, parsed.p)


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
