"""Long commands (load, export) stop cleanly on SIGINT/SIGTERM: the first signal cancels the work, whose
`finally` blocks save a checkpoint and release what they hold; later signals only say that this is under way."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class Interrupted(Exception):
    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


async def until_signalled(work: Coroutine[Any, Any, T], still_stopping: str) -> T:
    """`work`'s result; Interrupted (naming the signal) when SIGINT or SIGTERM cancelled it."""
    task = asyncio.create_task(work)
    received: list[str] = []

    def stop(signum: signal.Signals) -> None:
        # Only the first signal cancels: another would interrupt the clean-up the first one started.
        if not received:
            task.cancel()
        else:
            print(f"{signum.name}: still stopping ({still_stopping})", file=sys.stderr)
        received.append(signum.name)

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)
    try:
        return await task
    except asyncio.CancelledError:
        if received:
            raise Interrupted(received[0]) from None
        raise
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
