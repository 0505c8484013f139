"""From a logged record (a JSON object) to the document JSON the engine stores, or the reason it cannot be one:
the one path the loaders (loaders/prepare.py) and live ingest (service/ingest/) share, so a record means the same
whichever way it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from core.documents import RawRequest, document_id, document_json, document_values
from core.pricing import PricingTable
from core.validation import describe_validation
from core.versioning import record_version

# OpenSearch refuses a bulk request outright (every document in it) when one `_id` exceeds this.
MAX_ID_BYTES = 512
# Reasons name this many problems, then how many more: enough to fix a record, short enough to read.
MAX_REASON_ERRORS = 5


@dataclass(frozen=True, slots=True)
class Ready:
    """A record become a document: `source` is its JSON, `size` its bytes."""

    request_id: str
    doc_id: str
    source: str
    size: int
    version: int
    """Its external version: the newest record of a request is the one kept (core.versioning)."""
    unknown_model: str | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    """Why a record cannot be indexed; `stage` says where that was found (validate, tenant, size)."""

    stage: str
    reason: str
    request_id: str | None = None


def prepare_record(data: Any, tenant: str | None, pricing: PricingTable, max_document_bytes: int) -> Ready | Refused:
    """Validate `data`, give it its tenant (`tenant`, else the record's `userId`) and cost, and serialize it."""
    try:
        raw = RawRequest.model_validate(data)
    except ValidationError as error:
        return Refused("validate", describe_validation(error, "record", MAX_REASON_ERRORS), _text_id(data))
    tenant = tenant or raw.userId
    if not tenant:
        return Refused("tenant", "no tenant: --tenant was not given and the record has no userId", raw.id)
    unknown_model: str | None = None
    cost: float | None = None
    if raw.cost is None:
        cost = pricing.price(raw.model, raw.prompt_tokens, raw.completion_tokens)
        if cost is None and raw.model and pricing.resolve(raw.model) is None:
            unknown_model = raw.model
    try:
        values = document_values(raw, tenant_id=tenant, cost=cost)
    except ValidationError as error:
        return Refused("tenant", describe_validation(error, "record", MAX_REASON_ERRORS), raw.id)
    doc_id = document_id(tenant, raw.id)
    if len(doc_id.encode()) > MAX_ID_BYTES:
        reason = f"document id {doc_id[:80]!r}… is {len(doc_id.encode())} bytes; the engine allows {MAX_ID_BYTES}"
        return Refused("size", reason, raw.id)
    source = document_json(values)
    size = len(source.encode())
    if size > max_document_bytes:
        return Refused("size", f"document is {size} bytes, over the limit of {max_document_bytes}", raw.id)
    return Ready(raw.id, doc_id, source, size, record_version(raw), unknown_model)


def _text_id(data: Any) -> str | None:
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None
