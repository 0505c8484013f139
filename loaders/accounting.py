"""Every input record ends as exactly one of created, updated, superseded (the index already holds a newer record of
that request, which stays: core.versioning) or rejected; rejected ones go to a dead-letter file.

Records are settled out of order (several bulk requests are in flight, retries come back late), but they are
committed in source order: the tracker holds settled records until every earlier one is settled, then counts them,
writes their dead letters and moves the checkpoint past them. So the checkpoint, the counts and the dead-letter
file always describe the same prefix of the source, and a resume after a crash neither loses nor repeats a record
or a dead letter.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from pydantic import BaseModel, ConfigDict, Field

from loaders.prepare import Prepared, Rejection, Stage
from loaders.sources.base import Position, raw_excerpt

# Distinct unknown model names kept by name in the counts; the rest are summed under one key.
MAX_UNKNOWN_MODEL_NAMES = 50
OTHER_MODELS = "(other)"


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    SUPERSEDED = "superseded"
    REJECTED = "rejected"


class Counts(BaseModel):
    """Outcomes of a prefix of the source; stored in the checkpoint and reported in the result."""

    model_config = ConfigDict(extra="forbid")

    created: int = 0
    updated: int = 0
    superseded: int = 0  # older than the record the index holds: applied, and the newer one kept
    rejected: int = 0
    cost_unknown: int = 0  # indexed with cost null because the pricing table does not know the model
    unknown_models: dict[str, int] = Field(default_factory=dict)
    bytes: int = 0  # document bytes indexed

    @property
    def records(self) -> int:
        return self.created + self.updated + self.superseded + self.rejected

    @property
    def indexed(self) -> int:
        return self.created + self.updated

    def add(self, item: Prepared, outcome: Outcome) -> None:
        if outcome is Outcome.REJECTED:
            self.rejected += 1
            return
        if outcome is Outcome.SUPERSEDED:
            self.superseded += 1
            return
        if outcome is Outcome.CREATED:
            self.created += 1
        else:
            self.updated += 1
        self.bytes += item.size
        if item.unknown_model is not None:
            self.cost_unknown += 1
            name = item.unknown_model
            if name not in self.unknown_models and len(self.unknown_models) >= MAX_UNKNOWN_MODEL_NAMES:
                name = OTHER_MODELS
            self.unknown_models[name] = self.unknown_models.get(name, 0) + 1


class DeadLetter(BaseModel):
    """One line of the dead-letter file: where the record was, why it was refused, and the record itself."""

    model_config = ConfigDict(extra="forbid")

    source: str
    position: Position
    id: str | None = None
    stage: Stage
    reason: str
    record: Any = None
    record_truncated: bool = False
    rejected_at: datetime


class DeadLetterFile:
    """Append-only NDJSON, opened on the first rejection; its size is part of each checkpoint."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: BinaryIO | None = None
        self.written = 0

    def reset(self, size: int) -> None:
        """Start a run: cut the file back to what the checkpoint covers (0 for a fresh run)."""
        if self.path.exists():
            with self.path.open("r+b") as handle:
                handle.truncate(min(size, self.path.stat().st_size))

    def write(self, letter: DeadLetter) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("ab")
        self._handle.write(letter.model_dump_json().encode() + b"\n")
        self.written += 1

    def sync(self) -> int:
        """Make what was written durable and return the file's size, for the checkpoint."""
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            return self._handle.tell()
        return self.path.stat().st_size if self.path.exists() else 0

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class CommitLog(Protocol):
    """Where the committed prefix goes as it grows (loaders.checkpoint.CheckpointWriter)."""

    def maybe_write(self, position: Position | None, counts: Counts) -> None: ...


class Tracker:
    """Settles records in any order and commits them in `seq` order (see the module docstring)."""

    def __init__(
        self,
        source_identity: str,
        dead_letters: DeadLetterFile,
        committed: Counts,
        resume_after: Position | None,
        commit_log: CommitLog,
    ) -> None:
        self.source_identity = source_identity
        self.dead_letters = dead_letters
        self.committed = committed  # cumulative over the resumed runs
        self.run = Counts()  # this process only
        self.position = resume_after
        self.next_seq = 0
        self._settled: dict[int, tuple[Prepared, Outcome, Rejection | None]] = {}
        self._commit_log = commit_log

    @property
    def waiting(self) -> int:
        """Records settled but held behind an earlier unsettled one."""
        return len(self._settled)

    def settle(self, item: Prepared, outcome: Outcome, rejection: Rejection | None = None) -> None:
        item.source = None  # the document is in the engine (or refused); only its accounting is left
        self._settled[item.seq] = (item, outcome, rejection)
        if item.seq == self.next_seq:
            self._advance()

    def _advance(self) -> None:
        while (entry := self._settled.pop(self.next_seq, None)) is not None:
            item, outcome, rejection = entry
            self.committed.add(item, outcome)
            self.run.add(item, outcome)
            if rejection is not None:
                self.dead_letters.write(self.dead_letter(item, rejection))
            self.position = item.position
            self.next_seq += 1
        self._commit_log.maybe_write(self.position, self.committed)

    def dead_letter(self, item: Prepared, rejection: Rejection) -> DeadLetter:
        record, truncated = raw_excerpt(rejection.raw)
        return DeadLetter(
            source=self.source_identity,
            position=item.position,
            id=item.request_id,
            stage=rejection.stage,
            reason=rejection.reason,
            record=record,
            record_truncated=truncated,
            rejected_at=datetime.now(UTC),
        )
