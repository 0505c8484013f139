"""Long commands (load, export) stop cleanly on SIGINT/SIGTERM: the first signal cancels the work, whose
`finally` blocks save a checkpoint and release what they hold; later signals only say that this is under way.
How such a command ends, in exit codes and messages, is written here once for both."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

from opensearchpy.exceptions import OpenSearchException

T = TypeVar("T")

EXIT_FATAL = 1
EXIT_INTERRUPTED = 130


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


class Stopped(Exception):
    """The command ended early; `code` is its exit code, and why has been said on stderr."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def run_resumable(work: Coroutine[Any, Any, T], fatal: tuple[type[Exception], ...]) -> T:
    """Run a checkpointed command's work to its result, or raise Stopped after saying how to go on."""
    try:
        return asyncio.run(work)
    except KeyboardInterrupt:  # before the signal handlers are in place: nothing written yet
        print("interrupted", file=sys.stderr)
        raise Stopped(EXIT_INTERRUPTED) from None
    except Interrupted as stop:
        print(
            f"interrupted by {stop.signal_name}; the checkpoint is saved, rerun with --resume to continue",
            file=sys.stderr,
        )
        raise Stopped(EXIT_INTERRUPTED) from None
    except fatal as error:
        print(f"error: {error}", file=sys.stderr)
        raise Stopped(EXIT_FATAL) from None
    except OpenSearchException as error:
        print(f"error: OpenSearch: {error}; rerun with --resume to continue from the checkpoint", file=sys.stderr)
        raise Stopped(EXIT_FATAL) from None
