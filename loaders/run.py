"""`load`: a source into the index, with accounting, checkpoints, progress and backfill settings.

    result = await load(source, client=client, names=IndexNames("llm-requests"), tenant="acme", options=LoadOptions())

Benchmarks call it in-process; `llmsearch load` is a thin CLI over it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import OpenSearchException
from pydantic import BaseModel, ConfigDict

from core.pricing import PricingTable
from core.templates import IndexNames, apply_templates
from loaders import checkpoint as checkpoints
from loaders.accounting import Counts, DeadLetterFile, Tracker
from loaders.backfill import Saved, backfill_settings
from loaders.bulk import BulkLoader, BulkSettings, QueueItem
from loaders.checkpoint import Checkpoint, CheckpointError
from loaders.options import LoadOptions, parse_size
from loaders.prepare import Preparer
from loaders.progress import Progress
from loaders.reader import Reader
from loaders.sources.base import Position, Source, SourceSize

# Bulk request framing (action lines, newlines) on top of the documents themselves.
REQUEST_OVERHEAD_BYTES = 64 * 1024


class LoadResult(BaseModel):
    """What a load did. `counts` covers the whole load (earlier runs included when resumed), `run` this call."""

    model_config = ConfigDict(extra="forbid")

    source: str
    tenant: str | None
    index: str
    counts: Counts
    run: Counts
    seconds: float
    docs_per_s: float
    bytes_per_s: float
    resumed_from: Position | None
    complete: bool
    backfill: bool
    request_retries: int = 0
    document_retries: int = 0
    checkpoint_path: Path
    dead_letter_path: Path

    @property
    def clean(self) -> bool:
        return self.counts.rejected == 0


async def load(
    source: Source,
    *,
    client: AsyncOpenSearch,
    names: IndexNames,
    tenant: str | None,
    options: LoadOptions,
    log: Callable[[str], None] | None = None,
    progress_stream: TextIO | None = None,
) -> LoadResult:
    """Load every record of `source` (after the checkpoint, with `options.resume`) into `names.write_alias`.

    Rejected records go to the dead-letter file; engine or source failures raise. Cancelling the task (the CLI
    does on SIGINT/SIGTERM) stops it cleanly: the checkpoint is saved and backfill settings are restored.
    """
    say = log or _stderr
    started = time.monotonic()
    index = names.write_alias
    identity = source.identity
    default_checkpoint, default_dead_letters = checkpoints.default_paths(
        options.state_dir, source.name, identity, tenant, index
    )
    checkpoint_path = options.checkpoint_path or default_checkpoint
    previous = _previous_checkpoint(checkpoint_path, identity, tenant, index, options.resume, say)

    resume_after: Position | None = None
    counts = Counts()
    dead_letter_path = options.dead_letter_path or default_dead_letters
    dead_letter_bytes = 0
    if options.resume and previous is not None:
        resume_after, counts = previous.position, previous.counts
        dead_letter_path = options.dead_letter_path or previous.dead_letter_path
        dead_letter_bytes = previous.dead_letter_bytes
        say(f"resuming after {resume_after.label() if resume_after else 'the start'} ({counts.records:,} records done)")
    elif options.resume:
        say(f"no checkpoint at {checkpoint_path}; starting from the beginning")
    dead_letters = DeadLetterFile(dead_letter_path)
    dead_letters.reset(dead_letter_bytes)

    state = Checkpoint(
        source=identity,
        tenant=tenant,
        index=index,
        position=resume_after,
        counts=counts,
        dead_letter_path=dead_letter_path,
        dead_letter_bytes=dead_letter_bytes,
        # Settings a killed backfill left changed are restored by whichever run comes next, resumed or not.
        backfill_restore=previous.backfill_restore if previous is not None else None,
        complete=bool(options.resume and previous is not None and previous.complete),
    )
    if previous is not None and options.resume:
        state.started_at = previous.started_at
    checkpoints.write(checkpoint_path, state)

    def result(run: Counts, backfill: bool, loader: BulkLoader | None = None) -> LoadResult:
        seconds = time.monotonic() - started
        return LoadResult(
            source=identity,
            tenant=tenant,
            index=index,
            counts=state.counts,
            run=run,
            seconds=round(seconds, 3),
            docs_per_s=round(run.records / seconds, 1) if seconds > 0 else 0.0,
            bytes_per_s=round(run.bytes / seconds, 1) if seconds > 0 else 0.0,
            resumed_from=resume_after,
            complete=state.complete,
            backfill=backfill,
            request_retries=loader.client.retries if loader else 0,
            document_retries=loader.document_retries if loader else 0,
            checkpoint_path=checkpoint_path,
            dead_letter_path=dead_letter_path,
        )

    if state.complete and state.backfill_restore is None:
        say(f"{checkpoint_path} says this load is complete; nothing to do")
        return result(Counts(), backfill=False)

    # The source first: one that cannot be read (no database, say) should not leave indices behind.
    size = await asyncio.to_thread(source.size, resume_after)
    if options.apply_templates:
        await apply_templates(client, names)
    max_document_bytes, max_chunk_bytes = await _engine_limits(client, options, say)
    backfill = _wants_backfill(options, size) or state.backfill_restore is not None

    def save(position: Position | None, committed: Counts, dead_letter_size: int) -> None:
        state.position, state.counts, state.dead_letter_bytes = position, committed, dead_letter_size
        checkpoints.write(checkpoint_path, state)

    def remember(saved: Saved | None) -> None:
        state.backfill_restore = saved
        checkpoints.write(checkpoint_path, state)

    tracker = Tracker(identity, dead_letters, counts, resume_after, save, options.checkpoint_interval)
    settings = BulkSettings(
        index=index,
        concurrency=options.concurrency,
        chunk_size=options.chunk_size,
        max_chunk_bytes=max_chunk_bytes,
        max_retries=options.max_retries,
        initial_backoff=options.initial_backoff,
        max_backoff=options.max_backoff,
        request_timeout=options.request_timeout,
        window=options.window,
    )
    progress = Progress(
        progress_stream or sys.stderr,
        options.progress,
        size,
        lambda: source.consumed,
        tracker.run,
        options.progress_interval,
    )

    def say_over_progress(line: str) -> None:
        progress.clear()
        say(line)

    queue: asyncio.Queue[QueueItem] = asyncio.Queue(maxsize=options.queue_batches)
    loader = BulkLoader(client, queue, tracker, settings, say_over_progress)
    preparer = Preparer(tenant, PricingTable.default(), max_document_bytes)

    async with contextlib.AsyncExitStack() as stack:
        if backfill:
            await stack.enter_async_context(
                backfill_settings(client, index, state.backfill_restore, remember, say_over_progress)
            )
        if not state.complete:
            reader = Reader(source, resume_after, preparer, queue, options.batch_size)
            progress_task = asyncio.create_task(progress.run())
            try:
                reader.start()
                await loader.run()
            finally:
                reader.close()
                progress_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await progress_task
                progress.finish()
                # Whatever happened, the checkpoint covers exactly what is committed.
                tracker.checkpoint()
                dead_letters.close()
            state.complete = True
            checkpoints.write(checkpoint_path, state)
    if options.refresh_at_end and not backfill:
        await client.indices.refresh(index=index)
    return result(tracker.run, backfill, loader)


def _previous_checkpoint(
    path: Path, identity: str, tenant: str | None, index: str, resume: bool, say: Callable[[str], None]
) -> Checkpoint | None:
    try:
        previous = checkpoints.read(path)
    except CheckpointError:
        if resume:
            raise
        say(f"ignoring the unreadable checkpoint {path}; starting over")
        return None
    if previous is None:
        return None
    if not previous.matches(identity, tenant, index):
        if resume:
            raise CheckpointError(
                f"checkpoint {path} is for {previous.describe()}; this load is source {identity}, "
                f"tenant {tenant or '(from records)'}, index {index}. Refusing to resume a different load: "
                "pass the matching --checkpoint, or run without --resume to start over."
            )
        return None
    if not resume and previous.position is not None and not previous.complete:
        say(f"starting over; the unfinished load recorded in {path} is discarded (use --resume to continue it)")
    return previous


async def _engine_limits(client: AsyncOpenSearch, options: LoadOptions, say: Callable[[str], None]) -> tuple[int, int]:
    """Document and request byte caps within the engine's `http.max_content_length`, which refuses a whole
    request over it."""
    limit: int | None = None
    try:
        response: dict[str, Any] = await client.cluster.get_settings(include_defaults=True, flat_settings=True)
        for scope in ("transient", "persistent", "defaults"):
            value = response.get(scope, {}).get("http.max_content_length")
            if value is not None:
                limit = parse_size(str(value))
                break
    except (OpenSearchException, ValueError) as error:
        say(f"could not read http.max_content_length ({error}); assuming 100mb")
    limit = limit or 100 * 1024 * 1024
    usable = max(1024, limit - REQUEST_OVERHEAD_BYTES)
    return min(options.max_document_bytes, usable), min(options.max_chunk_bytes, usable)


def _wants_backfill(options: LoadOptions, size: SourceSize | None) -> bool:
    if options.backfill != "auto":
        return options.backfill == "on"
    if size is None:
        return False
    threshold = options.backfill_min_bytes if size.unit == "bytes" else options.backfill_min_records
    return size.total >= threshold


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)
