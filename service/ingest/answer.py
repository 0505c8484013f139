"""What an ingest call answers: every record is either counted in `accepted` or listed in `errors` with its index in
the body, its id when it had one, and the reason; `retryable` marks the ones to send again unchanged."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from service.ingest.records import Rejected


class RecordError(BaseModel):
    index: int = Field(description="The record's position in the body (0-based: array element or NDJSON line).")
    id: str | None = Field(description="The record's `id`, when it had a readable one.")
    error: str = Field(description="Why it was not indexed.")
    retryable: bool = Field(description="True when the engine was busy: send the record again, unchanged.")


class IngestAnswer(BaseModel):
    """200: every record indexed (`accepted`); 207: some were not (`rejected`, `errors`); 429: the engine was busy and
    `errors` lists the records to send again (the others are indexed)."""

    accepted: int = Field(description="Records now stored, including those the engine already held a newer version of.")
    superseded: int = Field(
        default=0,
        description="Of `accepted`, records older (by updatedAt) than the version already stored, which is kept.",
    )
    rejected: int = 0
    errors: list[RecordError] = Field(default_factory=list)
    error: str | None = Field(default=None, description="On a 429: what happened.")


def _errors(rejected: list[Rejected]) -> list[dict[str, Any]]:
    return [{"index": r.index, "id": r.request_id, "error": r.error, "retryable": r.retryable} for r in rejected]


def ingest_answer(accepted: int, superseded: int, rejected: list[Rejected]) -> dict[str, Any]:
    answer: dict[str, Any] = {"accepted": accepted, "superseded": superseded}
    if rejected:
        answer |= {"rejected": len(rejected), "errors": _errors(rejected)}
    return answer


def busy_answer(accepted: int, rejected: list[Rejected]) -> dict[str, Any]:
    retry = sum(1 for r in rejected if r.retryable)
    return {
        "error": f"The search engine is busy: {retry:,} records were not indexed; send those again shortly.",
        "accepted": accepted,
        "rejected": len(rejected),
        "errors": _errors(rejected),
    }
