"""Progress on stderr: records/s, MB/s and ETA, as a live bar on a terminal (rich) and as plain periodic lines
otherwise (logs and CI keep every line, so they get few)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Literal, TextIO

from rich.console import Console
from rich.progress import BarColumn, TaskID, TextColumn
from rich.progress import Progress as RichProgress
from rich.table import Column

from loaders.accounting import Counts
from loaders.sources.base import SourceSize

ProgressMode = Literal["auto", "bar", "lines", "none"]
BAR_INTERVAL = 0.5
LINES_INTERVAL = 10.0
RATE_WINDOW_SECONDS = 10.0
BAR_WIDTH = 30


class Progress:
    def __init__(
        self,
        stream: TextIO,
        mode: ProgressMode,
        size: SourceSize | None,
        consumed: Callable[[], int],
        counts: Counts,
        interval: float | None = None,
    ) -> None:
        if mode == "auto":
            mode = "bar" if stream.isatty() else "lines"
        self.mode = mode
        self.stream = stream
        self.size = size
        self.consumed = consumed
        self.counts = counts
        self.interval = interval or (BAR_INTERVAL if mode == "bar" else LINES_INTERVAL)
        self.started = time.monotonic()
        # (time, records, bytes, source units) samples: rates over the last seconds follow speed changes.
        self.samples: deque[tuple[float, int, int, int]] = deque()
        self._bar: _Bar | None = None

    @contextlib.asynccontextmanager
    async def shown(self) -> AsyncIterator[None]:
        """Report every `interval` while the block runs; a bar is wiped when it ends, however it ends."""
        if self.mode == "none":
            yield
            return
        if self.mode == "bar":
            self._bar = _Bar(self.stream, self.size)
        ticking = asyncio.create_task(self._tick())
        try:
            yield
        finally:
            ticking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticking
            if self._bar is not None:
                self._bar.close()
                self._bar = None

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.show()

    def show(self) -> None:
        line = self.line()
        if self._bar is not None:
            self._bar.draw(line, self.consumed())
        else:
            self.stream.write(line + "\n")
            self.stream.flush()

    def line(self) -> str:
        now = time.monotonic()
        counts = self.counts
        consumed = self.consumed()
        self.samples.append((now, counts.records, counts.bytes, consumed))
        while len(self.samples) > 2 and now - self.samples[0][0] > RATE_WINDOW_SECONDS:
            self.samples.popleft()
        first = self.samples[0]
        span = now - first[0]
        if span <= 0:
            first, span = (self.started, 0, 0, 0), now - self.started
        docs_rate = (counts.records - first[1]) / span if span > 0 else 0.0
        bytes_rate = (counts.bytes - first[2]) / span if span > 0 else 0.0
        parts = [
            f"{counts.records:,} records",
            f"{counts.created:,} new",
            f"{counts.updated:,} updated",
            *([f"{counts.superseded:,} superseded"] if counts.superseded else []),
            f"{counts.rejected:,} rejected",
            f"{docs_rate:,.0f} docs/s",
            f"{bytes_rate / 1e6:.1f} MB/s",
        ]
        if self.size and self.size.total > 0:
            done = min(1.0, consumed / self.size.total)
            parts.append(f"{done:.0%}")
            units_rate = (consumed - first[3]) / span if span > 0 else 0.0
            if units_rate > 0:
                parts.append(f"ETA {format_duration((self.size.total - consumed) / units_rate)}")
        return f"[{format_duration(now - self.started)}] " + " | ".join(parts)


class _Bar:
    """rich's live display: the bar over the source's size and the progress line beside it.

    Drawn only when the loader asks (no refresh thread competing with the load for the GIL). While it is up,
    lines written to sys.stderr (retries, backfill) are printed above it instead of through it.
    """

    def __init__(self, stream: TextIO, size: SourceSize | None) -> None:
        # `--progress bar` draws the bar even where the stream is no terminal, as asked.
        console = Console(file=stream, force_terminal=True, highlight=False)
        self._display = RichProgress(
            # The bar keeps its width and the line wraps beside it, rather than the bar giving way on a narrow terminal.
            BarColumn(bar_width=BAR_WIDTH, table_column=Column(min_width=BAR_WIDTH, no_wrap=True)),
            TextColumn("{task.description}", markup=False, table_column=Column(overflow="fold")),
            console=console,
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=stream is sys.stderr,
        )
        self._task: TaskID = self._display.add_task("", total=size.total if size and size.total > 0 else None)
        self._display.start()

    def draw(self, line: str, consumed: int) -> None:
        self._display.update(self._task, description=line, completed=consumed)
        self._display.refresh()

    def close(self) -> None:
        self._display.stop()


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
