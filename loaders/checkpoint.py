"""The resume point of a load: the source position of the last record every earlier one of which is settled.

The file names its source, tenant and index, so `--resume` against a different one is refused instead of silently
skipping records. It is replaced atomically (temp file, fsync, rename): a crash leaves the old or the new one,
never half of one. It also remembers the index settings a backfill changed, so a load killed with SIGKILL (which
no handler sees) still gets them restored by the next run.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from loaders.accounting import Counts, DeadLetterFile
from loaders.sources.base import Position

CHECKPOINT_VERSION = 1


class CheckpointError(Exception):
    """The checkpoint cannot be used for this run (another source, unreadable file)."""


class Checkpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = CHECKPOINT_VERSION
    source: str
    tenant: str | None
    index: str
    position: Position | None = None  # None: nothing committed yet
    counts: Counts = Field(default_factory=Counts)
    dead_letter_path: Path
    dead_letter_bytes: int = Field(default=0, ge=0)
    # The index settings to put back (None: the setting was unset) while a backfill has them changed.
    backfill_restore: dict[str, dict[str, str | None]] | None = None
    complete: bool = False
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def matches(self, source: str, tenant: str | None, index: str) -> bool:
        return (self.source, self.tenant, self.index) == (source, tenant, index)

    def describe(self) -> str:
        return f"source {self.source}, tenant {self.tenant or '(from records)'}, index {self.index}"


def read(path: Path) -> Checkpoint | None:
    if not path.exists():
        return None
    try:
        return Checkpoint.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as error:
        raise CheckpointError(
            f"checkpoint {path} is unreadable ({error}); delete it or run without --resume"
        ) from error


def write(path: Path, checkpoint: Checkpoint) -> None:
    checkpoint.updated_at = datetime.now(UTC)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, checkpoint.model_dump_json(indent=2).encode())


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` by a synced temporary file's rename: a crash leaves the old or the new content, never half."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)


class CheckpointWriter:
    """The checkpoint of one run on disk, kept up with what the run commits.

    The tracker reports each longer committed prefix (`maybe_write`); it is written at most every `interval`
    seconds, after the dead letters it covers are on disk, and once more by `final` whatever way the run ends.
    """

    def __init__(self, path: Path, state: Checkpoint, dead_letters: DeadLetterFile, interval: float) -> None:
        self.path = path
        self.state = state
        self.dead_letters = dead_letters
        self.interval = interval
        self.started_after = state.position
        # What the tracker has committed; `state` gets a copy when written, so it never runs ahead of the file.
        self.position = state.position
        self.counts = state.counts.model_copy(deep=True)
        self._pending = False
        self._last_write = time.monotonic()

    def write(self) -> None:
        write(self.path, self.state)
        self._last_write = time.monotonic()

    def maybe_write(self, position: Position | None, counts: Counts) -> None:
        self.position, self.counts, self._pending = position, counts, True
        if time.monotonic() - self._last_write >= self.interval:
            self.final()

    def final(self) -> None:
        """Write what is committed and not yet written (the last commits of a run, or of one cut short)."""
        if not self._pending:
            return
        self.state.dead_letter_bytes = self.dead_letters.sync()
        self.state.position = self.position
        self.state.counts = self.counts.model_copy(deep=True)
        self._pending = False
        self.write()

    def remember_backfill(self, saved: dict[str, dict[str, str | None]] | None) -> None:
        """Record the index settings to put back (None: nothing to), at once: a kill may come next."""
        self.state.backfill_restore = saved
        self.write()

    def mark_complete(self) -> None:
        self.final()
        self.state.complete = True
        self.write()


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def run_key(source: str, tenant: str | None, index: str) -> str:
    return hashlib.sha256(f"{source}\n{tenant}\n{index}".encode()).hexdigest()[:16]


def default_paths(state_dir: Path, source_name: str, source: str, tenant: str | None, index: str) -> tuple[Path, Path]:
    """(checkpoint, dead-letter file) for a run, named after the source and unique per source + tenant + index."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", source_name)[:60] or "source"
    stem = f"{slug}-{run_key(source, tenant, index)}"
    return state_dir / f"{stem}.checkpoint.json", state_dir / f"{stem}.dead-letter.ndjson"
