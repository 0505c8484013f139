"""`llmsearch indices maintain` on the real node, with tiny thresholds: it rolls over when a condition is met (and
only then, never an empty index, once however many runs race), the data stays searchable through the read alias and
the HTTP API, and a generation past retention is deleted, its documents leaving search and `totalCount`, while the
write index survives whatever its age. A dry run changes nothing."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from core.documents import RequestDocument
from core.lifecycle import maintain
from core.templates import IndexNames, current_layout
from service.keys import KeyStore, Scope
from tests.dataset import TENANT_A, index_documents, make_raw, tenant_documents
from tests.test_lifecycle_support import (
    generation_name,
    generations,
    index_settings,
    lifecycle_env,
    llmsearch,
    stored_count,
    write_index,
)
from tests.test_load_support import fresh_index

Api = TestClient[web.Request, web.Application]


async def total(api: Api, key: str) -> int:
    response = await api.get("/api/v1/requests", headers={"Authorization": f"Bearer {key}"})
    assert response.status == 200, await response.text()
    return int((await response.json())["totalCount"])


async def by_id(api: Api, key: str, request_id: str) -> int:
    response = await api.get(f"/api/v1/requests/{request_id}", headers={"Authorization": f"Bearer {key}"})
    return response.status


async def test_rollover_keeps_data_searchable_and_retention_deletes_the_old_generation(
    client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore, api: Api
) -> None:
    names = index_names
    first, second = generation_name(names, 1), generation_name(names, 2)
    key, _ = await keys.create(TENANT_A, "lifecycle", frozenset({Scope.READ}))
    await index_documents(client, names, tenant_documents(TENANT_A, 8))  # req-000 .. req-007
    assert await total(api, key) == 8

    report = await maintain(client, names, index_settings(rollover_max_docs=5))
    assert report.rollover is not None and report.rollover.done
    assert (report.rollover.old_index, report.rollover.new_index) == (first, second)
    assert report.rollover.reasons == ["8 documents >= max_docs 5"]
    assert report.deleted == [] and [g.index for g in report.kept] == [first]
    rolled_at = time.monotonic()
    assert await write_index(client, names) == second

    # Everything is still found through the read alias and the API; new requests go to the new generation.
    assert await total(api, key) == 8
    assert await by_id(api, key, "req-000") == 200
    await index_documents(client, names, [RequestDocument.from_raw(make_raw(i), TENANT_A) for i in (100, 101, 102)])
    assert await total(api, key) == 11
    assert (await client.count(index=second))["count"] == 3

    # Below the threshold: no rollover. Within retention: kept.
    report = await maintain(client, names, index_settings(rollover_max_docs=5, retention="1h"))
    assert report.rollover is None and report.deleted == []
    assert sorted(await generations(client, names)) == [first, second]

    await asyncio.sleep(max(0.0, 1.2 - (time.monotonic() - rolled_at)))
    dry = await maintain(client, names, index_settings(rollover_max_docs=5, retention="1s"), dry_run=True)
    assert [(d.index, d.docs, d.deleted) for d in dry.deleted] == [(first, 8, False)]
    assert await client.indices.exists(index=first) and await total(api, key) == 11

    report = await maintain(client, names, index_settings(rollover_max_docs=5, retention="1s"))
    assert [(d.index, d.docs, d.deleted) for d in report.deleted] == [(first, 8, True)]
    assert not await client.indices.exists(index=first)
    # The write index is older than the retention too, and survives: it is never deleted.
    found = await generations(client, names)
    assert list(found) == [second] and found[second].write
    assert (datetime.now(UTC) - found[second].created).total_seconds() > 1

    # Its documents are gone from search, the count and the by-id lookup; the newer ones remain.
    assert await total(api, key) == 3
    assert await by_id(api, key, "req-000") == 404
    assert await by_id(api, key, "req-100") == 200


async def test_a_dry_run_changes_nothing(client: AsyncOpenSearch) -> None:
    async with fresh_index(client, "dry") as names:
        await index_documents(client, names, tenant_documents(TENANT_A, 6))
        before = await generations(client, names)
        layout = await current_layout(client, names)
        report = await maintain(client, names, index_settings(rollover_max_docs=5, retention="1s"), dry_run=True)
        assert report.dry_run and report.rollover is not None and not report.rollover.done
        assert report.rollover.new_index == generation_name(names, 2)
        assert report.deleted == [], "the generation it would roll over is not past retention yet"
        assert await generations(client, names) == before
        assert await current_layout(client, names) == layout
        assert not await client.indices.exists(index=generation_name(names, 2))


async def test_an_empty_write_index_is_never_rolled_over_and_size_counts_the_largest_primary(
    client: AsyncOpenSearch,
) -> None:
    async with fresh_index(client, "size") as names:
        settings = index_settings(rollover_max_primary_shard_size="1b")
        report = await maintain(client, names, settings)
        assert report.rollover is None
        assert report.notes == [
            f"{generation_name(names, 1)} meets largest primary shard "
            f"{report.write_largest_primary_bytes:,} bytes >= max_primary_shard_size 1b "
            "but holds no documents: not rolled over"
        ]
        await index_documents(client, names, tenant_documents(TENANT_A, 1))
        report = await maintain(client, names, settings)
        assert report.rollover is not None and report.rollover.done
        (reason,) = report.rollover.reasons
        assert reason.startswith("largest primary shard ") and reason.endswith(">= max_primary_shard_size 1b")
        assert await stored_count(client, names) == 1


async def test_max_age_rolls_over(client: AsyncOpenSearch) -> None:
    async with fresh_index(client, "age") as names:
        await index_documents(client, names, tenant_documents(TENANT_A, 2))
        report = await maintain(client, names, index_settings(rollover_max_age="1h"))
        assert report.rollover is None
        later = datetime.now(UTC) + timedelta(hours=2)  # the clock two hours on, rather than a two-hour test
        report = await maintain(client, names, index_settings(rollover_max_age="1h"), now=later)
        assert report.rollover is not None and report.rollover.done
        assert report.rollover.reasons[0].startswith("age 2.0h >= max_age 1h")


async def test_runs_at_the_same_time_roll_over_once(client: AsyncOpenSearch) -> None:
    async with fresh_index(client, "race") as names:
        await index_documents(client, names, tenant_documents(TENANT_A, 6))
        settings = index_settings(rollover_max_docs=5)
        reports = await asyncio.gather(*(maintain(client, names, settings) for _ in range(4)))
        done = [r for r in reports if r.rollover is not None and r.rollover.done]
        assert len(done) == 1
        assert sorted(await generations(client, names)) == [generation_name(names, 1), generation_name(names, 2)]
        assert await stored_count(client, names) == 6


async def test_the_command(client: AsyncOpenSearch, opensearch_url: str) -> None:
    async with fresh_index(client, "cmd") as names:
        await index_documents(client, names, tenant_documents(TENANT_A, 6))
        env = lifecycle_env(opensearch_url, names.prefix, rollover_max_docs=5, retention="30d")
        dry = llmsearch(env, "indices", "maintain", "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert dry.stdout.startswith("dry run: nothing is changed\n")
        assert f"would roll over {generation_name(names, 1)} -> {generation_name(names, 2)}" in dry.stdout
        assert len(await generations(client, names)) == 1

        done = llmsearch(env, "indices", "maintain", "--json")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["rollover"]["done"] and report["rollover"]["new_index"] == generation_name(names, 2)
        assert report["retention"] == "30d" and [g["index"] for g in report["kept"]] == [generation_name(names, 1)]

        listed = llmsearch(env, "indices", "list")
        assert listed.returncode == 0, listed.stderr
        first_line = next(line for line in listed.stdout.splitlines() if line.startswith(generation_name(names, 1)))
        assert " read " in first_line and first_line.rstrip().endswith("Z"), "its deletion time is shown"

    missing = lifecycle_env(opensearch_url, "test-cmd-none")
    failed = llmsearch(missing, "indices", "maintain")
    assert failed.returncode == 1
    assert "no write index behind test-cmd-none-write" in failed.stderr and "llmsearch templates apply" in failed.stderr
