"""How a load runs: one validated options object, shared by the CLI and in-process callers (benchmarks)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.settings import default_cache_dir
from loaders.progress import ProgressMode

MIB = 1024 * 1024
BackfillMode = Literal["auto", "on", "off"]


class LoadOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Bulk requests: capped by count and by bytes, `concurrency` in flight.
    # 2 measured best with the node on the same two cores; a cluster of its own takes more (--concurrency).
    concurrency: int = Field(default=2, ge=1, le=64)
    chunk_size: int = Field(default=1000, ge=1, le=100_000)
    max_chunk_bytes: int = Field(default=10 * MIB, ge=1024)
    # A record or document above this is a dead letter rather than a request the engine refuses whole.
    max_document_bytes: int = Field(default=32 * MIB, ge=1024)
    max_retries: int = Field(default=6, ge=0, le=50)
    initial_backoff: float = Field(default=0.5, gt=0)
    max_backoff: float = Field(default=30.0, gt=0)
    request_timeout: float = Field(default=120.0, gt=0)

    # Refresh off and replicas 0 while loading: "auto" when the source is at least this large.
    backfill: BackfillMode = "auto"
    backfill_min_records: int = Field(default=100_000, ge=0)
    backfill_min_bytes: int = Field(default=256 * MIB, ge=0)

    resume: bool = False
    state_dir: Path = Field(default_factory=lambda: default_cache_dir() / "loads")
    checkpoint_path: Path | None = None  # default: state_dir/<source>-<key>.checkpoint.json
    dead_letter_path: Path | None = None  # default: beside the checkpoint
    checkpoint_interval: float = Field(default=1.0, ge=0)

    # Reader → bulk workers: batches of `batch_size`, at most `queue_batches` waiting.
    batch_size: int = Field(default=500, ge=1)
    queue_batches: int = Field(default=8, ge=1)
    # Settled records held behind an unsettled earlier one before workers stop taking input.
    window: int = Field(default=50_000, ge=1)

    progress: ProgressMode = "auto"
    progress_interval: float | None = Field(default=None, gt=0)
    apply_templates: bool = True
    refresh_at_end: bool = True


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int:
    """`10mb`, `512k`, `1048576` → bytes (binary units, as OpenSearch reads `100mb`)."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (e.g. 10mb, 512kb, 1048576)")
    number, unit = match.groups()
    return int(float(number) * _UNITS[(unit or "").lower()[:1]])
