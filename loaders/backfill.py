"""Index settings for a large backfill: no periodic refresh while loading, put back afterwards.

Refreshing every second slows a bulk load down and is not needed until the load is over. Only the refresh interval
changes: the write index serves queries for every tenant while the load runs, so its replicas stay as they are
(with none, losing one node during a load took reads down for everyone). Documents a load has written become
searchable when it ends (or at the next refresh another load or the owner triggers).

The previous value (the configured LLMSEARCH_INDEX_REFRESH_INTERVAL when the index had none of its own, not the
engine's default) is put back on every way out (success, failure, SIGINT/SIGTERM via task cancellation), and handed
to `remember` before anything changes, so a run killed outright can still be undone by the next one.

A rollover during the load (core.lifecycle) leaves the previous write index with refresh off until the load ends and
restores it; the new write index is created with the configured interval.

Two loads at once: the second finds refresh already off. That is the first load's setting (or the owner's own), not
the value to put back, so the second leaves the index to whoever turned refresh off: it neither records nor
restores it, and only refreshes at its end. Whichever load ends last, the first one's saved value is what remains.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import OpenSearchException

from core.index_settings import IndexSettings
from loaders.retry import NO_RETRIES, Retrier

BACKFILL_SETTINGS: dict[str, str] = {"index.refresh_interval": "-1"}
REFRESH_OFF = "-1"
# The refresh that ends a large load writes out everything loaded since the last one: it can take a while.
REFRESH_TIMEOUT_SECONDS = 120.0

Saved = dict[str, dict[str, str | None]]


async def write_indices(client: AsyncOpenSearch, write_alias: str, retrier: Retrier = NO_RETRIES) -> list[str]:
    """The concrete index (or indices) the write alias points writes at."""
    aliases: dict[str, Any] = await retrier.run(
        "reading the write alias", lambda: client.indices.get_alias(name=write_alias)
    )
    writers = [index for index, body in aliases.items() if body["aliases"][write_alias].get("is_write_index")]
    return sorted(writers or aliases)


async def current_settings(client: AsyncOpenSearch, indices: list[str], retrier: Retrier = NO_RETRIES) -> Saved:
    response: dict[str, Any] = await retrier.run(
        "reading index settings", lambda: client.indices.get_settings(index=",".join(indices), flat_settings=True)
    )
    # An index with no refresh interval of its own gets the configured one back (core.index_settings), not the
    # engine's default: every index the template made has one, so this is for indices made otherwise.
    configured = {"index.refresh_interval": IndexSettings().index_refresh_interval}
    return {
        index: {key: response[index]["settings"].get(key, configured.get(key)) for key in BACKFILL_SETTINGS}
        for index in indices
    }


async def restore(client: AsyncOpenSearch, saved: Saved, retrier: Retrier = NO_RETRIES) -> None:
    for index, settings in saved.items():
        body = {"index": unprefixed(settings)}
        await retrier.run("restoring index settings", partial(client.indices.put_settings, index=index, body=body))
        # Documents loaded with refresh off become visible now rather than at the next interval.
        await refresh(client, index, retrier)


async def refresh(client: AsyncOpenSearch, indices: str, retrier: Retrier = NO_RETRIES) -> None:
    await retrier.run(
        "refreshing", lambda: client.indices.refresh(index=indices, request_timeout=REFRESH_TIMEOUT_SECONDS)
    )


@asynccontextmanager
async def backfill_settings(
    client: AsyncOpenSearch,
    write_alias: str,
    previous: Saved | None,
    remember: Callable[[Saved | None], None],
    log: Callable[[str], None],
    retrier: Retrier = NO_RETRIES,
) -> AsyncIterator[Saved]:
    """Apply the backfill settings to the write index for the duration of the block.

    `previous` is what an earlier, killed run saved: those are the values to restore, since the index now carries
    that run's backfill settings. An index whose refresh is already off otherwise is left to the load (or person)
    that turned it off (see the module docstring).
    """
    indices = await write_indices(client, write_alias, retrier)
    saved = {index: settings for index, settings in (previous or {}).items() if index in indices}
    fresh = [index for index in indices if index not in saved]
    current = await current_settings(client, fresh, retrier) if fresh else {}
    joined = [index for index, settings in current.items() if settings.get("index.refresh_interval") == REFRESH_OFF]
    saved.update({index: settings for index, settings in current.items() if index not in joined})
    remember(saved or None)
    try:
        if saved:
            body = {"index": unprefixed(BACKFILL_SETTINGS)}
            await retrier.run(
                "turning refresh off", lambda: client.indices.put_settings(index=",".join(saved), body=body)
            )
            log(f"backfill: refresh off on {', '.join(saved)} until the load ends (replicas unchanged)")
        if joined:
            log(f"backfill: refresh is already off on {', '.join(joined)} (another load's); that load restores it")
        yield saved
    finally:
        await _end(client, saved, joined, remember, log, retrier)


async def _end(
    client: AsyncOpenSearch,
    saved: Saved,
    joined: list[str],
    remember: Callable[[Saved | None], None],
    log: Callable[[str], None],
    retrier: Retrier,
) -> None:
    try:
        await restore(client, saved, retrier)
        if joined:
            # This load's documents, searchable now rather than when the other load ends.
            await refresh(client, ",".join(joined), retrier)
    except OpenSearchException as error:
        log(f"backfill: could not restore the settings of {', '.join(saved)} ({error}); the next load restores them")
    else:
        remember(None)
        if saved:
            log("backfill: index settings restored")


def unprefixed(settings: Mapping[str, str | None]) -> dict[str, str | None]:
    return {key.removeprefix("index."): value for key, value in settings.items()}
