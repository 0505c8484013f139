"""`POST /api/v1/ingest` on a real node: scopes, every answer (200/207/400/413/405), idempotency, newest-wins,
visibility with refresh=wait_for, gzip, and records found by search and counted by analytics afterwards."""

from __future__ import annotations

import asyncio
import gzip
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from core.preparation import Ready, prepare_record
from core.pricing import PricingTable
from core.templates import IndexNames
from service.ingest.handler import PART_RECORDS
from service.ingest.write import write_documents
from service.keys import KeyStore, Scope

Api = TestClient[web.Request, web.Application]
TENANT_A = "ingest-a"
TENANT_B = "ingest-b"
NOW = datetime.now(UTC).replace(microsecond=0)
PATH = "/api/v1/ingest"


def record(i: int, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": f"call-{i}",
        "createdAt": (NOW - timedelta(minutes=30, seconds=i)).isoformat(),
        "model": "gpt-4o-mini",
        "status": 200,
        "user_id": f"user-{i % 3}",
        "prompt_tokens": 10 + i,
        "completion_tokens": 5,
        "request_body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"question number {i}"}]},
        "completion": f"answer number {i}",
        "metadata": {"env": "prod"},
    }
    return fields | overrides


@pytest.fixture(scope="module")
async def key_of(keys: KeyStore) -> dict[str, str]:
    made: dict[str, str] = {}
    for name, tenant, scopes in (
        ("read", TENANT_A, {Scope.READ}),
        ("write", TENANT_A, {Scope.WRITE}),
        ("both", TENANT_A, {Scope.READ, Scope.WRITE}),
        ("b", TENANT_B, {Scope.READ, Scope.WRITE}),
    ):
        made[name], _ = await keys.create(tenant, name, frozenset(scopes))
    return made


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def post(api: Api, key: str, records: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    data = kwargs.pop("data", None)
    headers = {**auth(key), **kwargs.pop("headers", {})}
    if data is None:
        data = orjson.dumps(records)
        headers.setdefault("Content-Type", "application/json")
    response = await api.post(PATH, data=data, headers=headers, **kwargs)
    assert response.content_type == "application/json"
    return response.status, await response.json()


async def count(api: Api, key: str, **params: str) -> int:
    response = await api.get("/api/v1/requests", params=params, headers=auth(key))
    assert response.status == 200, await response.text()
    return int((await response.json())["totalCount"])


@pytest.mark.parametrize(
    ("method", "route", "key_name", "status", "message"),
    [
        ("POST", PATH, "read", 403, "This API key cannot write."),
        ("GET", "/api/v1/requests", "write", 403, "This API key cannot read."),
        ("GET", "/api/v1/analytics", "write", 403, "This API key cannot read."),
        ("GET", "/api/v1/export", "write", 403, "This API key cannot read."),
        ("GET", "/api/v1/requests/call-1", "write", 403, "This API key cannot read."),
        ("POST", PATH, None, 401, "You must be logged in or provide an API key."),
        ("POST", PATH, "lrs_not-a-key", 401, "Invalid API key."),
    ],
)
async def test_scopes_decide_what_a_key_may_do(
    api: Api, key_of: dict[str, str], method: str, route: str, key_name: str | None, status: int, message: str
) -> None:
    key = key_of.get(key_name or "", key_name)
    headers = auth(key) if key else {}
    response = await api.request(method, route, data=b"[]", headers=headers)
    assert (response.status, await response.json()) == (status, {"error": message})


async def test_read_write_key_does_both_and_a_write_is_found_by_search_and_analytics(
    api: Api, key_of: dict[str, str]
) -> None:
    status, answer = await post(api, key_of["both"], [record(i) for i in range(5)], params={"refresh": "wait_for"})
    assert (status, answer) == (200, {"accepted": 5, "superseded": 0})
    assert await count(api, key_of["both"], search="question number") == 5
    response = await api.get(
        "/api/v1/analytics",
        params={"from": "now-1h", "metrics": "count", "groupBy": "model"},
        headers=auth(key_of["both"]),
    )
    body = await response.json()
    assert body["totals"]["count"] == 5
    assert [series["key"] for series in body["series"]] == [{"model": "gpt-4o-mini"}]


async def test_get_is_405_and_the_list_refuses_post(api: Api, key_of: dict[str, str]) -> None:
    response = await api.get(PATH, headers=auth(key_of["both"]))
    assert response.status == 405 and response.headers["Allow"] == "POST"
    assert await response.json() == {"error": "Method not allowed"}
    response = await api.post("/api/v1/requests", data=b"[]", headers=auth(key_of["both"]))
    assert response.status == 405


async def test_some_bad_records_are_207_and_the_others_are_indexed(api: Api, key_of: dict[str, str]) -> None:
    lines = [
        orjson.dumps(record(100)),
        b'{"id": "broken", ',
        orjson.dumps(record(101, status="teapot")),
        orjson.dumps({"model": "no id"}),
        orjson.dumps(record(102, tenant_id="someone-else")),
        orjson.dumps(["not", "an", "object"]),
        orjson.dumps(record(103)),
    ]
    status, answer = await post(
        api,
        key_of["both"],
        None,
        data=b"\n".join(lines),
        headers={"Content-Type": "application/x-ndjson"},
        params={"refresh": "wait_for"},
    )
    assert status == 207
    assert (answer["accepted"], answer["rejected"]) == (2, 5)
    assert [error["index"] for error in answer["errors"]] == [1, 2, 3, 4, 5]
    by_index = {error["index"]: error for error in answer["errors"]}
    assert "not JSON" in by_index[1]["error"]
    assert by_index[2]["id"] == "call-101" and "status" in by_index[2]["error"]
    assert "id" in by_index[3]["error"]
    assert "tenant_id" in by_index[4]["error"]
    assert not any(error["retryable"] for error in answer["errors"])
    assert await count(api, key_of["both"], search="question number 100") == 1
    assert await count(api, key_of["both"], search="question number 103") == 1
    assert await count(api, key_of["both"], search="question number 101") == 0


async def test_a_call_of_several_parts_reports_each_refusal_at_its_place_in_the_body(
    api: Api, key_of: dict[str, str]
) -> None:
    """A call is prepared and written in parts of PART_RECORDS (service.ingest.handler): refusals found while
    preparing and refusals of the engine (an integer the mapping cannot hold) keep their index in the whole body,
    and every other record of every part is indexed."""
    size = 2 * PART_RECORDS + 17
    records = [record(1000 + i, request_body={"prompt": f"parted call {i}"}) for i in range(size)]
    records[3] = record(1003, status="teapot")
    records[PART_RECORDS + 1] = record(1000 + PART_RECORDS + 1, prompt_tokens=2**40)  # refused by the engine
    records[size - 1] = {"model": "no id"}
    status, answer = await post(api, key_of["both"], records, params={"refresh": "wait_for"})
    assert status == 207, answer
    assert (answer["accepted"], answer["rejected"]) == (size - 3, 3)
    assert [error["index"] for error in answer["errors"]] == [3, PART_RECORDS + 1, size - 1]
    assert "engine refused" in answer["errors"][1]["error"]
    assert await count(api, key_of["both"], search='"parted call"') == size - 3


@pytest.mark.parametrize(
    ("data", "content_type", "needle"),
    [
        (b"this is not json", "application/json", "not JSON"),
        (b'{"id": "x"}', "application/json", "not an array"),
        (b"", "application/json", "empty"),
        (b"nope\nnope too\n", "application/x-ndjson", "No line"),
    ],
)
async def test_nothing_readable_is_400(
    api: Api, key_of: dict[str, str], data: bytes, content_type: str, needle: str
) -> None:
    status, answer = await post(api, key_of["both"], None, data=data, headers={"Content-Type": content_type})
    assert status == 400 and needle in answer["error"]


async def test_over_the_limits_is_413(api: Api, key_of: dict[str, str], index_names: IndexNames) -> None:
    big = orjson.dumps([record(200, completion="x" * (11 * 1024 * 1024))])
    status, answer = await post(api, key_of["both"], None, data=big, headers={"Content-Type": "application/json"})
    assert status == 413 and "bytes" in answer["error"]
    many = [{"id": f"m{i}"} for i in range(10_001)]
    status, answer = await post(api, key_of["both"], many)
    assert status == 413 and "10,000" in answer["error"]
    bomb = gzip.compress(b"[" + b" " * (12 * 1024 * 1024) + b"]")
    status, answer = await post(
        api, key_of["both"], None, data=bomb, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    assert status == 413, "the decoded size counts, not the compressed one"


async def test_one_record_over_the_record_limit_is_refused_alone(api: Api, key_of: dict[str, str]) -> None:
    records = [record(300), record(301, completion="y" * (5 * 1024 * 1024)), record(302)]
    status, answer = await post(api, key_of["both"], records)
    assert status == 207 and answer["accepted"] == 2
    (error,) = answer["errors"]
    assert error["index"] == 1 and error["id"] == "call-301" and "over the limit" in error["error"]


async def test_a_gzip_body_is_read(api: Api, key_of: dict[str, str]) -> None:
    data = gzip.compress(orjson.dumps([record(400), record(401)]))
    status, answer = await post(
        api,
        key_of["both"],
        None,
        data=data,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        params={"refresh": "wait_for"},
    )
    assert (status, answer["accepted"]) == (200, 2)
    assert await count(api, key_of["both"], search="question number 401") == 1


async def test_sending_twice_leaves_one_document(api: Api, key_of: dict[str, str]) -> None:
    records = [record(500), record(501)]
    assert (await post(api, key_of["both"], records, params={"refresh": "wait_for"}))[0] == 200
    status, answer = await post(api, key_of["both"], records, params={"refresh": "wait_for"})
    # The same record has the same version, which the engine applies again (core.versioning): not superseded.
    assert (status, answer) == (200, {"accepted": 2, "superseded": 0})
    assert await count(api, key_of["both"], search="question number 500") == 1
    older = record(500, updatedAt=(NOW - timedelta(days=3)).isoformat(), completion="older")
    status, answer = await post(api, key_of["both"], [older], params={"refresh": "wait_for"})
    assert (status, answer) == (200, {"accepted": 1, "superseded": 1})
    assert await count(api, key_of["both"], search="older") == 0


async def test_the_newest_updated_at_wins_whatever_the_arrival_order(
    api: Api, key_of: dict[str, str], client: AsyncOpenSearch, index_names: IndexNames
) -> None:
    """Five versions of each of 40 ids, sent by 4 concurrent callers in shuffled order: the newest is kept; two
    versions with the same updatedAt resolve the same way however they arrive."""
    base = NOW - timedelta(hours=2)
    versions = {
        f"v-{i}": [
            record(600 + i, id=f"v-{i}", updatedAt=(base + timedelta(seconds=s)).isoformat(), completion=f"rev {s}")
            for s in range(5)
        ]
        for i in range(40)
    }
    tie = [record(700, id="tie", updatedAt=base.isoformat(), completion=text) for text in ("left", "right")]
    calls = [[version] for versions_of in versions.values() for version in versions_of] + [[t] for t in tie]
    random.Random(7).shuffle(calls)

    async def worker(batches: list[list[dict[str, Any]]]) -> None:
        for batch in batches:
            status, _ = await post(api, key_of["both"], batch)
            assert status == 200

    await asyncio.gather(*(worker(calls[w::4]) for w in range(4)))
    await client.indices.refresh(index=index_names.read_alias)
    for request_id in versions:
        stored = await client.get(index=index_names.read_alias, id=f"{TENANT_A}:{request_id}")
        assert stored["_source"]["completion"] == "rev 4", request_id
    stored_tie = (await client.get(index=index_names.read_alias, id=f"{TENANT_A}:tie"))["_source"]["completion"]
    # Sent again in the other order, the same one stays.
    for t in reversed(tie):
        await post(api, key_of["both"], [t], params={"refresh": "wait_for"})
    again = (await client.get(index=index_names.read_alias, id=f"{TENANT_A}:tie"))["_source"]["completion"]
    assert again == stored_tie


async def test_two_tenants_ingesting_the_same_ids_do_not_touch_each_other(api: Api, key_of: dict[str, str]) -> None:
    ids = [record(800 + i, id=f"shared-{i}") for i in range(20)]
    theirs = [r | {"completion": "tenant b text"} for r in ids]
    results = await asyncio.gather(
        post(api, key_of["both"], ids, params={"refresh": "wait_for"}),
        post(api, key_of["b"], theirs, params={"refresh": "wait_for"}),
    )
    assert [status for status, _ in results] == [200, 200]
    assert await count(api, key_of["b"], search="tenant b text") == 20
    assert await count(api, key_of["both"], search="tenant b text") == 0
    assert await count(api, key_of["both"], search="question number 800") == 1


async def test_without_refresh_a_record_is_searchable_within_a_second(api: Api, key_of: dict[str, str]) -> None:
    status, _ = await post(api, key_of["both"], [record(900)])
    assert status == 200
    await asyncio.sleep(1.2)  # the index's refresh interval is 1 s
    assert await count(api, key_of["both"], search="question number 900") == 1


async def test_unknown_parameters_are_400(api: Api, key_of: dict[str, str]) -> None:
    status, answer = await post(api, key_of["both"], [record(1000)], params={"refresh": "true"})
    assert status == 400 and answer["error"].startswith("refresh:")
    status, answer = await post(api, key_of["both"], [record(1000)], params={"pipeline": "x"})
    assert status == 400 and answer["error"].startswith("pipeline:")


def test_record_fixture_is_json() -> None:
    assert json.loads(orjson.dumps(record(1)))["id"] == "call-1"


async def test_a_write_before_the_alias_exists_creates_no_index_and_is_to_be_resent(client: AsyncOpenSearch) -> None:
    """Before start-up has made the write alias, a bulk write must not create an index of that name (which would
    block the alias for good): the records are refused as retryable and nothing is created."""
    names = IndexNames(prefix=f"test-noalias-{random.Random().randrange(10**9)}")
    outcome = prepare_record(record(1), "t", PricingTable.default(), 1 << 20)
    assert isinstance(outcome, Ready)
    written = await write_documents(client, names.write_alias, [(0, outcome)], refresh=False, timeout=10)
    assert (written.accepted, written.busy) == (0, True)
    assert not await client.indices.exists(index=names.write_alias)
