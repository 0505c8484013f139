"""The engine side of a relevance cursor's point in time (service.cursor says why there is one): opening it for a
first page, reading what its failures mean for the client, and closing it after the last page.

Each open PIT holds a reader context on every shard of the read alias, so old segments stay on disk and count
against the node's `search.max_open_pit_context` (300 by default). A relevance search whose results fit one page
closes its PIT at once; one paged to the end closes it with the last page; one abandoned holds it for
`KEEP_ALIVE_MINUTES` after its last page. When the engine has no context left to open one, the first page is a 503
with Retry-After: field sorts, which need none, keep working meanwhile.
"""

from __future__ import annotations

import logging

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import OpenSearchException, TransportError

from service.cursor import EXPIRED_CURSOR, KEEP_ALIVE, KEEP_ALIVE_MINUTES
from service.errors import ApiError

log = logging.getLogger(__name__)

TOO_MANY_OPEN = (
    "Too many relevance-sorted searches are being paged at once (each keeps the search engine's view of the "
    f"index for {KEEP_ALIVE_MINUTES} minutes after its last page); try again shortly, or sort by a field."
)
# Contexts free up as other clients reach their last page or stop paging; a retry within seconds often succeeds.
TOO_MANY_RETRY_AFTER = {"Retry-After": "10"}
PIT_LIMIT_SETTING = "search.max_open_pit_context"
# What OpenSearch 3.8 answers for a PIT it no longer has (expired, closed, lost with a node restart: 404
# `search_context_missing_exception`) or one whose index was deleted since (404 `index_not_found_exception`).
GONE = frozenset({"search_context_missing_exception", "index_not_found_exception"})
CLOSE_TIMEOUT_SECONDS = 5.0


async def open_point_in_time(client: AsyncOpenSearch, index: str, routing: str) -> str:
    """A new PIT over `index` for a relevance search's first page, on the shards `routing` (the tenant's,
    core.routing) leads to; the 503 when the engine has none to spare."""
    try:
        # Not partial: a PIT missing a shard (measured: a 200 when only some shards hit the context limit) would
        # leave that shard's requests out of every page without a word.
        created = await client.create_pit(
            index=index, keep_alive=KEEP_ALIVE, routing=routing, allow_partial_pit_creation=False
        )
    except TransportError as error:
        if error.status_code == 429 and PIT_LIMIT_SETTING in _root_reasons(error):
            log.warning("no point in time for a relevance search: %s", _root_reasons(error)[:300])
            raise ApiError(503, TOO_MANY_OPEN, TOO_MANY_RETRY_AFTER) from None
        raise
    return str(created["pit_id"])


def expired_cursor_error(error: TransportError) -> ApiError | None:
    """The 400 to start again when a page's PIT is gone; None for any other failure (answered as usual)."""
    if GONE & set(_root_types(error)):
        return ApiError(400, EXPIRED_CURSOR)
    return None


async def close_point_in_time(client: AsyncOpenSearch, pit_id: str) -> None:
    """Best effort: a PIT that cannot be closed now expires by itself, so failing to close it fails nothing."""
    try:
        await client.delete_pit(body={"pit_id": [pit_id]}, request_timeout=CLOSE_TIMEOUT_SECONDS)
    except (OpenSearchException, OSError, TimeoutError) as error:
        log.warning("could not close a relevance cursor's point in time (%s); it expires within %s", error, KEEP_ALIVE)


def _root_causes(error: TransportError) -> list[dict[str, object]]:
    info = error.info if isinstance(error.info, dict) else {}
    details = info.get("error")
    causes = details.get("root_cause") if isinstance(details, dict) else None
    return [cause for cause in causes if isinstance(cause, dict)] if isinstance(causes, list) else []


def _root_types(error: TransportError) -> list[str]:
    return [str(cause.get("type")) for cause in _root_causes(error)]


def _root_reasons(error: TransportError) -> str:
    return " ".join(str(cause.get("reason")) for cause in _root_causes(error))
