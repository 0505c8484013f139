"""`llmsearch templates fill`: documents indexed before `status_class` and `metadata_pairs` existed get them, with
exactly the values core.documents gives a document built today (the Painless script restates those builders)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from opensearchpy import AsyncOpenSearch

from core.derived_fill import FillProgress, fill_derived
from core.documents import RequestDocument
from core.templates import IndexNames, apply_templates, delete_all
from tests.dataset import index_documents, make_raw

TENANT = "fill-tenant"
# Statuses at and past the edges of the classes, none; metadata keys with dots, unicode, an `=`, and values of
# each type a record may hold (booleans and numbers are stored as text).
CASES: list[dict[str, Any]] = [
    {"status": 200, "metadata": {"env": "prod", "team.name": "search", "équipe": "données"}},
    {"status": 599, "metadata": {"a=b": "left out", "flag": True, "n": 3}},
    {"status": 100, "metadata": None},
    {"status": 99, "metadata": {"x": "1"}},
    {"status": 600, "metadata": {}},
    {"status": None, "metadata": {"only": "metadata"}},
    {"status": 404, "request_headers": {"X-Metadata-Env": "staging"}, "metadata": {"k": "v=w"}},
]
DERIVED = ("status_class", "metadata_pairs")


@pytest.fixture(scope="module")
async def names(client: AsyncOpenSearch) -> AsyncIterator[IndexNames]:
    names = IndexNames(prefix=f"test-fill-{uuid.uuid4().hex[:8]}")
    await apply_templates(client, names)
    yield names
    await delete_all(client, names)


def _today(i: int) -> RequestDocument:
    return RequestDocument.from_raw(make_raw(i, id=f"r{i}", **CASES[i]), TENANT)


async def test_fill_gives_older_documents_the_values_a_fresh_load_gives(
    client: AsyncOpenSearch, names: IndexNames
) -> None:
    for i in range(len(CASES)):  # as an older release indexed them: without the derived fields
        source = _today(i).source()
        for name in DERIVED:
            del source[name]
        await client.index(index=names.write_alias, id=f"{TENANT}:r{i}", body=source)
    await index_documents(client, names, [RequestDocument.from_raw(make_raw(50, id="fresh"), TENANT)])

    seen: list[FillProgress] = []
    final = await fill_derived(client, names.read_alias, seen.append, poll_seconds=0.1)

    assert final.done and seen[-1] == final
    filled_cases = sum(
        1 for case in CASES if case["status"] is not None or case.get("metadata") or "request_headers" in case
    )
    assert final.updated == filled_cases, "only documents missing a derived field are rewritten"
    for i in range(len(CASES)):
        stored = (await client.get(index=names.read_alias, id=f"{TENANT}:r{i}"))["_source"]
        expected = _today(i).source()
        assert stored.get("status_class") == expected["status_class"], CASES[i]
        assert sorted(stored.get("metadata_pairs") or []) == sorted(expected["metadata_pairs"]), CASES[i]


async def test_a_second_fill_finds_nothing_to_do(client: AsyncOpenSearch, names: IndexNames) -> None:
    final = await fill_derived(client, names.read_alias, lambda _: None, poll_seconds=0.1)
    assert (final.total, final.updated) == (0, 0)
