"""Bulk indexing with opensearch-py's `async_streaming_bulk`, several requests in flight.

The helper sends one request at a time per action stream, so concurrency comes from running `concurrency` helper
calls side by side, each fed from the shared queue of prepared batches. The helper chunks by count and bytes and
retries 429s; the client it is given retries whole requests on 502/503/504 and connection errors, and documents the
engine failed with a 5xx are sent again by the worker. Whatever still fails is either a refused document (a dead
letter) or, for a whole request, fatal.

Results map back to records by `_id`: each worker keeps its in-flight records per `_id`, in the order it sent them.

Documents carry an external version (core.versioning), so the engine keeps the newest record of a request however
the workers' requests interleave; a record refused for an older version is settled as superseded, not rejected.

Each batch is placed before it is sent (core.placement): a record whose request lives in an older generation goes to
that index, the others to the write index. With one generation this sends nothing (a cached view of the aliases).
"""

from __future__ import annotations

import asyncio
import heapq
import json
import random
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import TransportError
from opensearchpy.helpers import async_streaming_bulk

from core.bulk_action import index_action
from core.engine import BULK_ITEM_FIELDS
from core.placement import Placement
from core.versioning import is_superseded
from loaders.accounting import Outcome, Tracker
from loaders.prepare import Prepared, Rejection, Stage
from loaders.retry import describe_error, is_transient
from loaders.sources.base import RAW_EXCERPT_CHARS

# A worker holding a partial chunk sends it after this long without new records (the helper only sends when a
# chunk is full or its stream ends).
IDLE_FLUSH_SECONDS = 0.25
WINDOW_POLL_SECONDS = 0.02


class End:
    """Queued after the last batch."""


