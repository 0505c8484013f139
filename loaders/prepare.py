"""From a raw record to what the bulk request carries: validated through the shared document model, given its
tenant and cost, serialized once, and checked against what the engine would refuse for the whole request.

Everything here runs on the reader thread; a record that cannot become a document comes out as a rejection with
its reason, never as an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from core.documents import RawRequest, RequestDocument
from core.pricing import PricingTable
from core.validation import describe_validation
from loaders.sources.base import Position, SourceRecord

# OpenSearch refuses a bulk request outright (every document in it) when one `_id` exceeds this.
MAX_ID_BYTES = 512
# Dead-letter reasons name this many problems, then how many more: enough to fix a record, short enough to read.
_MAX_REASON_ERRORS = 5


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

    `seq` numbers the records of this run in source order; accounting advances the checkpoint over it.
    """

    seq: int
    position: Position
    request_id: str | None = None
    doc_id: str | None = None
    source: str | None = None
    rejection: Rejection | None = None
    unknown_model: str | None = None
    size: int = 0  # bytes of `source`, for bytes/s
    attempts: int = 0


class Preparer:
    def __init__(self, tenant: str | None, pricing: PricingTable, max_document_bytes: int) -> None:
        self.tenant = tenant
        self.pricing = pricing
        self.max_document_bytes = max_document_bytes

    def prepare(self, seq: int, record: SourceRecord) -> Prepared:
        position = record.position
        if record.data is None:
            return Prepared(seq, position, rejection=Rejection(Stage.READ, record.error or "unreadable", record.raw))
        try:
            raw = RawRequest.model_validate(record.data)
        except ValidationError as error:
            return Prepared(
                seq,
                position,
                request_id=_text_id(record.data),
                rejection=Rejection(
                    Stage.VALIDATE, describe_validation(error, "record", _MAX_REASON_ERRORS), _as_given(record)
                ),
            )
        tenant = self.tenant or raw.userId
        if not tenant:
            reason = "no tenant: --tenant was not given and the record has no userId"
            return Prepared(
                seq, position, request_id=raw.id, rejection=Rejection(Stage.TENANT, reason, _as_given(record))
            )
        unknown_model: str | None = None
        cost: float | None = None
        if raw.cost is None:
            cost = self.pricing.price(raw.model, raw.prompt_tokens, raw.completion_tokens)
            if cost is None and raw.model and self.pricing.resolve(raw.model) is None:
                unknown_model = raw.model
        try:
            document = RequestDocument.from_raw(raw, tenant_id=tenant, cost=cost)
        except ValidationError as error:
            return Prepared(
                seq,
                position,
                request_id=raw.id,
                rejection=Rejection(
                    Stage.TENANT, describe_validation(error, "record", _MAX_REASON_ERRORS), _as_given(record)
                ),
            )
        doc_id = document.doc_id
        if len(doc_id.encode()) > MAX_ID_BYTES:
            reason = f"document id {doc_id[:80]!r}… is {len(doc_id.encode())} bytes; the engine allows {MAX_ID_BYTES}"
            return Prepared(
                seq, position, request_id=raw.id, rejection=Rejection(Stage.SIZE, reason, _as_given(record))
            )
        # The same JSON as `document.source()`, produced by pydantic-core directly: the hot path of a load.
        source = document.model_dump_json()
        size = len(source.encode())
        if size > self.max_document_bytes:
            reason = f"document is {size} bytes, over the limit of {self.max_document_bytes}"
            return Prepared(
                seq, position, request_id=raw.id, rejection=Rejection(Stage.SIZE, reason, _as_given(record))
            )
        return Prepared(
            seq, position, request_id=raw.id, doc_id=doc_id, source=source, unknown_model=unknown_model, size=size
        )


def _text_id(data: dict[str, Any]) -> str | None:
    value = data.get("id")
    return value if isinstance(value, str) else None


def _as_given(record: SourceRecord) -> Any:
    """What a dead letter shows of a record that parsed: its fields (an object), not the line they came from."""
    return record.data if record.data is not None else record.raw
