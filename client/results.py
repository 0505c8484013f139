"""What `ingest` returns: one result per record given, in order, each either stored or failed with a reason."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RecordResult:
    index: int
    """The record's position in what was given to `ingest`."""
    id: str | None
    ok: bool
    """The service acknowledged it: it is stored (or a newer version of it already was)."""
    error: str | None = None


@dataclass
class IngestResults:
    records: list[RecordResult] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return sum(1 for result in self.records if result.ok)

    @property
    def failed(self) -> list[RecordResult]:
        return [result for result in self.records if not result.ok]
