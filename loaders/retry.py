"""An engine call of a load retried through a passing failure, with backoff, as the bulk requests are.

A load makes a few calls besides its bulk requests (templates, the write index's settings, the final refresh). On a
cluster losing a node they meet the same passing trouble (a dropped connection, a timeout while the cluster manager
changes, a 503 while shards move), and a load must not end over one when its bulk requests would have retried.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from opensearchpy.exceptions import ConnectionError as EngineConnectionError
from opensearchpy.exceptions import TransportError

T = TypeVar("T")
# Busy (429) or unavailable for now (502-504): worth another try. A connection error or timeout too.
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})


def is_transient(error: TransportError) -> bool:
    return isinstance(error, EngineConnectionError) or error.status_code in TRANSIENT_STATUSES


def describe_error(error: TransportError) -> str:
    if isinstance(error, EngineConnectionError):
        return f"connection error: {error.info or error.error}"
    return f"status {error.status_code}: {error.error}"


@dataclass(frozen=True)
class Retrier:
    max_retries: int
    initial_backoff: float
    max_backoff: float
    log: Callable[[str], None]

    def backoff(self, attempt: int) -> float:
        """Exponential with full jitter, so callers retrying together do not hit the engine together."""
        ceiling = min(self.max_backoff, self.initial_backoff * 2 ** max(0, attempt - 1))
        return random.uniform(ceiling / 2, ceiling)

    async def run(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """`call()`, again after a transient failure, up to `max_retries` times; other failures raise at once."""
        attempt = 0
        while True:
            try:
                return await call()
            except TransportError as error:
                if not is_transient(error) or attempt >= self.max_retries:
                    raise
                attempt += 1
                delay = self.backoff(attempt)
                self.log(f"{what} failed ({describe_error(error)}); retry {attempt} in {delay:.1f}s")
                await asyncio.sleep(delay)


NO_RETRIES = Retrier(0, 1.0, 1.0, lambda _line: None)
