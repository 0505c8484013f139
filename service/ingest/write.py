"""Writing an ingest call's documents: one bulk request (opensearch-py's streaming bulk helper, which yields an
outcome per document in order), each document with its external version (core.versioning) so that, of two versions of
one id, the newest `updatedAt` is kept whatever order they arrive in, and in the generation that already holds it
(core.placement: with one generation that costs no request)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import TransportError
from opensearchpy.helpers import async_streaming_bulk

from core.placement import Placed, placement_for
from core.preparation import Ready
from core.routing import document_routing
from core.templates import IndexNames
from core.versioning import VERSION_TYPE, is_superseded
from service.ingest.records import Rejected

# The engine's answer for a document it had no room for (a full write queue, indexing pressure), or for an index
# not there yet (the service is starting): try again later.
BUSY_STATUSES = frozenset({429})
NOT_READY = "index_not_found_exception"


@dataclass(frozen=True, slots=True)
class Written:
    accepted: int
    superseded: int
    rejected: list[Rejected]

    @property
    def busy(self) -> bool:
        return any(rejection.retryable for rejection in self.rejected)


async def write_documents(
    client: AsyncOpenSearch, write_alias: str, ready: list[tuple[int, Ready]], refresh: bool, timeout: float
) -> Written:
    """Index `ready` in one request through the prefix of `write_alias`; a document the engine already holds a newer
    (or the same) version of counts as accepted. Transport failures propagate (the caller answers 503: nothing is
    acknowledged)."""
    if not ready:
        return Written(0, 0, [])
    placement = placement_for(client, IndexNames.of_write_alias(write_alias))
    try:
        placed = await placement.place([document.doc_id for _, document in ready], timeout)
    except TransportError as failure:
        if failure.status_code not in BUSY_STATUSES:
            raise
        return _all_busy(ready, failure)
    outcomes = async_streaming_bulk(
        client,
        _actions(placed, ready),
        chunk_size=len(ready),
        max_chunk_bytes=2**31,
        raise_on_error=False,
        raise_on_exception=True,
        refresh="wait_for" if refresh else "false",
        # Never let a write create an index named like the alias (before start-up has made the alias): such a
        # record is refused as not ready, to be sent again.
        require_alias="true",
        request_timeout=timeout,
        expand_action_callback=_expand,
    )
    superseded = 0
    rejected: list[Rejected] = []
    try:
        async for position, (ok, result) in _enumerate(outcomes):
            if ok:
                continue
            item = next(iter(result.values()))
            status = int(item.get("status", 500))
            error = item.get("error") or {}
            if is_superseded(status, error):
                superseded += 1
                continue
            reason = error.get("reason", str(error)) if isinstance(error, dict) else str(error)
            body_index, document = ready[position]
            refusal = f"the engine refused it: {reason}"
            retryable = status in BUSY_STATUSES or (isinstance(error, dict) and error.get("type") == NOT_READY)
            rejected.append(Rejected(body_index, document.request_id, refusal, retryable))
    except TransportError as error:
        if error.status_code not in BUSY_STATUSES:
            raise
        return _all_busy(ready, error)
    return Written(len(ready) - len(rejected), superseded, rejected)


def _all_busy(ready: list[tuple[int, Ready]], error: TransportError) -> Written:
    # The whole request was turned away (a full write queue): nothing of it is indexed, all of it may be resent.
    busy = f"the engine is busy ({error.error}); send it again"
    return Written(0, 0, [Rejected(i, document.request_id, busy, True) for i, document in ready])


async def _enumerate(outcomes: AsyncIterator[tuple[bool, Any]]) -> AsyncIterator[tuple[int, tuple[bool, Any]]]:
    position = 0
    async for outcome in outcomes:
        yield position, outcome
        position += 1


Action = tuple[dict[str, Any], str]


def _actions(placed: Placed, ready: list[tuple[int, Ready]]) -> Iterator[Action]:
    for _, document in ready:
        header: dict[str, Any] = {
            "_index": placed.index_of(document.doc_id),
            "_id": document.doc_id,
            "routing": document_routing(document.doc_id),
            "version": document.version,
            "version_type": VERSION_TYPE,
        }
        if placed.concrete:
            # A concrete index the placement saw (the write index, or the older generation holding the document):
            # the request's require_alias guards only writes through the alias, before start-up has made it.
            header["require_alias"] = False
        yield {"index": header}, document.source  # the source is JSON already: sent as it is


def _expand(action: Action) -> Action:
    return action
