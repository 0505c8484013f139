"""Cursor paging on `GET /api/v1/requests` through the real app: every sort to the end with no gap or overlap, past
result 10,000, beside a concurrent writer; cursors are tamper-proof and tied to their query and tenant; the signing
secret is shared by every instance through OpenSearch."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
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
from service.cursor import INVALID_CURSOR, MAX_CURSOR_CHARS, CursorError, issue_cursor, read_cursor
from service.keys import KeyStore
from service.params import parse_query
from service.query import build_search_body
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
    assert read_cursor(issue_cursor([0.5, "req-001"], query, "t", key), query, "t", key) == [0.5, "req-001"]
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
    assert read_cursor(token, query, "t", key) == values


def test_the_search_after_body_keeps_the_tenant_filter() -> None:
    query = parse_query({"cursor": "x", "pageSize": "7"}, ["cursor", "pageSize"])
    body = build_search_body(query, "acme", ["2026-01-01", "req-1"])
    assert body["query"]["bool"]["filter"][0] == {"term": {"tenant_id": "acme"}}
    assert body["search_after"] == ["2026-01-01", "req-1"] and body["size"] == 8 and "from" not in body


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
