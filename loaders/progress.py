"""Progress on stderr: a redrawn line with records/s, MB/s and ETA on a terminal, plain periodic lines otherwise
(logs and CI keep every line, so they get few)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Literal, TextIO

from loaders.accounting import Counts
from loaders.sources.base import SourceSize

ProgressMode = Literal["auto", "bar", "lines", "none"]
BAR_INTERVAL = 0.5
LINES_INTERVAL = 10.0
RATE_WINDOW_SECONDS = 10.0


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
        self._drawn = False

    async def run(self) -> None:
        if self.mode == "none":
            return
        while True:
            await asyncio.sleep(self.interval)
            self.show()

    def show(self) -> None:
        line = self.line()
        if self.mode == "bar":
            self.stream.write("\r\x1b[2K" + line)
            self._drawn = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def clear(self) -> None:
        """Wipe the redrawn line so a log line does not land on it (the next tick draws it again)."""
        if self.mode == "bar" and self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._drawn = False

    def finish(self) -> None:
        if self.mode == "bar" and self._drawn:
            self.stream.write("\r\x1b[2K")
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


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
