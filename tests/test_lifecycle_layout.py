"""`llmsearch templates apply` with changed layout settings on a real node: a new shard count rolls the write index over
(the new generation has it, the old documents stay searchable through the read alias, counts stay right); replicas
and the refresh interval change in place on every generation; the same settings again change nothing; and the
service's own start-up (apply_templates without a layout) keeps the layout whatever its environment says."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from opensearchpy import AsyncOpenSearch

from core.documents import RequestDocument
from core.index_settings import Layout
from core.templates import IndexNames, apply_templates, current_layout
from loaders.backfill import backfill_settings
from tests.dataset import TENANT_A, TENANT_B, index_documents, make_raw, tenant_documents
from tests.test_lifecycle_support import (
    generation_name,
    generations,
    lifecycle_env,
    llmsearch,
    stored_count,
    write_index,
)
from tests.test_load_support import fresh_index


@pytest.fixture
async def names(client: AsyncOpenSearch) -> AsyncIterator[IndexNames]:
    async with fresh_index(client, "layout") as fresh:
        await index_documents(client, fresh, tenant_documents(TENANT_A, 20))
        yield fresh


async def test_a_new_shard_count_rolls_over_and_the_rest_changes_in_place(
    client: AsyncOpenSearch, names: IndexNames, opensearch_url: str
) -> None:
    first, second = generation_name(names, 1), generation_name(names, 2)
    env = lifecycle_env(opensearch_url, names.prefix, index_shards=2, index_replicas=0, index_refresh_interval="5s")
    done = llmsearch(env, "templates", "apply")
    assert done.returncode == 0, done.stderr
    assert (
        "index layout: 2 shard(s), 0 replica(s), refresh 5s (was 1 shard(s), replicas auto 0-1, refresh 1s)"
        in done.stdout
    )
    assert f"rolled over {first} -> {second}: number_of_shards 1 -> 2" in done.stdout
    assert f"updated {first} in place: auto_expand_replicas false, number_of_replicas 0, refresh_interval 5s" in (
        done.stdout
    )

    found = await generations(client, names)
    assert sorted(found) == [first, second]
    assert (found[first].write, found[first].shards) == (False, 1)
    assert (found[second].write, found[second].shards) == (True, 2)
    for generation in found.values():  # the new one from the template, the old one in place
        assert (generation.replicas, generation.refresh_interval) == (0, "5s")
    assert await current_layout(client, names) == Layout(2, 0, "5s")

    # The old documents are still searchable through the read alias; new ones go to the new generation.
    assert await stored_count(client, names) == 20
    await index_documents(client, names, tenant_documents(TENANT_B, 5))
    assert await stored_count(client, names) == 25
    counts = await client.count(index=second)
    assert counts["count"] == 5
    tenant_a = await client.count(index=names.read_alias, body={"query": {"term": {"tenant_id": TENANT_A}}})
    assert tenant_a["count"] == 20

    # The same settings again: nothing to do.
    again = llmsearch(env, "templates", "apply")
    assert again.returncode == 0, again.stderr
    assert "existing indices already match it: nothing changed" in again.stdout
    assert "rolled over" not in again.stdout
    assert sorted(await generations(client, names)) == [first, second]

    # Only the refresh interval (and auto-expanded replicas again): in place, no rollover.
    back = lifecycle_env(opensearch_url, names.prefix, index_shards=2, index_refresh_interval="2s")
    done = llmsearch(back, "templates", "apply")
    assert done.returncode == 0, done.stderr
    assert "rolled over" not in done.stdout
    assert f"updated {second} in place: auto_expand_replicas 0-1, refresh_interval 2s" in done.stdout
    found = await generations(client, names)
    assert sorted(found) == [first, second]
    for generation in found.values():
        assert (generation.replicas, generation.auto_expand_replicas, generation.refresh_interval) == (
            None,
            "0-1",
            "2s",
        )


async def test_the_service_start_up_keeps_the_layout(
    client: AsyncOpenSearch, names: IndexNames, opensearch_url: str
) -> None:
    env = lifecycle_env(opensearch_url, names.prefix, index_shards=3, index_refresh_interval="10s")
    assert llmsearch(env, "templates", "apply").returncode == 0
    # What the service (and a load) runs at start, with an environment that sets no layout (default: 1 shard):
    await apply_templates(client, names)
    assert await current_layout(client, names) == Layout(3, None, "10s")
    assert len(await generations(client, names)) == 2, "the start-up rolled over"
    assert (await generations(client, names))[await write_index(client, names)].shards == 3


async def test_a_refresh_turned_off_by_a_load_is_left_to_the_load(
    client: AsyncOpenSearch, names: IndexNames, opensearch_url: str
) -> None:
    first = generation_name(names, 1)
    await client.indices.put_settings(index=first, body={"index": {"refresh_interval": "-1"}})
    env = lifecycle_env(opensearch_url, names.prefix, index_refresh_interval="3s")
    done = llmsearch(env, "templates", "apply")
    assert done.returncode == 0, done.stderr
    assert f"note: {first}: refresh is off (a large load is running" in done.stdout
    assert (await generations(client, names))[first].refresh_interval == "-1"
    document = RequestDocument.from_raw(make_raw(99), TENANT_A)
    await index_documents(client, names, [document])
    assert await stored_count(client, names) == 21


async def test_a_large_load_restores_the_configured_refresh_interval_where_an_index_had_none(
    client: AsyncOpenSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fresh_index(client, "restore") as names:
        first = generation_name(names, 1)
        await client.indices.put_settings(index=first, body={"index": {"refresh_interval": None}})
        assert (await generations(client, names))[first].refresh_interval is None
        monkeypatch.setenv("LLMSEARCH_INDEX_REFRESH_INTERVAL", "7s")
        async with backfill_settings(client, names.write_alias, None, lambda _: None, lambda _: None):
            assert (await generations(client, names))[first].refresh_interval == "-1"
        # Not the engine's default (1s): the configured value.
        assert (await generations(client, names))[first].refresh_interval == "7s"
