"""From a raw record to what the bulk request carries: core.preparation (validated through the shared document
model, given its tenant, cost and version, serialized once, checked against what the engine would refuse for the
whole request), plus where the record came from, for checkpoints and dead letters.

Everything here runs on the reader thread; a record that cannot become a document comes out as a rejection with
its reason, never as an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.preparation import Refused, prepare_record
from core.pricing import PricingTable
from loaders.sources.base import Position, SourceRecord


class Stage(StrEnum):
    """Where a record was rejected."""

    READ = "read"  # malformed line or row
    VALIDATE = "validate"  # wrong types, unknown fields, bad values
    TENANT = "tenant"  # no tenant from --tenant or the record
    SIZE = "size"  # too large for the engine
    ENGINE = "engine"  # the engine refused the document (mapping errors)


@dataclass(frozen=True, slots=True)
class Rejection:
    stage: Stage
    reason: str
    raw: Any = None


@dataclass(slots=True)
class Prepared:
    """One record on its way: `source` (the document JSON) when it is to be indexed, else `rejection`.

    `seq` numbers the records of this run in source order; accounting advances the checkpoint over it. `version`
    is the document's external version (core.versioning): the engine keeps the newest record of each request.
    `index` is set when the batch is placed (loaders.bulk, core.placement).
    """

    seq: int
    position: Position
    request_id: str | None = None
    doc_id: str | None = None
    source: str | None = None
    rejection: Rejection | None = None
    unknown_model: str | None = None
    size: int = 0  # bytes of `source`, for bytes/s
    version: int | None = None
    attempts: int = 0
    index: str | None = None  # where it is written (core.placement); None: the write alias


class Preparer:
    def __init__(self, tenant: str | None, pricing: PricingTable, max_document_bytes: int) -> None:
        self.tenant = tenant
        self.pricing = pricing
        self.max_document_bytes = max_document_bytes

    def prepare(self, seq: int, record: SourceRecord) -> Prepared:
        """The record as core.preparation makes it, as live ingest does too, with where it came from."""
        position = record.position
        if record.data is None:
            return Prepared(seq, position, rejection=Rejection(Stage.READ, record.error or "unreadable", record.raw))
        outcome = prepare_record(record.data, self.tenant, self.pricing, self.max_document_bytes)
        if isinstance(outcome, Refused):
            rejection = Rejection(Stage(outcome.stage), outcome.reason, _as_given(record))
            return Prepared(seq, position, request_id=outcome.request_id, rejection=rejection)
        return Prepared(
            seq,
            position,
            request_id=outcome.request_id,
            doc_id=outcome.doc_id,
            source=outcome.source,
            unknown_model=outcome.unknown_model,
            size=outcome.size,
            version=outcome.version,
        )


def _as_given(record: SourceRecord) -> Any:
    """What a dead letter shows of a record that parsed: its fields (an object), not the line they came from."""
    return record.data if record.data is not None else record.raw
