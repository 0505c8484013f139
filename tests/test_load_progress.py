"""loaders.progress: plain lines for logs, rich's bar for terminals, wiped when the load ends (no engine needed)."""

from __future__ import annotations

import asyncio
import io
import re
import sys

import pytest

from loaders.accounting import Counts
from loaders.progress import Progress, ProgressMode
from loaders.sources.base import SourceSize


async def shown_for(mode: ProgressMode, seconds: float) -> str:
    stream = io.StringIO()
    counts = Counts(created=1500, bytes=3_000_000)
    progress = Progress(stream, mode, SourceSize(total=4000, unit="records"), lambda: 2000, counts, 0.02)
    async with progress.shown():
        await asyncio.sleep(seconds)
    return stream.getvalue()


async def test_lines_mode_writes_whole_lines() -> None:
    text = await shown_for("lines", 0.1)
    lines = text.splitlines()
    assert lines and all(
        re.match(r"\[0:00\] 1,500 records \| 1,500 new \| 0 updated \| 0 rejected", line) for line in lines
    )
    assert "50%" in lines[-1]


async def test_bar_mode_draws_rich_bar_then_wipes_it() -> None:
    text = await shown_for("bar", 0.1)
    assert "1,500 records" in text and "50%" in text and "━" in text
    assert text.endswith("\x1b[2K")  # the transient display erases its lines when it stops


async def test_none_mode_writes_nothing() -> None:
    assert await shown_for("none", 0.05) == ""


async def test_lines_printed_to_stderr_under_the_bar_come_out_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    progress = Progress(stream, "bar", None, lambda: 0, Counts(), 0.01)
    async with progress.shown():
        await asyncio.sleep(0.05)
        print("bulk request failed; retry 1 in 0.5s", file=sys.stderr)
        await asyncio.sleep(0.05)
    assert sys.stderr is stream  # rich put it back
    assert re.search(r"\x1b\[2K(\x1b\[1A\x1b\[2K)*bulk request failed; retry 1 in 0\.5s *\n", stream.getvalue())
