"""A large load keeps the write index's replicas (it serves queries meanwhile) and only turns refresh off; two
backfill loads at once leave the original refresh interval behind, whichever ends last."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from opensearchpy import AsyncOpenSearch

from core.templates import IndexNames
from loaders.backfill import Saved, backfill_settings
from loaders.sources.synthetic_source import SyntheticSource
from tests.test_load_support import count, fresh_index, options, run_load

KEYS = ("index.refresh_interval", "index.number_of_replicas", "index.auto_expand_replicas")
# Not the template's values, so that "put back" cannot pass by resetting to defaults.
ORIGINAL = {"index.refresh_interval": "2s", "index.number_of_replicas": "1", "index.auto_expand_replicas": "false"}


@pytest.fixture
async def names(client: AsyncOpenSearch) -> AsyncIterator[IndexNames]:
    async with fresh_index(client) as fresh:
        await client.indices.put_settings(
            index=fresh.first_index,
            body={"index": {key.removeprefix("index."): value for key, value in ORIGINAL.items()}},
        )
        yield fresh


async def settings_of(client: AsyncOpenSearch, names: IndexNames) -> dict[str, str | None]:
    response = await client.indices.get_settings(index=names.first_index, flat_settings=True)
    values = response[names.first_index]["settings"]
    return {key: values.get(key) for key in KEYS}


async def test_a_large_load_keeps_replicas_and_restores_refresh(
    client: AsyncOpenSearch, names: IndexNames, tmp_path: Path
) -> None:
    seen: list[dict[str, str | None]] = []

    async def watch() -> None:
        while True:
            seen.append(await settings_of(client, names))
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    try:
        # "auto" with a low threshold: the load counts as large, as 100,000 records would by default.
        opts = options(tmp_path, backfill="auto", backfill_min_records=1000, chunk_size=200)
        result = await run_load(SyntheticSource(4000, seed=5), client, names, "acme", opts)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    assert result.backfill and result.counts.created == 4000
    assert any(values["index.refresh_interval"] == "-1" for values in seen), "the load never turned refresh off"
    assert {(v["index.number_of_replicas"], v["index.auto_expand_replicas"]) for v in seen} == {("1", "false")}
    assert await settings_of(client, names) == ORIGINAL
    assert await count(client, names) == 4000


class Remembered:
    """What a load's checkpoint would hold: the settings it must put back."""

    def __init__(self) -> None:
        self.values: list[Saved | None] = []

    def __call__(self, saved: Saved | None) -> None:
        self.values.append(saved)


@pytest.mark.parametrize("last", ["first", "second"])
async def test_two_backfills_at_once_put_back_the_original(
    client: AsyncOpenSearch, names: IndexNames, last: str
) -> None:
    first, second = Remembered(), Remembered()
    async with contextlib.AsyncExitStack() as outer:
        await outer.enter_async_context(backfill_settings(client, names.write_alias, None, first, lambda _: None))
        assert (await settings_of(client, names))["index.refresh_interval"] == "-1"
        inner = backfill_settings(client, names.write_alias, None, second, lambda _: None)
        if last == "first":
            async with inner:
                pass
            # The second load ended; the first still runs with refresh off.
            assert (await settings_of(client, names))["index.refresh_interval"] == "-1"
        else:
            await inner.__aenter__()
            await outer.aclose()  # the first load ends while the second runs
            assert await settings_of(client, names) == ORIGINAL
            await inner.__aexit__(None, None, None)
    assert await settings_of(client, names) == ORIGINAL
    assert first.values == [{names.first_index: {"index.refresh_interval": "2s"}}, None]
    assert second.values == [None, None], "the second load recorded the first one's -1 as the value to restore"


async def test_two_large_loads_at_once(client: AsyncOpenSearch, names: IndexNames, tmp_path: Path) -> None:
    loads = [
        run_load(
            SyntheticSource(1500, seed=seed),
            client,
            names,
            f"tenant-{seed}",
            options(tmp_path / str(seed), backfill="on", chunk_size=100, concurrency=2),
        )
        for seed in (1, 2)
    ]
    results = await asyncio.gather(*loads)
    assert [result.counts.created for result in results] == [1500, 1500]
    assert await settings_of(client, names) == ORIGINAL
    assert await count(client, names) == 3000
