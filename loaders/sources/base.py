"""What every source yields: raw records with their position in the source, or the reason one could not be read.

A source only reads. Validation, document building, bulk indexing and accounting are shared (loaders.run), so a
CSV row and a database row end up the same way.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from core.documents import RawRequest

PositionKind = Literal["line", "row", "key", "index"]
SizeUnit = Literal["bytes", "records"]

# The spec's field names, which a record's keys (CSV header, table columns) are checked against.
RECORD_FIELDS = frozenset(RawRequest.model_fields)
# Dead letters carry the rejected input so it can be fixed and reloaded; a huge one is cut to this.
RAW_EXCERPT_CHARS = 64 * 1024


class SourceError(Exception):
    """The source as a whole is unusable (missing file, bad CSV header, unreachable database): the run stops."""


@dataclass(frozen=True, slots=True)
class Position:
    """Where a record is in its source.

    `value` is what a person looks for (line number, CSV row number, primary key, synthetic index); `offset` is the
    byte offset just past the record in the (decompressed) stream, so a resume can seek instead of re-reading.
    """

    kind: PositionKind
    value: int | str
    offset: int | None = None

    def label(self) -> str:
        return f"{self.kind} {self.value}"


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One input record: `data` when it parsed (field names as in the spec), else `error`.

    `raw` is the record as read (line text, CSV row), kept for the dead-letter file should the record be rejected.
    """

    position: Position
    data: dict[str, Any] | None = None
    error: str | None = None
    raw: Any = None


@dataclass(frozen=True, slots=True)
class SourceSize:
    """How much there is to read (from the resume point), in the unit `Source.consumed` counts."""

    total: int
    unit: SizeUnit


class Source(Protocol):
    """A readable collection of raw request records."""

    @property
    def kind(self) -> str:
        """The `--format` name: ndjson, csv, postgres, synthetic."""
        ...

    @property
    def identity(self) -> str:
        """A stable description of the data, stored in checkpoints so a resume cannot pick up another source."""
        ...

    @property
    def name(self) -> str:
        """A short human name (file name, table), used in default file names and messages."""
        ...

    @property
    def consumed(self) -> int:
        """Units read so far (bytes for files, records otherwise); read from another thread for progress."""
        ...

    def size(self, resume_after: Position | None) -> SourceSize | None:
        """What is left to read after `resume_after`, when it can be known cheaply."""
        ...

    def records(self, resume_after: Position | None) -> Generator[SourceRecord, None, None]:
        """The records after `resume_after` (all of them when None), in source order, streamed."""
        ...


def raw_excerpt(raw: Any) -> tuple[Any, bool]:
    """`raw` made JSON-safe and cut to RAW_EXCERPT_CHARS; the flag says whether it was cut."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    if isinstance(raw, str):
        if len(raw) > RAW_EXCERPT_CHARS:
            return raw[:RAW_EXCERPT_CHARS], True
        return raw, False
    try:
        text = json.dumps(raw, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(raw)
    if len(text) > RAW_EXCERPT_CHARS:
        return text[:RAW_EXCERPT_CHARS], True
    return json.loads(text) if text.startswith(("{", "[")) else text, False
