"""loaders.checkpoint.CheckpointWriter: commits reach the file at most every interval, `final` writes what is
left, and the file never holds counts ahead of its position (no engine needed)."""

from __future__ import annotations

import time
from pathlib import Path

from loaders import checkpoint as checkpoints
from loaders.accounting import Counts, DeadLetterFile
from loaders.checkpoint import Checkpoint, CheckpointWriter
from loaders.sources.base import Position


def writer(tmp_path: Path, interval: float) -> CheckpointWriter:
    state = Checkpoint(source="s", tenant="t", index="i", dead_letter_path=tmp_path / "dead.ndjson")
    made = CheckpointWriter(tmp_path / "load.checkpoint.json", state, DeadLetterFile(state.dead_letter_path), interval)
    made.write()
    return made


def on_disk(made: CheckpointWriter) -> Checkpoint:
    read = checkpoints.read(made.path)
    assert read is not None
    return read


def test_commits_are_written_once_the_interval_has_passed(tmp_path: Path) -> None:
    made = writer(tmp_path, interval=0.2)
    counts = made.counts
    counts.created = 10
    made.maybe_write(Position("line", 10, 100), counts)
    assert on_disk(made).position is None  # within the interval: not yet
    counts.created = 20  # the tracker goes on counting into the same object
    assert on_disk(made).counts.created == 0
    time.sleep(0.25)
    made.maybe_write(Position("line", 20, 200), counts)
    assert (on_disk(made).position, on_disk(made).counts.created) == (Position("line", 20, 200), 20)
    counts.created = 30  # committed after the write: the state must not show it before its position
    assert made.state.counts.created == 20


def test_final_writes_what_is_pending_and_only_that(tmp_path: Path) -> None:
    made = writer(tmp_path, interval=60)
    before = on_disk(made).updated_at
    made.final()
    assert on_disk(made).updated_at == before  # nothing committed: no write
    made.maybe_write(Position("line", 5, 50), Counts(created=5))
    made.final()
    assert (on_disk(made).position, on_disk(made).counts.created) == (Position("line", 5, 50), 5)


def test_backfill_settings_and_completion_are_written_at_once(tmp_path: Path) -> None:
    made = writer(tmp_path, interval=60)
    made.remember_backfill({"idx": {"index.refresh_interval": None}})
    assert on_disk(made).backfill_restore == {"idx": {"index.refresh_interval": None}}
    made.maybe_write(Position("line", 1, 10), Counts(created=1))
    made.mark_complete()
    state = on_disk(made)
    assert state.complete and state.position == Position("line", 1, 10)
