"""Cursor paging on `GET /api/v1/requests` through the real app: every sort to the end with no gap or overlap, past
result 10,000, beside a concurrent writer; cursors are tamper-proof and tied to their query and tenant; the signing
secret is shared by every instance through OpenSearch."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import ipaddress
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch
from pydantic import SecretStr, ValidationError

from core.documents import MAX_ID_LENGTH, RawRequest, RequestDocument
from core.fields import FIELDS, MAX_KEYWORD_CHARS, RELEVANCE, SORTABLE
from core.settings import ServiceSettings
from core.templates import IndexNames, apply_templates, delete_all
from service.app import create_app
from service.cursor import (
    EXPIRED_CURSOR,
    INVALID_CURSOR,
    KEEP_ALIVE_MINUTES,
    MAX_CURSOR_CHARS,
    PIT_ID_ROOM_CHARS,
    CursorError,
    Position,
    fingerprint,
    issue_cursor,
    read_cursor,
)
from service.cursor_pit import TOO_MANY_OPEN
from service.keys import KeyStore
from service.params import RequestsQuery, parse_query
from service.query import build_search_body, with_point_in_time
from service.secret import CURSOR_SECRET, SECRET_ID, CursorSecret
from tests.api_server import ApiTestServer
from tests.dataset import BASE, TENANT_A, TENANT_B, index_documents, tenant_documents

Api = TestClient[web.Request, web.Application]
URL = "/api/v1/requests"
SPARSE = [
    RequestDocument.from_raw(RawRequest(id=f"sparse-{i}", createdAt=BASE + timedelta(minutes=3 * i)), TENANT_A)
    for i in range(3)
]
DOCS = [*tenant_documents(TENANT_A, 24), *SPARSE]  # 27: page sizes 1, 9 and 27 end exactly on a page boundary
SIZES = [1, 4, 9, 27]
FIELD_SORTS = [name for name in SORTABLE if name in FIELDS]
DEEP_TENANT = "deep"
DEEP_COUNT = 10_500
WRITER_TENANT = "writer"


@pytest.fixture(scope="module")
async def keys_ab(client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore) -> tuple[str, str]:
    await index_documents(client, index_names, [*DOCS, *tenant_documents(TENANT_B, 24)])
    key_a, _ = await keys.create(TENANT_A)
    key_b, _ = await keys.create(TENANT_B)
    return key_a, key_b


@pytest.fixture(scope="module")
def key_a(keys_ab: tuple[str, str]) -> str:
    return keys_ab[0]


async def fetch(api: Api, key: str, **params: Any) -> tuple[int, dict[str, Any]]:
    response = await api.get(URL, params={k: str(v) for k, v in params.items()}, headers={"Authorization": key})
    body: dict[str, Any] = await response.json()
    return response.status, body


async def get(api: Api, key: str, **params: Any) -> dict[str, Any]:
    status, body = await fetch(api, key, **params)
    assert status == 200, body
    return body


async def page_through(api: Api, key: str, total: int, sizes: list[int], **params: Any) -> list[str]:
    """Every id from the first page to the last, following `nextCursor` (page sizes taken in turn from `sizes`);
    checks that every page carries the full total, no page is empty, and only the last has no cursor."""
    seen: list[str] = []
    cursor: str | None = None
    turn = 0
    while True:
        size = sizes[turn % len(sizes)]
        body = await get(api, key, pageSize=size, **params, **({"cursor": cursor} if cursor else {}))
        assert body["totalCount"] == total
        assert body["requests"], "a page with no requests: the previous page should have said it was the last"
        seen += [request["id"] for request in body["requests"]]
        cursor = body["nextCursor"]
        if cursor is None:
            assert len(seen) == total, f"no nextCursor after {len(seen)} of {total}"
            return seen
        assert isinstance(cursor, str) and len(body["requests"]) == size
        turn += 1


def sort_key(document: RequestDocument, field: str) -> Any:
    value = getattr(document, field)
    if field == "ip" and value is not None:
        # OpenSearch orders ip fields as IPv6 (IPv4 mapped into ::ffff:0:0/96).
        address = ipaddress.ip_address(value)
        return (ipaddress.IPv6Address(f"::ffff:{address}") if address.version == 4 else address).packed
    return value


def expected_order(documents: list[RequestDocument], field: str, descending: bool) -> list[str]:
    """The API's order: by the field, ties by id in the same direction; requests without the field last in both
    orders (themselves by id)."""
    present = [d for d in documents if getattr(d, field) is not None]
    missing = [d for d in documents if getattr(d, field) is None]
    ordered = sorted(present, key=lambda d: (sort_key(d, field), d.id), reverse=descending)
    return [d.id for d in ordered] + sorted((d.id for d in missing), reverse=descending)


# -- paging to the end ----------------------------------------------------------------------------------------------


def test_the_dataset_has_requests_without_values() -> None:
    """So that the paging tests below cross from present values to missing ones (null or sentinel sort values)."""
    for field in ("ip", "url", "model", "cost", "duration_ms", "status", "prompt_tokens"):
        assert any(getattr(d, field) is None for d in DOCS) and any(getattr(d, field) is not None for d in DOCS)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("field", FIELD_SORTS)
async def test_cursor_pages_every_sort_to_the_end(api: Api, key_a: str, field: str, order: str, size: int) -> None:
    seen = await page_through(api, key_a, len(DOCS), [size], sortBy=field, sortOrder=order)
    assert seen == expected_order(DOCS, field, order == "desc")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("search", [None, "answer | lighthouse | refund | 東京"])
async def test_cursor_pages_relevance_to_the_end(
    api: Api, key_a: str, search: str | None, order: str, size: int
) -> None:
    """Relevance sorts by score, then id: paged by cursor, the same order as one page with everything."""
    params: dict[str, Any] = {"sortBy": RELEVANCE, "sortOrder": order, **({"search": search} if search else {})}
    everything = await get(api, key_a, pageSize=1000, **params)
    assert everything["nextCursor"] is None
    expected = [request["id"] for request in everything["requests"]]
    assert len(expected) >= 10
    assert await page_through(api, key_a, len(expected), [size], **params) == expected


async def test_page_size_and_fields_may_change_between_pages(api: Api, key_a: str) -> None:
    seen = await page_through(api, key_a, len(DOCS), [2, 5, 1, 11], sortBy="cost", sortOrder="asc")
    assert seen == expected_order(DOCS, "cost", descending=False)
    first = await get(api, key_a, pageSize=3, sortBy="model", fields="id,model")
    assert set(first["requests"][0]) == {"id", "model"}
    second = await get(api, key_a, pageSize=3, sortBy="model", cursor=first["nextCursor"], fields="cost")
    assert set(second["requests"][0]) == {"id", "cost"}
    assert [r["id"] for r in first["requests"] + second["requests"]] == expected_order(DOCS, "model", True)[:6]


async def test_a_numbered_page_carries_the_cursor_to_what_follows_it(api: Api, key_a: str) -> None:
    expected = expected_order(DOCS, "createdAt", descending=True)
    third = await get(api, key_a, pageSize=5, pageNumber=3)
    assert [r["id"] for r in third["requests"]] == expected[10:15]
    fourth = await get(api, key_a, pageSize=5, cursor=third["nextCursor"])
    assert [r["id"] for r in fourth["requests"]] == expected[15:20]


@pytest.mark.parametrize(("size", "page", "continues"), [(9, 3, False), (9, 2, True), (10, 3, False), (27, 1, False)])
async def test_next_cursor_is_null_exactly_on_the_last_page(
    api: Api, key_a: str, size: int, page: int, continues: bool
) -> None:
    body = await get(api, key_a, pageSize=size, pageNumber=page)
    assert (body["nextCursor"] is not None) is continues
    assert body["totalCount"] == len(DOCS)


async def test_every_answer_has_the_next_cursor_key(api: Api, key_a: str) -> None:
    assert (await get(api, key_a, filter='{"id": "nothing"}')) == {"requests": [], "totalCount": 0, "nextCursor": None}
    assert (await get(api, key_a, pageSize=1000))["nextCursor"] is None


async def test_filters_and_search_page_with_their_own_totals(api: Api, key_a: str) -> None:
    params = {"search": "answer", "filter": '{"status": 201}', "user_id": "carol", "sortBy": "prompt_tokens"}
    matching = [
        d for d in DOCS if d.user_id == "carol" and d.status == 201 and "answer" in (d.completion or "").lower()
    ]
    assert len(matching) > 3
    seen = await page_through(api, key_a, len(matching), [3], **params)
    assert seen == expected_order(matching, "prompt_tokens", descending=True)


# -- past 10,000 ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def deep_key(client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore) -> str:
    documents = [
        RequestDocument.from_raw(RawRequest(id=f"deep-{i:05d}", createdAt=BASE + timedelta(seconds=i)), DEEP_TENANT)
        for i in range(DEEP_COUNT)
    ]
    await index_documents(client, index_names, documents)  # opensearchpy.helpers.async_bulk
    key, _ = await keys.create(DEEP_TENANT)
    return key


async def test_cursor_pages_past_ten_thousand_to_the_end(api: Api, deep_key: str) -> None:
    seen = await page_through(api, deep_key, DEEP_COUNT, [1000], sortBy="createdAt", sortOrder="asc", fields="id")
    assert seen == [f"deep-{i:05d}" for i in range(DEEP_COUNT)]


async def test_the_last_numbered_page_continues_by_cursor(api: Api, deep_key: str) -> None:
    """pageNumber stops at the 10,000-result window; its last page's cursor goes on past it."""
    status, body = await fetch(api, deep_key, pageSize=1000, pageNumber=11)
    assert status == 400 and "10000" in body["error"]
    tenth = await get(api, deep_key, pageSize=1000, pageNumber=10, sortBy="id", sortOrder="desc", fields="id")
    assert tenth["requests"][-1]["id"] == f"deep-{DEEP_COUNT - 10_000:05d}"
    rest = await get(
        api, deep_key, pageSize=1000, sortBy="id", sortOrder="desc", fields="id", cursor=tenth["nextCursor"]
    )
    assert [r["id"] for r in rest["requests"]] == [f"deep-{i:05d}" for i in reversed(range(DEEP_COUNT - 10_000))]
    assert rest["nextCursor"] is None and rest["totalCount"] == DEEP_COUNT


