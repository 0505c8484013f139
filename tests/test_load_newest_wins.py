"""For one request id the index keeps the record with the newest `updatedAt`, whatever order records arrive in:
shuffled within a file and sent by four bulk workers at once, an older file loaded after a newer one, two loads at
the same time. An equal `updatedAt` resolves the same way every time. A record that loses is counted as superseded,
never as a rejection or an error."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

from opensearchpy import AsyncOpenSearch

from cli.load import summary
from core.documents import RawRequest
from core.templates import IndexNames
from core.versioning import content_hash, record_version
from loaders.options import LoadOptions
from loaders.sources.ndjson import NdjsonSource
from tests.test_load_support import dead_letters, documents, fresh_index, options, request, run_load, write_ndjson

IDS = 150
VERSIONS = 4
TENANT = "acme"


def version_of(number: int, k: int, **overrides: Any) -> dict[str, Any]:
    """Record `number`'s k-th version: a later `updatedAt` and a different completion."""
    fields: dict[str, Any] = {"updatedAt": f"2025-07-01T{k:02d}:00:00.{number:06d}Z", "completion": f"version {k}"}
    fields.update(overrides)
    return request(number, prefix="dup", **fields)


def concurrent(tmp_path: Path, name: str) -> LoadOptions:
    """Four bulk requests in flight, small ones: a record's versions land in different, interleaved requests."""
    return options(
        tmp_path,
        concurrency=4,
        chunk_size=15,
        batch_size=15,
        checkpoint_path=tmp_path / f"{name}.checkpoint.json",
        dead_letter_path=tmp_path / f"{name}.dead.ndjson",
    )


async def load_file(
    client: AsyncOpenSearch, names: IndexNames, path: Path, tmp_path: Path, name: str
) -> tuple[int, int, int, int]:
    result = await run_load(NdjsonSource(path, 1 << 20), client, names, TENANT, concurrent(tmp_path, name))
    assert dead_letters(tmp_path / f"{name}.dead.ndjson") == []
    counts = result.counts
    return counts.created, counts.updated, counts.superseded, counts.rejected


async def completions(client: AsyncOpenSearch, names: IndexNames) -> dict[str, str]:
    return {doc["id"]: doc["completion"] for doc in (await documents(client, names)).values()}


NEWEST = {f"dup-{n:06d}": f"version {VERSIONS - 1}" for n in range(IDS)}


async def test_the_newest_record_wins_whatever_the_order(client: AsyncOpenSearch, tmp_path: Path) -> None:
    records = [version_of(n, k) for n in range(IDS) for k in range(VERSIONS)]
    random.Random(12).shuffle(records)  # older versions after newer ones, all through the file
    mixed = write_ndjson(tmp_path / "mixed.ndjson", records)
    older = write_ndjson(tmp_path / "older.ndjson", [version_of(n, k) for n in range(IDS) for k in range(VERSIONS - 1)])
    async with fresh_index(client) as names:
        created, updated, superseded, rejected = await load_file(client, names, mixed, tmp_path, "mixed")
        assert (created, rejected) == (IDS, 0)
        assert created + updated + superseded == IDS * VERSIONS and superseded > 0
        assert await completions(client, names) == NEWEST

        # An older file after the newer one: every record loses, nothing changes, nothing is an error.
        assert await load_file(client, names, older, tmp_path, "older") == (0, 0, IDS * (VERSIONS - 1), 0)
        assert await completions(client, names) == NEWEST

        # The same records again: equal versions are applied (so a rerun also refreshes derived fields).
        created, updated, superseded, _ = await load_file(client, names, mixed, tmp_path, "again")
        assert (created, updated) == (0, IDS)
        assert await completions(client, names) == NEWEST


async def test_two_loads_at_once_keep_the_newest(client: AsyncOpenSearch, tmp_path: Path) -> None:
    newer = write_ndjson(tmp_path / "newer.ndjson", [version_of(n, VERSIONS - 1) for n in range(IDS)])
    older = write_ndjson(tmp_path / "older.ndjson", [version_of(n, k) for k in range(VERSIONS - 1) for n in range(IDS)])
    async with fresh_index(client) as names:
        outcomes = await asyncio.gather(
            load_file(client, names, older, tmp_path, "older"), load_file(client, names, newer, tmp_path, "newer")
        )
        assert sum(created for created, *_ in outcomes) == IDS
        assert all(rejected == 0 for *_, rejected in outcomes)
        assert await completions(client, names) == NEWEST


async def test_equal_updated_at_resolves_the_same_way_in_any_order(client: AsyncOpenSearch, tmp_path: Path) -> None:
    same_time = "2025-07-01T12:00:00Z"
    pairs = [(version_of(n, 0, updatedAt=same_time), version_of(n, 1, updatedAt=same_time)) for n in range(IDS)]
    hashes = [tuple(content_hash(RawRequest.model_validate(r)) for r in pair) for pair in pairs]
    # Equal hashes (about 1 pair in 1,024) give equal versions, where the later arrival wins: left out here.
    distinct = [pair for pair, (a, b) in zip(pairs, hashes, strict=True) if a != b]
    assert len(distinct) >= IDS - 3
    expected = {
        first["id"]: max(first, second, key=lambda r: record_version(RawRequest.model_validate(r)))["completion"]
        for first, second in distinct
    }
    forward = write_ndjson(tmp_path / "forward.ndjson", [r for pair in distinct for r in pair])
    backward = write_ndjson(tmp_path / "backward.ndjson", [r for pair in distinct for r in reversed(pair)])
    winners = []
    for path in (forward, backward, forward):
        async with fresh_index(client) as names:
            await load_file(client, names, path, tmp_path, path.stem + str(len(winners)))
            winners.append(await completions(client, names))
    assert winners == [expected] * 3
    assert set(expected.values()) == {"version 0", "version 1"}  # the hash, not the position, picks


async def test_the_summary_counts_superseded_records(client: AsyncOpenSearch, tmp_path: Path) -> None:
    newer = write_ndjson(tmp_path / "newer.ndjson", [version_of(n, 1) for n in range(5)])
    older = write_ndjson(tmp_path / "older.ndjson", [version_of(n, 0) for n in range(5)])
    async with fresh_index(client) as names:
        await run_load(NdjsonSource(newer, 1 << 20), client, names, TENANT, options(tmp_path))
        result = await run_load(NdjsonSource(older, 1 << 20), client, names, TENANT, options(tmp_path))
        assert result.clean and result.counts.superseded == 5
        assert "superseded 5" in summary(result)
