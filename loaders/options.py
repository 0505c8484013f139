"""How a load runs: one validated options object, shared by the CLI and in-process callers (benchmarks).

`llmsearch load` makes a flag of every field (cli.model_flags): the description is its help, `group` its section
of the help, and a `SizeText` marker has it read and shown as `10mb` rather than a byte count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from core.settings import default_cache_dir
from loaders.progress import ProgressMode

MIB = 1024 * 1024
BackfillMode = Literal["auto", "on", "off"]

RESUME: JsonDict = {"group": "resume and accounting"}
BULK: JsonDict = {"group": "bulk indexing"}
OUTPUT: JsonDict = {"group": "output"}


@dataclass(frozen=True)
class SizeText:
    """Marks a byte count that people write as `10mb`, `512kb` or `1048576` (see parse_size)."""

    metavar: str = "SIZE"

    def parse(self, text: str) -> int:
        return parse_size(text)

    def show(self, value: object) -> str:
        return format_size(value) if isinstance(value, int) else str(value)


ByteCount = Annotated[int, SizeText()]


class LoadOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    resume: bool = Field(
        default=False, description="continue after the last checkpoint of this load", json_schema_extra=RESUME
    )
    state_dir: Path = Field(
        default_factory=lambda: default_cache_dir() / "loads",
        description="where default checkpoints and dead letters go",
        json_schema_extra=RESUME,
    )
    checkpoint_path: Path | None = Field(
        default=None,
        description="checkpoint file (default: <state dir>/<source>-<key>.checkpoint.json)",
        json_schema_extra=RESUME,
    )
    dead_letter_path: Path | None = Field(
        default=None, description="rejected records, NDJSON (default: beside the checkpoint)", json_schema_extra=RESUME
    )
    checkpoint_interval: float = Field(
        default=1.0, ge=0, description="seconds between checkpoint writes", json_schema_extra=RESUME
    )

    # 2 measured best with the node on the same two cores; a cluster of its own takes more.
    concurrency: int = Field(default=2, ge=1, le=64, description="bulk requests in flight", json_schema_extra=BULK)
    chunk_size: int = Field(
        default=1000, ge=1, le=100_000, description="documents per bulk request", json_schema_extra=BULK
    )
    max_chunk_bytes: ByteCount = Field(
        default=10 * MIB, ge=1024, description="bytes per bulk request", json_schema_extra=BULK
    )
    # Above this a record becomes a dead letter, rather than a document that makes the engine refuse a whole request.
    max_document_bytes: ByteCount = Field(
        default=32 * MIB, ge=1024, description="larger records are rejected", json_schema_extra=BULK
    )
    max_retries: int = Field(
        default=6, ge=0, le=50, description="retries on 429/5xx/connection errors", json_schema_extra=BULK
    )
    initial_backoff: float = Field(
        default=0.5,
        gt=0,
        description="seconds before the first retry (doubling for each next one)",
        json_schema_extra=BULK,
    )
    max_backoff: float = Field(
        default=30.0, gt=0, description="the longest wait between retries, seconds", json_schema_extra=BULK
    )
    request_timeout: float = Field(
        default=120.0, gt=0, description="seconds a bulk request may take", json_schema_extra=BULK
    )
    backfill: BackfillMode = Field(
        default="auto",
        description="refresh off during the load, replicas kept (auto: for a source at either minimum below)",
        json_schema_extra=BULK,
    )
    backfill_min_records: int = Field(
        default=100_000, ge=0, description="the record count from which auto turns backfill on", json_schema_extra=BULK
    )
    backfill_min_bytes: ByteCount = Field(
        default=256 * MIB, ge=0, description="the file size from which auto turns backfill on", json_schema_extra=BULK
    )
    batch_size: int = Field(
        default=500, ge=1, description="records per batch from the reader to the bulk workers", json_schema_extra=BULK
    )
    # Bounded, so a fast source waits for the engine instead of filling memory.
    queue_batches: int = Field(
        default=8, ge=1, description="batches waiting for the bulk workers, at most", json_schema_extra=BULK
    )
    window: int = Field(
        default=50_000,
        ge=1,
        description="records settled behind an unsettled earlier one before the workers stop taking more",
        json_schema_extra=BULK,
    )
    apply_templates: bool = Field(
        default=True, description="put the index templates and first index in place first", json_schema_extra=BULK
    )
    refresh_at_end: bool = Field(
        default=True,
        description="refresh the index at the end, so the records are searchable at once",
        json_schema_extra=BULK,
    )

    progress: ProgressMode = Field(
        default="auto",
        description="bar, lines or none; auto: a bar on a terminal, else lines",
        json_schema_extra=OUTPUT,
    )
    progress_interval: float | None = Field(
        default=None,
        gt=0,
        description="seconds between progress updates (default: 0.5 for the bar, 10 for lines)",
        json_schema_extra=OUTPUT,
    )


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int:
    """`10mb`, `512k`, `1048576` → bytes (binary units, as OpenSearch reads `100mb`)."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (e.g. 10mb, 512kb, 1048576)")
    number, unit = match.groups()
    return int(float(number) * _UNITS[(unit or "").lower()[:1]])


def format_size(size: int) -> str:
    """Bytes → the shortest exact text parse_size reads back: 10485760 → `10mb`."""
    for unit in ("t", "g", "m", "k"):
        if size and size % _UNITS[unit] == 0:
            return f"{size // _UNITS[unit]}{unit}b"
    return str(size)