# -- a concurrent writer --------------------------------------------------------------------------------------------


def writer_document(tenant: str, name: str, minute: float) -> RequestDocument:
    return RequestDocument.from_raw(RawRequest(id=name, createdAt=BASE + timedelta(minutes=minute)), tenant)


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_paging_beside_a_writer_sees_every_earlier_request_once(
    api: Api, client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore, order: str
) -> None:
    """While a client pages by createdAt, another task keeps indexing requests of the same tenant with createdAt
    values all through the range: no request comes twice, and every request that was there before comes once."""
    tenant = f"writer-{order}"
    before = [writer_document(tenant, f"old-{i:03d}", i) for i in range(200)]
    await index_documents(client, index_names, before)
    key, _ = await keys.create(tenant)
    written = asyncio.Event()
    done = asyncio.Event()

    async def writer() -> None:
        round_ = 0
        while not done.is_set():
            # Five new requests a round, spread over the whole range the reader is paging through.
            minutes = [(round_ * 37 + j * 41) % 200 + 0.5 for j in range(5)]
            new = [writer_document(tenant, f"new-{round_:03d}-{j}", minute) for j, minute in enumerate(minutes)]
            await index_documents(client, index_names, new)  # refreshed: the next page can see them
            round_ += 1
            written.set()
            await asyncio.sleep(0)

    task = asyncio.create_task(writer())
    seen: list[str] = []
    cursor: str | None = None
    try:
        while True:
            await written.wait()  # at least one round of writes between any two pages
            written.clear()
            params: dict[str, Any] = {"sortBy": "createdAt", "sortOrder": order, "pageSize": 15, "fields": "id"}
            body = await get(api, key, **params, **({"cursor": cursor} if cursor else {}))
            seen += [request["id"] for request in body["requests"]]
            cursor = body["nextCursor"]
            if cursor is None:
                break
    finally:
        done.set()
        await task
    assert len(seen) == len(set(seen)), "a request came twice"
    assert sorted(name for name in seen if name.startswith("old-")) == [d.id for d in before]
    assert any(name.startswith("new-") for name in seen), "the writer's requests were never reached"


