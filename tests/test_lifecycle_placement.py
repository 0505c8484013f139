"""A request is stored once across generations (core.placement): after a rollover, a newer record of a request whose
document lives in an older generation updates it there, through the loader and through POST /api/v1/ingest, so the
read alias finds exactly one copy, the newest; new requests go to the new write index. With one generation no lookup
is sent at all, and a writer that has not yet seen a rollover keeps writing to the previous generation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch
from opensearchpy.helpers import async_bulk

from core.documents import document_id
from core.lifecycle import maintain
from core.placement import Placement, placement_for
from core.templates import IndexNames
from loaders.sources.ndjson import NdjsonSource
from service.keys import KeyStore, Scope
from tests.test_lifecycle_support import copies, generation_name, index_settings, stored_count
from tests.test_load_support import fresh_index, ingest, options, request, run_load, write_ndjson

Api = TestClient[web.Request, web.Application]
TENANT = "placed"


def version(number: int, k: int) -> dict[str, Any]:
    """Request p-<number>'s k-th record: a later `updatedAt` and its own completion."""
    return request(number, prefix="p", updatedAt=f"2025-07-01T{k:02d}:00:00Z", completion=f"version {k}")


def doc(number: int) -> str:
    return document_id(TENANT, f"p-{number:06d}")


async def load(client: AsyncOpenSearch, names: IndexNames, tmp_path: Path, name: str, records: list[Any]) -> Any:
    path = write_ndjson(tmp_path / f"{name}.ndjson", records)
    opts = options(tmp_path / name, batch_size=4, chunk_size=4, concurrency=2)
    return (await run_load(NdjsonSource(path, 1 << 20), client, names, TENANT, opts)).counts


async def where(client: AsyncOpenSearch, names: IndexNames, numbers: range | list[int]) -> dict[int, tuple[str, str]]:
    """Each request's (generation, completion); fails if any is stored more than once."""
    found = await copies(client, names, [doc(n) for n in numbers])
    placed = {}
    for number in numbers:
        stored = found[doc(number)]
        assert len(stored) == 1, f"p-{number}: {len(stored)} copies: {stored}"
        placed[number] = (stored[0]["_index"], stored[0]["completion"])
    return placed


async def roll_over(client: AsyncOpenSearch, names: IndexNames) -> None:
    report = await maintain(client, names, index_settings(rollover_max_docs=1))
    assert report.rollover is not None and report.rollover.done
    # This process's writers would notice within placement.CACHE_SECONDS; the test does not wait for that.
    placement_for(client, names).invalidate()


async def test_rewrites_after_rollover_update_the_generation_that_holds_them(
    client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore, api: Api, tmp_path: Path
) -> None:
    names = index_names
    first, second, third = (generation_name(names, n) for n in (1, 2, 3))
    key, _ = await keys.create(TENANT, "placement", frozenset({Scope.READ, Scope.WRITE}))
    placement = placement_for(client, names)

    # One generation: the loader and ingest send no lookup.
    counts = await load(client, names, tmp_path, "v1", [version(n, 1) for n in range(6)])
    assert (counts.created, counts.rejected) == (6, 0)
    assert (await ingest(api, key, [version(20, 1)]))["accepted"] == 1
    assert placement.lookups == 0

    await roll_over(client, names)
    # The loader: three rewrites of requests in the first generation, one new request.
    counts = await load(client, names, tmp_path, "v2", [*(version(n, 2) for n in (0, 1, 2)), version(6, 2)])
    assert (counts.created, counts.updated, counts.superseded, counts.rejected) == (1, 3, 0, 0)
    assert placement.lookups > 0
    assert await where(client, names, range(7)) == {
        **{n: (first, "version 2") for n in (0, 1, 2)},
        **{n: (first, "version 1") for n in (3, 4, 5)},
        6: (second, "version 2"),
    }

    # Ingest: rewrites of both generations' requests, and an older record that loses.
    answer = await ingest(api, key, [version(3, 3), version(4, 3), version(6, 3), version(1, 1), version(20, 3)])
    assert (answer["accepted"], answer["superseded"]) == (5, 1)
    assert await where(client, names, [1, 3, 4, 6, 20]) == {
        1: (first, "version 2"),
        3: (first, "version 3"),
        4: (first, "version 3"),
        6: (second, "version 3"),
        20: (first, "version 3"),
    }
    response = await api.get("/api/v1/requests/p-000003", headers={"Authorization": f"Bearer {key}"})
    assert (await response.json())["completion"] == "version 3"
    listing = await api.get("/api/v1/requests", headers={"Authorization": f"Bearer {key}"})
    assert (await listing.json())["totalCount"] == 8

    # A third generation: each rewrite still finds its own.
    await roll_over(client, names)
    answer = await ingest(api, key, [version(0, 4), version(6, 4), version(7, 4)])
    assert answer["accepted"] == 3
    counts = await load(client, names, tmp_path, "v5", [version(2, 5), version(6, 5), version(8, 5)])
    assert (counts.created, counts.updated) == (1, 2)
    assert await where(client, names, [0, 2, 6, 7, 8]) == {
        0: (first, "version 4"),
        2: (first, "version 5"),
        6: (second, "version 5"),
        7: (third, "version 4"),
        8: (third, "version 5"),
    }
    assert await stored_count(client, names) == 10


async def test_a_writer_that_has_not_seen_the_rollover_writes_to_the_previous_generation(
    client: AsyncOpenSearch,
) -> None:
    async with fresh_index(client, "stale") as names:
        first, second = generation_name(names, 1), generation_name(names, 2)
        await async_bulk(client, [{"_index": names.write_alias, "_id": f"d{i}", "_source": {}} for i in range(3)])
        await client.indices.refresh(index=names.write_alias)
        stale = Placement(client, names, cache_seconds=3600)
        assert (await stale.place(["d0"])).default == first
        report = await maintain(client, names, index_settings(rollover_max_docs=1))
        assert report.rollover is not None and report.rollover.done

        # Its view predates the rollover: everything, old and new, still goes to the previous generation (where the
        # old documents are), not through the alias to the new one.
        placed = await stale.place(["d0", "d1", "new"])
        assert (placed.default, placed.concrete, dict(placed.older), stale.lookups) == (first, True, {}, 0)

        fresh = Placement(client, names)
        placed = await fresh.place(["d0", "d1", "new"])
        assert (placed.index_of("d0"), placed.index_of("d1"), placed.index_of("new")) == (first, first, second)
        assert fresh.lookups == 1


async def test_before_the_write_alias_exists_documents_go_through_it(client: AsyncOpenSearch) -> None:
    names = IndexNames("test-placement-none")
    placed = await Placement(client, names).place(["a"])
    assert (placed.default, placed.concrete) == (names.write_alias, False)
