"""Writing an ingest call's documents: one bulk request, each document with its external version (core.versioning)
so that, of two versions of one id, the newest `updatedAt` is kept whatever order they arrive in, and in the
generation that already holds it (core.placement: with one generation that costs no request).

The call is sent with the client's `bulk` itself rather than its streaming helper (which the loaders use, for its
chunking and retries): an ingest call is one request and its retries are the client's, so the helper would only add
per-document work (serializing each line again to measure it, then the whole body twice, an async step per result)
that measured 8-10% of the service's CPU for an ingest call (py-spy), CPU the engine needs on the same machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import TransportError

from core.bulk_action import index_action
from core.engine import BULK_OUTCOME_FIELDS
from core.placement import Placed, placement_for
from core.preparation import Ready
from core.templates import IndexNames
from core.versioning import is_superseded
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

    @classmethod
    def merged(cls, parts: list[Written]) -> Written:
        rejected = [rejection for part in parts for rejection in part.rejected]
        return cls(sum(p.accepted for p in parts), sum(p.superseded for p in parts), rejected)

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
    try:
        answer = await client.bulk(
            body=_bulk_body(placed, ready),
            refresh="wait_for" if refresh else "false",
            # Never let a write create an index named like the alias (before start-up has made the alias): such a
            # record is refused as not ready, to be sent again.
            require_alias="true",
            request_timeout=timeout,
            filter_path=BULK_OUTCOME_FIELDS,
        )
    except TransportError as error:
        if error.status_code not in BUSY_STATUSES:
            raise
        return _all_busy(ready, error)
    items = answer.get("items") or []
    if len(items) != len(ready):
        raise TransportError(502, "bulk answer", f"{len(items)} results for {len(ready)} documents")
    superseded = 0
    rejected: list[Rejected] = []
    for (body_index, document), item in zip(ready, items, strict=True):
        (result,) = item.values()
        status = int(result.get("status", 500))
        if 200 <= status < 300:
            continue
        refusal = result.get("error") or {}
        if is_superseded(status, refusal):
            superseded += 1
            continue
        reason = refusal.get("reason", str(refusal)) if isinstance(refusal, dict) else str(refusal)
        retryable = status in BUSY_STATUSES or (isinstance(refusal, dict) and refusal.get("type") == NOT_READY)
        rejected.append(Rejected(body_index, document.request_id, f"the engine refused it: {reason}", retryable))
    return Written(len(ready) - len(rejected), superseded, rejected)


def _all_busy(ready: list[tuple[int, Ready]], error: TransportError) -> Written:
    # The whole request was turned away (a full write queue): nothing of it is indexed, all of it may be resent.
    busy = f"the engine is busy ({error.error}); send it again"
    return Written(0, 0, [Rejected(i, document.request_id, busy, True) for i, document in ready])


def _bulk_body(placed: Placed, ready: list[tuple[int, Ready]]) -> bytes:
    """The bulk request's NDJSON: an action line and the document (JSON already, sent as it is) for each."""
    lines: list[bytes] = []
    for _, document in ready:
        header = index_action(placed.index_of(document.doc_id), document.doc_id, document.version)
        if placed.concrete:
            # A concrete index the placement saw (the write index, or the older generation holding the document):
            # the request's require_alias guards only writes through the alias, before start-up has made it.
            header["require_alias"] = False
        lines.append(orjson.dumps({"index": header}))
        lines.append(document.source.encode())
    lines.append(b"")
    return b"\n".join(lines)