def harbor_document(tenant: str, name: str, i: int) -> RequestDocument:
    """A request whose completion says `harbor` 1 to 4 times among 0 to 8 other words: scores for `harbor` differ
    (term frequency and length) and tie often (the id then decides)."""
    words = ["harbor"] * (i % 4 + 1) + [f"filler{j}" for j in range(i % 9)]
    raw = RawRequest(id=name, createdAt=BASE + timedelta(minutes=i), completion=" ".join(words))
    return RequestDocument.from_raw(raw, tenant)


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_relevance_paging_beside_a_writer_sees_every_earlier_request_once(
    api: Api, client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore, order: str
) -> None:
    """While a client pages `search=harbor` by relevance, another task keeps indexing requests that contain
    `harbor` too. Each one changes the word's statistics (how many requests contain it), and so the score of every
    request already there: without a point in time the next page would start from a score that no longer means the
    same position, repeating or skipping requests. The cursor's point in time keeps the first page's index: every
    request that was there comes exactly once, in the first page's order, and none of the new ones."""
    tenant = f"relevance-writer-{order}"
    before = [harbor_document(tenant, f"old-{i:03d}", i) for i in range(120)]
    await index_documents(client, index_names, before)
    key, _ = await keys.create(tenant)
    params: dict[str, Any] = {"search": "harbor", "sortBy": RELEVANCE, "sortOrder": order, "fields": "id"}
    expected = [request["id"] for request in (await get(api, key, pageSize=1000, **params))["requests"]]
    assert sorted(expected) == [d.id for d in before]
    first = await get(api, key, pageSize=15, **params)  # the index it pages through is the one `expected` saw
    seen = [request["id"] for request in first["requests"]]
    totals = {first["totalCount"]}
    cursor: str | None = first["nextCursor"]
    written = asyncio.Event()
    done = asyncio.Event()

    async def writer() -> None:
        round_ = 0
        while not done.is_set():
            new = [harbor_document(tenant, f"new-{round_:03d}-{j}", round_ * 5 + j) for j in range(5)]
            await index_documents(client, index_names, new)  # refreshed: a search without a PIT sees them
            round_ += 1
            written.set()
            await asyncio.sleep(0)

    task = asyncio.create_task(writer())
    try:
        # Stops once more requests came than there were: without the point in time a descending walk can start
        # over on every page (each write lowers every score below the cursor's) and never end.
        while cursor is not None and len(seen) <= len(before):
            await written.wait()  # at least one round of writes between any two pages
            written.clear()
            body = await get(api, key, pageSize=15, **params, cursor=cursor)
            totals.add(body["totalCount"])
            seen += [request["id"] for request in body["requests"]]
            cursor = body["nextCursor"]
    finally:
        done.set()
        await task
    assert len(seen) == len(set(seen)), f"{len(seen) - len(set(seen))} requests came twice"
    assert sorted(name for name in seen if name.startswith("old-")) == [d.id for d in before], "requests skipped"
    assert cursor is None
    assert seen == expected, "not the first page's order, or requests indexed after the first page"
    assert totals == {len(before)}, "a page counted another index than the first page's"


