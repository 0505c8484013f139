"""The reading side of a load, on its own thread: source → prepared records, in batches, into a bounded queue.

Reading, JSON parsing and document building are synchronous (files, psycopg's server-side cursor, pydantic); on
a thread they overlap with the event loop's network waits instead of stalling them. The queue is bounded, so a
fast source waits for the engine rather than filling memory.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading

from loaders.bulk import End, QueueItem, ReaderFailed
from loaders.prepare import Prepared, Preparer, Rejection, Stage
from loaders.sources.base import Position, Source, SourceRecord

PUT_POLL_SECONDS = 0.25


class _Stopped(Exception):
    pass


class Reader:
    def __init__(
        self,
        source: Source,
        resume_after: Position | None,
        preparer: Preparer,
        queue: asyncio.Queue[QueueItem],
        batch_size: int,
    ) -> None:
        self.source = source
        self.resume_after = resume_after
        self.preparer = preparer
        self.queue = queue
        self.batch_size = batch_size
        self.loop = asyncio.get_running_loop()
        self.stop = threading.Event()
        # A daemon thread: a reader blocked in a slow source must not keep an interrupted process alive.
        self.thread = threading.Thread(target=self._run, name="llmsearch-reader", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        try:
            with contextlib.closing(self.source.records(self.resume_after)) as records:
                batch: list[Prepared] = []
                for seq, record in enumerate(records):
                    batch.append(self._prepare(seq, record))
                    if len(batch) >= self.batch_size:
                        self._put(batch)
                        batch = []
                if batch:
                    self._put(batch)
            self._put(End())
        except _Stopped:
            return
        except BaseException as error:  # the loop side raises it; a thread has nowhere else to report
            with contextlib.suppress(_Stopped, RuntimeError):
                self._put(ReaderFailed(error))

    def _prepare(self, seq: int, record: SourceRecord) -> Prepared:
        try:
            return self.preparer.prepare(seq, record)
        except Exception as error:  # a record must never stop the run, even through a bug in building it
            reason = f"unexpected error building the document: {type(error).__name__}: {error}"
            return Prepared(
                seq,
                record.position,
                rejection=Rejection(Stage.VALIDATE, reason, record.data if record.data is not None else record.raw),
            )

    def _put(self, item: QueueItem) -> None:
        if self.stop.is_set():
            raise _Stopped
        future = asyncio.run_coroutine_threadsafe(self.queue.put(item), self.loop)
        while True:
            try:
                future.result(timeout=PUT_POLL_SECONDS)
                return
            except concurrent.futures.TimeoutError:
                if self.stop.is_set():
                    future.cancel()
                    raise _Stopped from None