class ReaderFailed:
    """Queued when the reader thread stops on an error; the loop side raises it."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


QueueItem = list[Prepared] | End | ReaderFailed


@dataclass(frozen=True)
class BulkSettings:
    index: str  # the write alias; records are placed (core.placement) in concrete indices behind it
    concurrency: int
    chunk_size: int
    max_chunk_bytes: int
    max_retries: int
    initial_backoff: float
    max_backoff: float
    request_timeout: float
    window: int  # settled records waiting behind an unsettled one before workers stop taking new batches

    def backoff(self, attempt: int) -> float:
        """Exponential with full jitter, so workers retrying together do not hit the engine together."""
        ceiling = min(self.max_backoff, self.initial_backoff * 2 ** max(0, attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


Log = Callable[[str], None]


class RetryingClient:
    """The client as `async_streaming_bulk` sees it: `bulk` retried with backoff on 502/503/504 and connection
    errors (a timed-out request may have been applied; resending is harmless since `_id`s are fixed)."""

    def __init__(self, client: AsyncOpenSearch, settings: BulkSettings, log: Log) -> None:
        self._client = client
        self._settings = settings
        self._log = log
        self.retries = 0

    @property
    def transport(self) -> Any:
        return self._client.transport

    async def bulk(self, *args: Any, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            try:
                return await self._client.bulk(*args, **kwargs)
            except TransportError as error:
                # (429s are left to the bulk helper, which retries them itself.)
                retryable = is_transient(error) and error.status_code != 429
                if not retryable or attempt >= self._settings.max_retries:
                    raise
                attempt += 1
                self.retries += 1
                delay = self._settings.backoff(attempt)
                self._log(f"bulk request failed ({describe_error(error)}); retry {attempt} in {delay:.1f}s")
                await asyncio.sleep(delay)


class BulkLoader:
    def __init__(
        self,
        client: AsyncOpenSearch,
        queue: asyncio.Queue[QueueItem],
        tracker: Tracker,
        settings: BulkSettings,
        log: Log,
        placement: Placement,
    ) -> None:
        self.client = RetryingClient(client, settings, log)
        self.placement = placement
        self.queue = queue
        self.tracker = tracker
        self.settings = settings
        self.log = log
        self.source_done = False
        self.document_retries = 0

    async def run(self) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                for number in range(self.settings.concurrency):
                    group.create_task(_Worker(self, number).run(), name=f"bulk-worker-{number}")
        except BaseExceptionGroup as failed:
            # Callers handle one error (an engine or source failure), not a group of one per worker.
            raise _first_leaf(failed) from None


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


class _Worker:
    def __init__(self, loader: BulkLoader, number: int) -> None:
        self.loader = loader
        self.settings = loader.settings
        self.number = number
        self.inflight: dict[str, deque[Prepared]] = {}
        self.held = 0  # handed to the helper, result not yet seen
        self.batch: deque[Prepared] = deque()
        self.retry: list[tuple[float, int, Prepared]] = []  # heap by due time
        self.loop = asyncio.get_running_loop()

    @property
    def finished(self) -> bool:
        return self.loader.source_done and not self.batch and not self.retry and not self.held

    async def run(self) -> None:
        settings = self.settings
        while not self.finished:
            # One helper call per stretch of steady input; it returns when `_actions` ends (idle or done).
            async for ok, info in async_streaming_bulk(
                self.loader.client,
                self._actions(),
                chunk_size=settings.chunk_size,
                max_chunk_bytes=settings.max_chunk_bytes,
                raise_on_error=False,  # refused documents come back as results: dead letters, not exceptions
                raise_on_exception=True,  # a whole request failing after retries stops the run
                max_retries=settings.max_retries,
                initial_backoff=settings.initial_backoff,
                max_backoff=settings.max_backoff,
                expand_action_callback=self._expand,
                request_timeout=settings.request_timeout,
                filter_path=BULK_ITEM_FIELDS,
            ):
                self._settle(ok, info)

    def _expand(self, item: Prepared) -> tuple[dict[str, Any], str | None]:
        assert item.doc_id is not None
        return {"index": index_action(item.index or self.settings.index, item.doc_id, item.version)}, item.source

    async def _actions(self) -> AsyncIterator[Prepared]:
        while (item := await self._next()) is not None:
            assert item.doc_id is not None
            self.inflight.setdefault(item.doc_id, deque()).append(item)
            self.held += 1
            yield item

    async def _next(self) -> Prepared | None:
        """The next document to send, or None to end this helper call so its partial chunk goes out."""
        while True:
            now = self.loop.time()
            if self.retry and self.retry[0][0] <= now:
                return heapq.heappop(self.retry)[2]
            if self.batch:
                return self.batch.popleft()
            retry_wait = self.retry[0][0] - now if self.retry else None
            if self.loader.source_done:
                if self.held or retry_wait is None:
                    return None
                await asyncio.sleep(retry_wait)
                continue
            timeout = _earliest(IDLE_FLUSH_SECONDS if self.held else None, retry_wait)
            if self.loader.tracker.waiting >= self.settings.window:
                # An earlier record is still out (likely retrying): stop taking input so memory stays bounded.
                if self.held:
                    return None
                await asyncio.sleep(_earliest(WINDOW_POLL_SECONDS, retry_wait) or WINDOW_POLL_SECONDS)
                continue
            try:
                queued = await asyncio.wait_for(self.loader.queue.get(), timeout)
            except TimeoutError:
                if self.held:
                    return None
                continue
            if isinstance(queued, End):
                self.loader.source_done = True
                self.loader.queue.put_nowait(queued)  # for the other workers; the reader puts nothing after it
                continue
            if isinstance(queued, ReaderFailed):
                self.loader.queue.put_nowait(queued)
                raise queued.error
            ready = []
            for item in queued:
                if item.rejection is not None:
                    self.loader.tracker.settle(item, Outcome.REJECTED, item.rejection)
                else:
                    ready.append(item)
            await self._place(ready)
            self.batch.extend(ready)

    async def _place(self, items: list[Prepared]) -> None:
        """Set each record's index (core.placement), retrying the lookup like a bulk request when the engine fails."""
        ids = [item.doc_id for item in items if item.doc_id is not None]
        attempt = 0
        while True:
            try:
                placed = await self.loader.placement.place(ids, self.settings.request_timeout)
                break
            except TransportError as error:
                if not is_transient(error) or attempt >= self.settings.max_retries:
                    raise
                attempt += 1
                delay = self.settings.backoff(attempt)
                self.loader.log(f"placing a batch failed ({describe_error(error)}); retry {attempt} in {delay:.1f}s")
                await asyncio.sleep(delay)
        for item in items:
            if item.doc_id is not None:
                item.index = placed.index_of(item.doc_id)

    def _settle(self, ok: bool, info: dict[str, Any]) -> None:
        (result,) = info.values()
        doc_id = result.get("_id")
        waiting = self.inflight.get(doc_id) if isinstance(doc_id, str) else None
        if not waiting:
            raise RuntimeError(f"bulk result for an _id this worker did not send: {info!r:.300}")
        item = waiting.popleft()
        if not waiting:
            del self.inflight[doc_id]
        self.held -= 1
        if ok:
            outcome = Outcome.CREATED if result.get("result") == "created" else Outcome.UPDATED
            self.loader.tracker.settle(item, outcome)
            return
        status = result.get("status")
        if is_superseded(status, result.get("error")):
            # The index holds a newer record of this request: this one is applied, and loses.
            self.loader.tracker.settle(item, Outcome.SUPERSEDED)
            return
        transient = isinstance(status, int) and (status == 429 or status >= 500)
        if transient and item.attempts < self.settings.max_retries:
            item.attempts += 1
            self.loader.document_retries += 1
            due = self.loop.time() + self.settings.backoff(item.attempts)
            heapq.heappush(self.retry, (due, item.seq, item))
            return
        reason = engine_reason(result)
        if transient:
            reason = f"{reason} (after {item.attempts} retries)"
        self.loader.tracker.settle(item, Outcome.REJECTED, Rejection(Stage.ENGINE, reason, _document_excerpt(item)))


def _earliest(*delays: float | None) -> float | None:
    present = [delay for delay in delays if delay is not None]
    return max(0.0, min(present)) if present else None


def engine_reason(result: dict[str, Any]) -> str:
    """`type: reason (caused by: …)` from a bulk item's error."""
    error = result.get("error")
    status = result.get("status")
    if not isinstance(error, dict):
        return f"engine refused the document (status {status}): {error}"
    text = f"{error.get('type')}: {error.get('reason')}"
    cause = error.get("caused_by")
    while isinstance(cause, dict):
        text += f" (caused by {cause.get('type')}: {cause.get('reason')})"
        cause = cause.get("caused_by")
    return text


def _document_excerpt(item: Prepared) -> Any:
    """The document as sent, for the dead letter: an object when small, its cut text otherwise."""
    if item.source is None:
        return None
    if len(item.source) <= RAW_EXCERPT_CHARS:
        return json.loads(item.source)
    return item.source
