"""Index settings for a large backfill: no periodic refresh and no replicas while loading, put back afterwards.

Refreshing every second and copying every document to a replica both slow a bulk load down; neither is needed
until the load is over. The previous values are put back on every way out (success, failure, SIGINT/SIGTERM via
task cancellation), and handed to `remember` before anything changes, so a run killed outright can still be
undone by the next one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import OpenSearchException

BACKFILL_SETTINGS: dict[str, str] = {
    "index.refresh_interval": "-1",
    # auto_expand_replicas would override number_of_replicas, so it is switched off for the load too.
    "index.auto_expand_replicas": "false",
    "index.number_of_replicas": "0",
}

Saved = dict[str, dict[str, str | None]]


async def write_indices(client: AsyncOpenSearch, write_alias: str) -> list[str]:
    """The concrete index (or indices) the write alias points writes at."""
    aliases: dict[str, Any] = await client.indices.get_alias(name=write_alias)
    writers = [index for index, body in aliases.items() if body["aliases"][write_alias].get("is_write_index")]
    return sorted(writers or aliases)


async def current_settings(client: AsyncOpenSearch, indices: list[str]) -> Saved:
    response: dict[str, Any] = await client.indices.get_settings(index=",".join(indices), flat_settings=True)
    return {index: {key: response[index]["settings"].get(key) for key in BACKFILL_SETTINGS} for index in indices}


async def restore(client: AsyncOpenSearch, saved: Saved) -> None:
    for index, settings in saved.items():
        await client.indices.put_settings(index=index, body={"index": unprefixed(settings)})
        # Documents loaded with refresh off become visible now rather than at the next interval.
        await client.indices.refresh(index=index)


@asynccontextmanager
async def backfill_settings(
    client: AsyncOpenSearch,
    write_alias: str,
    previous: Saved | None,
    remember: Callable[[Saved | None], None],
    log: Callable[[str], None],
) -> AsyncIterator[Saved]:
    """Apply the backfill settings to the write index for the duration of the block.

    `previous` is what an earlier, killed run saved: those are the values to restore, since the index now carries
    that run's backfill settings.
    """
    indices = await write_indices(client, write_alias)
    saved = {index: settings for index, settings in (previous or {}).items() if index in indices}
    fresh = [index for index in indices if index not in saved]
    if fresh:
        saved.update(await current_settings(client, fresh))
    remember(saved)
    try:
        await client.indices.put_settings(index=",".join(indices), body={"index": unprefixed(BACKFILL_SETTINGS)})
        log(f"backfill: refresh off and replicas 0 on {', '.join(indices)} until the load ends")
        yield saved
    finally:
        try:
            await restore(client, saved)
        except OpenSearchException as error:
            log(
                f"backfill: could not restore the settings of {', '.join(saved)} ({error}); the next load restores them"
            )
        else:
            remember(None)
            log("backfill: index settings restored")


def unprefixed(settings: Mapping[str, str | None]) -> dict[str, str | None]:
    return {key.removeprefix("index."): value for key, value in settings.items()}
