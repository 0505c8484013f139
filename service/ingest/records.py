"""Each line of an ingest body → a document of the key's tenant, or the reason it is refused: core.preparation,
the loaders' own path, with the tenant always the key's."""

from __future__ import annotations

from dataclasses import dataclass

from core.preparation import Ready, prepare_record
from core.pricing import PricingTable
from service.ingest.body import Line

TENANT_FIELD_NAMES = ("tenant_id", "userId")


@dataclass(frozen=True, slots=True)
class Rejected:
    index: int
    request_id: str | None
    error: str
    retryable: bool = False


def prepare_lines(
    lines: list[Line], tenant: str, pricing: PricingTable, max_record_bytes: int, first_index: int = 0
) -> tuple[list[tuple[int, Ready]], list[Rejected]]:
    """(index in the body, document) for each record that can be indexed, and every one that cannot; `lines` start
    at `first_index` of the body."""
    ready: list[tuple[int, Ready]] = []
    rejected: list[Rejected] = []
    for index, line in enumerate(lines, first_index):
        if line.error is not None:
            rejected.append(Rejected(index, None, line.error))
            continue
        data = line.data
        if not isinstance(data, dict):
            rejected.append(Rejected(index, None, f"a record is a JSON object, not {type(data).__name__}"))
            continue
        named = _tenant_named(data, tenant)
        if named is not None:
            rejected.append(Rejected(index, _text(data.get("id")), named))
            continue
        outcome = prepare_record(data, tenant, pricing, max_record_bytes)
        if isinstance(outcome, Ready):
            ready.append((index, outcome))
        else:
            rejected.append(Rejected(index, outcome.request_id, outcome.reason))
    return ready, rejected


def _tenant_named(data: dict[str, object], tenant: str) -> str | None:
    """Records are written to the key's tenant: naming a tenant is refused (the same one in `userId` is allowed,
    as the original system's records carry it)."""
    if "tenant_id" in data:
        return "tenant_id: records are written to the API key's tenant; leave tenant_id out"
    user = data.get("userId")
    if user is not None and user != tenant:
        return "userId: names another tenant than the API key's; leave it out"
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
