"""Writing an ingest call's documents: one bulk request (opensearch-py's streaming bulk helper, which yields an
outcome per document in order), each document with its external version (core.versioning) so that, of two versions of
one id, the newest `updatedAt` is kept whatever order they arrive in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import TransportError
from opensearchpy.helpers import async_streaming_bulk

from core.preparation import Ready
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
    client: AsyncOpenSearch, index: str, ready: list[tuple[int, Ready]], refresh: bool, timeout: float
) -> Written:
    """Index `ready` in one request; a document the engine already holds a newer (or the same) version of counts as
    accepted. Transport failures propagate (the caller answers 503: nothing is acknowledged)."""
    if not ready:
        return Written(0, 0, [])
    outcomes = async_streaming_bulk(
        client,
        _actions(index, ready),
        chunk_size=len(ready),
        max_chunk_bytes=2**31,
        raise_on_error=False,
        raise_on_exception=True,
        refresh="wait_for" if refresh else "false",
        # Never let a write create an index named like the alias (before start-up has made the alias): such a
        # record is refused as not ready, to be sent again.
        require_alias="true",
        request_timeout=timeout,
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
        # The whole request was turned away (a full write queue): nothing of it is indexed, all of it may be resent.
        busy = f"the engine is busy ({error.error}); send it again"
        return Written(0, 0, [Rejected(i, document.request_id, busy, True) for i, document in ready])
    return Written(len(ready) - len(rejected), superseded, rejected)


async def _enumerate(outcomes: AsyncIterator[tuple[bool, Any]]) -> AsyncIterator[tuple[int, tuple[bool, Any]]]:
    position = 0
    async for outcome in outcomes:
        yield position, outcome
        position += 1


def _actions(index: str, ready: list[tuple[int, Ready]]) -> Iterator[dict[str, Any]]:
    for _, document in ready:
        yield {
            "_op_type": "index",
            "_index": index,
            "_id": document.doc_id,
            "version": document.version,
            "version_type": VERSION_TYPE,
            "_source": document.source,  # already JSON: the serializer passes text through as it is
        }
