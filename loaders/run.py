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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import OpenSearchException
from pydantic import BaseModel, ConfigDict

from core.placement import placement_for
from core.pricing import PricingTable
from core.templates import IndexNames, apply_templates
from loaders import checkpoint as checkpoints
from loaders.accounting import Counts, DeadLetterFile, Tracker
from loaders.backfill import backfill_settings, refresh
from loaders.bulk import BulkLoader, BulkSettings, QueueItem
from loaders.checkpoint import Checkpoint, CheckpointError, CheckpointWriter
from loaders.options import LoadOptions, parse_size
from loaders.prepare import Preparer
from loaders.progress import Progress
from loaders.reader import Reader
from loaders.retry import Retrier
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
    run = LoadRun(source, client, names, tenant, options, log or _stderr, progress_stream or sys.stderr)
    return await run.run()


@dataclass
class LoadRun:
    """One `load`, in steps: the checkpoint to start from, the engine's limits, the backfill settings, then the
    records from the source through the bulk workers."""

    source: Source
    client: AsyncOpenSearch
    names: IndexNames
    tenant: str | None
    options: LoadOptions
    say: Callable[[str], None]
    progress_stream: TextIO
    started: float = field(default_factory=time.monotonic, init=False)

    @property
    def index(self) -> str:
        return self.names.write_alias

    async def run(self) -> LoadResult:
        checkpoint = self.open_checkpoint()
        state = checkpoint.state
        if state.complete and state.backfill_restore is None:
            self.say(f"{checkpoint.path} says this load is complete; nothing to do")
            return self.result(checkpoint, None, backfill=False)
        # The source first: one that cannot be read (no database, say) should not leave indices behind.
        size = await asyncio.to_thread(self.source.size, checkpoint.started_after)
        retrier = Retrier(self.options.max_retries, self.options.initial_backoff, self.options.max_backoff, self.say)
        if self.options.apply_templates:
            await retrier.run("applying the index templates", lambda: apply_templates(self.client, self.names))
        limits = await _engine_limits(self.client, self.options, self.say)
        backfill = _wants_backfill(self.options, size) or state.backfill_restore is not None
        loader: BulkLoader | None = None
        async with contextlib.AsyncExitStack() as stack:
            if backfill:
                await stack.enter_async_context(
                    backfill_settings(
                        self.client, self.index, state.backfill_restore, checkpoint.remember_backfill, self.say, retrier
                    )
                )
            if not state.complete:
                loader = await self.stream(checkpoint, size, limits)
                checkpoint.mark_complete()
        if self.options.refresh_at_end and not backfill:
            await refresh(self.client, self.index, retrier)
        return self.result(checkpoint, loader, backfill)

    def open_checkpoint(self) -> CheckpointWriter:
        """Where this run starts: after the previous checkpoint when resuming, else at the beginning."""
        options, identity = self.options, self.source.identity
        default_checkpoint, default_dead_letters = checkpoints.default_paths(
            options.state_dir, self.source.name, identity, self.tenant, self.index
        )
        path = options.checkpoint_path or default_checkpoint
        previous = _previous_checkpoint(path, identity, self.tenant, self.index, options.resume, self.say)
        resumed = previous if options.resume else None
        if resumed is not None:
            done = resumed.position.label() if resumed.position else "the start"
            self.say(f"resuming after {done} ({resumed.counts.records:,} records done)")
        elif options.resume:
            self.say(f"no checkpoint at {path}; starting from the beginning")
        state = Checkpoint(
            source=identity,
            tenant=self.tenant,
            index=self.index,
            position=resumed.position if resumed else None,
            counts=resumed.counts if resumed else Counts(),
            dead_letter_path=options.dead_letter_path
            or (resumed.dead_letter_path if resumed else default_dead_letters),
            dead_letter_bytes=resumed.dead_letter_bytes if resumed else 0,
            # Settings a killed backfill left changed are restored by whichever run comes next, resumed or not.
            backfill_restore=previous.backfill_restore if previous is not None else None,
            complete=resumed.complete if resumed else False,
        )
        if resumed is not None:
            state.started_at = resumed.started_at
        dead_letters = DeadLetterFile(state.dead_letter_path)
        dead_letters.reset(state.dead_letter_bytes)
        checkpoint = CheckpointWriter(path, state, dead_letters, options.checkpoint_interval)
        checkpoint.write()
        return checkpoint

    async def stream(self, checkpoint: CheckpointWriter, size: SourceSize | None, limits: _Limits) -> BulkLoader:
        """The source's records after the checkpoint, read on a thread and indexed by the bulk workers."""
        options = self.options
        tracker = Tracker(
            self.source.identity, checkpoint.dead_letters, checkpoint.counts, checkpoint.started_after, checkpoint
        )
        queue: asyncio.Queue[QueueItem] = asyncio.Queue(maxsize=options.queue_batches)
        placement = placement_for(self.client, self.names)
        loader = BulkLoader(
            self.client, queue, tracker, _bulk_settings(self.index, options, limits), self.say, placement
        )
        preparer = Preparer(self.tenant, PricingTable.default(), limits.max_document_bytes)
        reader = Reader(self.source, checkpoint.started_after, preparer, queue, options.batch_size)
        progress = Progress(
            self.progress_stream,
            options.progress,
            size,
            lambda: self.source.consumed,
            tracker.run,
            options.progress_interval,
        )
        try:
            async with progress.shown():
                reader.start()
                await loader.run()
        finally:
            reader.close()
            # Whatever happened, the checkpoint covers exactly what is committed.
            checkpoint.final()
            checkpoint.dead_letters.close()
        return loader

    def result(self, checkpoint: CheckpointWriter, loader: BulkLoader | None, backfill: bool) -> LoadResult:
        seconds = time.monotonic() - self.started
        run = loader.tracker.run if loader else Counts()
        state = checkpoint.state
        return LoadResult(
            source=self.source.identity,
            tenant=self.tenant,
            index=self.index,
            counts=state.counts,
            run=run,
            seconds=round(seconds, 3),
            docs_per_s=round(run.records / seconds, 1) if seconds > 0 else 0.0,
            bytes_per_s=round(run.bytes / seconds, 1) if seconds > 0 else 0.0,
            resumed_from=checkpoint.started_after,
            complete=state.complete,
            backfill=backfill,
            request_retries=loader.client.retries if loader else 0,
            document_retries=loader.document_retries if loader else 0,
            checkpoint_path=checkpoint.path,
            dead_letter_path=state.dead_letter_path,
        )


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


@dataclass(frozen=True)
class _Limits:
    max_document_bytes: int
    max_chunk_bytes: int


async def _engine_limits(client: AsyncOpenSearch, options: LoadOptions, say: Callable[[str], None]) -> _Limits:
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
    return _Limits(min(options.max_document_bytes, usable), min(options.max_chunk_bytes, usable))


def _bulk_settings(index: str, options: LoadOptions, limits: _Limits) -> BulkSettings:
    return BulkSettings(
        index=index,
        concurrency=options.concurrency,
        chunk_size=options.chunk_size,
        max_chunk_bytes=limits.max_chunk_bytes,
        max_retries=options.max_retries,
        initial_backoff=options.initial_backoff,
        max_backoff=options.max_backoff,
        request_timeout=options.request_timeout,
        window=options.window,
    )


def _wants_backfill(options: LoadOptions, size: SourceSize | None) -> bool:
    if options.backfill != "auto":
        return options.backfill == "on"
    if size is None:
        return False
    threshold = options.backfill_min_bytes if size.unit == "bytes" else options.backfill_min_records
    return size.total >= threshold


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)