# -- relevance cursors and their point in time ----------------------------------------------------------------------

RELEVANCE_SEARCH = {"search": "answer | lighthouse | refund | 東京", "sortBy": RELEVANCE}


def cursor_content(cursor: str) -> dict[str, Any]:
    encoded = cursor.split(".")[0]
    content: dict[str, Any] = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    return content


def signed(content: dict[str, Any], key: bytes) -> str:
    """A cursor with exactly this content, signed as the service signs: what an older release could have issued."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    payload = json.dumps(content, separators=(",", ":")).encode()
    return f"{b64(payload)}.{b64(hmac.new(key, payload, hashlib.sha256).digest())}"


async def open_pit_ids(client: AsyncOpenSearch) -> set[str]:
    return {pit["pit_id"] for pit in (await client.get_all_pits()).get("pits", [])}


@pytest.mark.parametrize(
    "params", [{"sortBy": "createdAt"}, {"sortBy": RELEVANCE}, {"sortBy": "cost", "search": "answer"}]
)
async def test_field_sorts_and_relevance_without_search_hold_nothing_open(
    api: Api, key_a: str, params: dict[str, Any]
) -> None:
    """Their order does not depend on index statistics (without a search every score is equal): their cursors are
    what they always were, sort values only."""
    body = await get(api, key_a, pageSize=2, **params)
    assert set(cursor_content(body["nextCursor"])) == {"v", "q", "a"}


async def test_a_relevance_search_pages_through_one_point_in_time_closed_after_the_last_page(
    api: Api, client: AsyncOpenSearch, key_a: str
) -> None:
    first = await get(api, key_a, pageSize=4, **RELEVANCE_SEARCH)
    pit_id = cursor_content(first["nextCursor"])["p"]
    assert pit_id in await open_pit_ids(client)
    cursors = [first["nextCursor"]]
    while cursors[-1] is not None:
        body = await get(api, key_a, pageSize=4, **RELEVANCE_SEARCH, cursor=cursors[-1])
        cursors.append(body["nextCursor"])
        assert body["nextCursor"] is None or cursor_content(body["nextCursor"])["p"] == pit_id
    assert pit_id not in await open_pit_ids(client), "the last page left its point in time open"
    status, body = await fetch(api, key_a, pageSize=4, **RELEVANCE_SEARCH, cursor=cursors[-2])
    assert (status, body) == (400, {"error": EXPIRED_CURSOR}), "a cursor to the last page, once it was served"


async def test_an_expired_relevance_cursor_is_a_400_that_says_to_start_again(
    api: Api, client: AsyncOpenSearch, key_a: str
) -> None:
    """However the point in time went (expired, closed, lost with a node), the engine answers 404
    `search_context_missing_exception`: the client is told to start again, and only the relevance path reads it so."""
    first = await get(api, key_a, pageSize=3, **RELEVANCE_SEARCH)
    await client.delete_pit(body={"pit_id": [cursor_content(first["nextCursor"])["p"]]})
    status, body = await fetch(api, key_a, pageSize=3, **RELEVANCE_SEARCH, cursor=first["nextCursor"])
    assert (status, body) == (400, {"error": EXPIRED_CURSOR})
    assert EXPIRED_CURSOR.startswith(INVALID_CURSOR.rstrip(".")) and "first page" in EXPIRED_CURSOR
    assert f"{KEEP_ALIVE_MINUTES} minutes" in EXPIRED_CURSOR
    again = await get(api, key_a, pageSize=3, **RELEVANCE_SEARCH)
    assert [r["id"] for r in again["requests"]] == [r["id"] for r in first["requests"]]
    await get(api, key_a, pageSize=1000, **RELEVANCE_SEARCH, cursor=again["nextCursor"])  # to the end: closes it


async def test_a_relevance_cursor_without_a_point_in_time_is_refused(api: Api, key_a: str) -> None:
    """A relevance cursor from before points in time (sort values only) would page on over changed scores."""
    first = await get(api, key_a, pageSize=3, **RELEVANCE_SEARCH)
    content = cursor_content(first["nextCursor"])
    del content["p"]
    older = signed(content, await api.app[CURSOR_SECRET].key())
    status, body = await fetch(api, key_a, pageSize=3, **RELEVANCE_SEARCH, cursor=older)
    assert (status, body) == (400, {"error": INVALID_CURSOR})
    await get(api, key_a, pageSize=1000, **RELEVANCE_SEARCH, cursor=first["nextCursor"])  # to the end: closes it


def test_the_documents_state_the_keep_alive() -> None:
    """params.py cannot import it (service.cursor imports params), and the README is text: both say it in words."""
    description = RequestsQuery.model_fields["cursor"].description or ""
    assert f"{KEEP_ALIVE_MINUTES} minutes after each page" in description
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert f"consistent for {KEEP_ALIVE_MINUTES} minutes of inactivity" in readme
    assert EXPIRED_CURSOR.split(".")[0] + "." in readme


def test_a_point_in_time_goes_with_relevance_searches_only() -> None:
    key = b"k" * 32
    relevance = parse_query({"sortBy": RELEVANCE, "search": "refund"}, ["sortBy", "search"])
    by_cost = parse_query({"sortBy": "cost", "search": "refund"}, ["sortBy", "search"])
    with pytest.raises(ValueError, match="point in time"):
        issue_cursor([1.5, "req-001"], relevance, "t", key)
    with pytest.raises(ValueError, match="point in time"):
        issue_cursor([0.5, "req-001"], by_cost, "t", key, pit_id="pit")
    for query, content in [
        (relevance, {"v": 1, "q": fingerprint(relevance, "t"), "a": [1.5, "req-001"]}),
        (by_cost, {"v": 1, "q": fingerprint(by_cost, "t"), "a": [0.5, "req-001"], "p": "pit"}),
        (relevance, {"v": 1, "q": fingerprint(relevance, "t"), "a": [1.5, "req-001"], "p": ""}),
    ]:
        with pytest.raises(CursorError):
            read_cursor(signed(content, key), query, "t", key)
    position = read_cursor(issue_cursor([1.5, "req-001"], relevance, "t", key, "pit"), relevance, "t", key)
    assert position == Position([1.5, "req-001"], "pit")


def test_the_longest_relevance_cursor_the_service_can_issue_is_read_back() -> None:
    """A point-in-time id as long as a cursor carries, beside the longest id: within the same length cap."""
    key = b"k" * 32
    query = parse_query({"sortBy": RELEVANCE, "search": "refund"}, ["sortBy", "search"])
    values: list[Any] = [-1.7976931348623157e308, "\x00" * MAX_ID_LENGTH]
    token = issue_cursor(values, query, "t", key, "A" * PIT_ID_ROOM_CHARS)
    assert len(token) <= MAX_CURSOR_CHARS
    assert read_cursor(token, query, "t", key) == Position(values, "A" * PIT_ID_ROOM_CHARS)
    with pytest.raises(ValueError, match="does not fit"):
        issue_cursor(values, query, "t", key, "A" * (PIT_ID_ROOM_CHARS + 1))


@contextlib.asynccontextmanager
async def no_point_in_time_to_spare(client: AsyncOpenSearch) -> AsyncIterator[None]:
    """The node's `search.max_open_pit_context` at 0, as when 300 are open, for as short a time as the test takes
    (it is node-wide: an export elsewhere would be refused meanwhile)."""
    setting = "search.max_open_pit_context"
    current = (await client.cluster.get_settings(flat_settings=True))["transient"].get(setting)
    await client.cluster.put_settings(body={"transient": {setting: 0}})
    try:
        yield
    finally:
        await client.cluster.put_settings(body={"transient": {setting: current}})


async def test_no_point_in_time_to_spare_is_a_503_to_retry_and_field_sorts_go_on(
    api: Api, key_a: str, client: AsyncOpenSearch
) -> None:
    started = await get(api, key_a, pageSize=3, **RELEVANCE_SEARCH)
    async with no_point_in_time_to_spare(client):
        response = await api.get(URL, params={"pageSize": "3", **RELEVANCE_SEARCH}, headers={"Authorization": key_a})
        assert response.status == 503 and int(response.headers["Retry-After"]) > 0
        assert await response.json() == {"error": TOO_MANY_OPEN}
        by_cost = await get(api, key_a, pageSize=3, sortBy="cost")
        assert (await get(api, key_a, pageSize=3, sortBy="cost", cursor=by_cost["nextCursor"]))["requests"]
        # A cursor's point in time is already open: its pages go on.
        assert (await get(api, key_a, pageSize=3, **RELEVANCE_SEARCH, cursor=started["nextCursor"]))["requests"]
    await get(api, key_a, pageSize=1000, **RELEVANCE_SEARCH, cursor=started["nextCursor"])  # to the end: closes it


# -- tampering ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def issued(api: Api, key_a: str) -> str:
    body = await get(api, key_a, pageSize=4, sortBy="model", search="answer", filter='{"cached": false}', user_id="bob")
    cursor: str = body["nextCursor"]
    return cursor


ISSUED_PARAMS = {"pageSize": 4, "sortBy": "model", "search": "answer", "filter": '{"cached": false}', "user_id": "bob"}


async def assert_invalid(api: Api, key: str, cursor: str, **changes: Any) -> None:
    params = {**ISSUED_PARAMS, **changes, "cursor": cursor}
    status, body = await fetch(api, key, **params)
    assert (status, body) == (400, {"error": INVALID_CURSOR}), cursor


async def test_the_issued_cursor_works_with_its_own_parameters(api: Api, key_a: str, issued: str) -> None:
    body = await get(api, key_a, **ISSUED_PARAMS, cursor=issued)
    assert body["requests"]


async def test_every_changed_character_is_refused(api: Api, key_a: str, issued: str) -> None:
    alphabet = "AQgw_-9."
    for position, character in enumerate(issued):
        replacement = next(c for c in alphabet if c != character)
        await assert_invalid(api, key_a, issued[:position] + replacement + issued[position + 1 :])


async def test_a_respelling_with_the_same_bytes_is_refused(api: Api, key_a: str, issued: str) -> None:
    """Base64's last character carries spare bits, so another character there can decode to the same bytes; the
    cursor is still refused: only the exact text the service issued is accepted."""
    payload, signature = issued.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

    def decoded(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    respelled = [signature[:-1] + c for c in alphabet if c != signature[-1]]
    same_bytes = [text for text in respelled if decoded(text) == decoded(signature)]
    assert same_bytes, "a 32-byte signature leaves spare bits in its last character"
    for text in same_bytes:
        await assert_invalid(api, key_a, f"{payload}.{text}")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: c[:-1],
        lambda c: c[: len(c) // 2],
        lambda c: c.split(".")[0],
        lambda c: "." + c.split(".")[1],
        lambda c: c + "A",
        lambda c: c + "==",
        lambda c: c.replace(".", ".."),
        lambda c: c.replace("-", "+").replace("_", "/") + "+/",
        lambda c: " " + c,
        lambda c: c[0] + "!" + c[1:],
        lambda c: c + "é",
        lambda c: ".".join(reversed(c.split("."))),
    ],
    ids=[
        "truncated-by-one",
        "halved",
        "no-signature",
        "no-payload",
        "extended",
        "padded",
        "two-dots",
        "standard-base64",
        "leading-space",
        "non-alphabet-inside",
        "non-ascii",
        "swapped",
    ],
)
async def test_edited_or_truncated_cursors_are_refused(api: Api, key_a: str, issued: str, mangle: Any) -> None:
    await assert_invalid(api, key_a, mangle(issued))


@pytest.mark.parametrize(
    "garbage",
    ["x", "!!!", "a.b", "null", "{}", "..", "A" * 200_000, base64.urlsafe_b64encode(b'{"v":1}').decode() + ".AAAA"],
    ids=["x", "punctuation", "a.b", "null", "braces", "dots", "huge", "unsigned"],
)
async def test_garbage_cursors_are_refused(api: Api, key_a: str, garbage: str) -> None:
    await assert_invalid(api, key_a, garbage)


async def test_a_cursor_signed_with_another_key_is_refused(api: Api, key_a: str, issued: str) -> None:
    query = parse_query({k: str(v) for k, v in ISSUED_PARAMS.items()}, list(ISSUED_PARAMS))
    forged = issue_cursor(["gpt-4o", "req-000"], query, TENANT_A, b"not the service's secret, just a guess")
    await assert_invalid(api, key_a, forged)
    genuine = issue_cursor(["gpt-4o", "req-000"], query, TENANT_A, await api.app[CURSOR_SECRET].key())
    assert (await get(api, key_a, **ISSUED_PARAMS, cursor=genuine))["requests"]


@pytest.mark.parametrize(
    "changes",
    [
        {"search": "answers"},
        {"search": None},
        {"filter": '{"cached": true}'},
        {"filter": '{"cached":false}'},  # the filter as sent, not as understood: send the same text again
        {"filter": None},
        {"sortBy": "cost"},
        {"sortBy": RELEVANCE},
        {"sortOrder": "asc"},
        {"user_id": "alice"},
        {"user_id": None},
        {"app_id": "web"},
    ],
    ids=str,
)
async def test_a_cursor_for_another_query_is_refused(
    api: Api, key_a: str, issued: str, changes: dict[str, Any]
) -> None:
    params = {**ISSUED_PARAMS, **changes, "cursor": issued}
    status, body = await fetch(api, key_a, **{k: v for k, v in params.items() if v is not None})
    assert (status, body) == (400, {"error": INVALID_CURSOR})


async def test_another_tenants_key_cannot_use_the_cursor(api: Api, keys_ab: tuple[str, str], issued: str) -> None:
    await assert_invalid(api, keys_ab[1], issued)


async def test_an_unchanged_order_letter_case_still_matches(api: Api, key_a: str) -> None:
    """sortOrder is compared as understood (`DESC` is `desc`), like blank parameters meaning absent."""
    first = await get(api, key_a, pageSize=2, sortOrder="DESC", app_id="")
    assert (await get(api, key_a, pageSize=2, sortOrder="desc", cursor=first["nextCursor"]))["requests"]


@pytest.mark.parametrize("page_number", ["1", "2"])
async def test_cursor_with_page_number_is_a_400_naming_both(
    api: Api, key_a: str, issued: str, page_number: str
) -> None:
    status, body = await fetch(api, key_a, **ISSUED_PARAMS, cursor=issued, pageNumber=page_number)
    assert status == 400 and set(body) == {"error"}
    assert body["error"].startswith("pageNumber, cursor:")


async def test_a_blank_cursor_means_the_first_page(api: Api, key_a: str) -> None:
    assert await get(api, key_a, cursor="", pageNumber=1) == await get(api, key_a)


def test_sort_values_of_the_wrong_shape_are_refused_even_when_signed() -> None:
    """The signature is the main guard; the payload's shape is still checked, so a value the service would not have
    issued (a list, an object, one value too many) never reaches the engine."""
    key = b"k" * 32
    query = parse_query({"sortBy": "cost"}, ["sortBy"])
    assert read_cursor(issue_cursor([0.5, "req-001"], query, "t", key), query, "t", key).after == [0.5, "req-001"]
    wrong: list[list[Any]] = [[0.5], [0.5, "req-001", "x"], [[0.5], "req-001"], [{"gt": 1}, "req-001"], [True, "x"]]
    for values in wrong:
        with pytest.raises(CursorError):
            read_cursor(issue_cursor(values, query, "t", key), query, "t", key)


def test_the_longest_cursor_the_service_can_issue_is_read_back() -> None:
    """The length cap refuses only what the service never issues: a longest keyword of characters JSON escapes,
    then a longest id."""
    key = b"k" * 32
    query = parse_query({"sortBy": "url"}, ["sortBy"])
    values: list[Any] = ["\x1f" * MAX_KEYWORD_CHARS, "\x00" * MAX_ID_LENGTH]
    token = issue_cursor(values, query, "t", key)
    assert len(token) <= MAX_CURSOR_CHARS
    assert read_cursor(token, query, "t", key) == Position(values, None)


def test_the_search_after_body_keeps_the_tenant_filter() -> None:
    query = parse_query({"cursor": "x", "pageSize": "7"}, ["cursor", "pageSize"])
    body = build_search_body(query, "acme", ["2026-01-01", "req-1"])
    assert body["query"]["bool"]["filter"][0] == {"term": {"tenant_id": "acme"}}
    assert body["search_after"] == ["2026-01-01", "req-1"] and body["size"] == 8 and "from" not in body
    in_pit = with_point_in_time(body, "pit-id", "5m")
    assert in_pit == {**body, "pit": {"id": "pit-id", "keep_alive": "5m"}}
    assert in_pit["query"]["bool"]["filter"][0] == {"term": {"tenant_id": "acme"}}


# -- the secret -----------------------------------------------------------------------------------------------------


@pytest.fixture
async def fresh_names(client: AsyncOpenSearch) -> AsyncIterator[IndexNames]:
    names = IndexNames(prefix=f"test-{uuid.uuid4().hex[:10]}")
    await apply_templates(client, names)
    yield names
    await delete_all(client, names)


async def test_instances_starting_together_agree_on_one_stored_secret(
    client: AsyncOpenSearch, fresh_names: IndexNames
) -> None:
    instances = [CursorSecret(client, fresh_names, None) for _ in range(6)]
    found = await asyncio.gather(*(instance.key() for instance in instances))
    assert len(set(found)) == 1 and len(found[0]) >= 32
    stored = await client.get(index=fresh_names.secrets_index, id=SECRET_ID)
    assert stored["_source"]["value"].encode() == found[0]
    assert await CursorSecret(client, fresh_names, None).key() == found[0]  # a restart reads it back


async def test_a_configured_secret_is_used_and_not_stored(client: AsyncOpenSearch, fresh_names: IndexNames) -> None:
    settings = ServiceSettings(index_prefix=fresh_names.prefix, cursor_secret=SecretStr("s" * 16))
    assert await CursorSecret(client, fresh_names, settings.cursor_secret).key() == b"s" * 16
    assert not await client.indices.exists(index=fresh_names.secrets_index)


def test_the_secret_comes_from_the_environment_and_must_not_be_short(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMSEARCH_CURSOR_SECRET", "long enough to sign with")
    secret = ServiceSettings().cursor_secret
    assert secret is not None and secret.get_secret_value() == "long enough to sign with"
    assert "long enough" not in repr(ServiceSettings())
    monkeypatch.setenv("LLMSEARCH_CURSOR_SECRET", "short")
    with pytest.raises(ValidationError, match="cursor_secret"):
        ServiceSettings()


async def test_a_cursor_works_on_another_instance_and_only_with_the_same_secret(
    api: Api, client: AsyncOpenSearch, index_names: IndexNames, key_a: str
) -> None:
    first = await get(api, key_a, pageSize=5)
    expected = expected_order(DOCS, "createdAt", descending=True)[5:10]
    same = ServiceSettings(index_prefix=index_names.prefix, key_cache_seconds=0)
    configured = ServiceSettings(
        index_prefix=index_names.prefix, key_cache_seconds=0, cursor_secret=SecretStr("c" * 32)
    )
    async with TestClient(ApiTestServer(create_app(client, same))) as other:
        assert [
            r["id"] for r in (await get(other, key_a, pageSize=5, cursor=first["nextCursor"]))["requests"]
        ] == expected
    async with TestClient(ApiTestServer(create_app(client, configured))) as rotated:
        status, body = await fetch(rotated, key_a, pageSize=5, cursor=first["nextCursor"])
        assert (status, body) == (400, {"error": INVALID_CURSOR})
        own = await get(rotated, key_a, pageSize=5)
        assert [
            r["id"] for r in (await get(rotated, key_a, pageSize=5, cursor=own["nextCursor"]))["requests"]
        ] == expected
