"""Regression tests for what an adversarial probe of `GET /api/v1/requests` found (issue 10): every answer is
JSON with the status that says what was wrong, whatever bytes arrive, and bad encodings are refused, not guessed.

HTTP-level cases go over a raw socket, since an HTTP client library would refuse to send them.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from core.documents import RawRequest, RequestDocument
from core.templates import IndexNames
from service.keys import KeyStore
from tests.dataset import BASE, index_documents

Api = TestClient[web.Request, web.Application]
URL = "/api/v1/requests"
TENANT = "hardening"


@pytest.fixture(scope="module")
async def key(client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore) -> str:
    documents = [
        RequestDocument.from_raw(
            RawRequest(id="h1", createdAt=BASE, request_headers={"X-Metadata-Region": "eu-west"}), TENANT
        ),
        RequestDocument.from_raw(RawRequest(id="h2", createdAt=BASE, metadata={"Region": "us-east"}), TENANT),
    ]
    await index_documents(client, index_names, documents)
    created, _ = await keys.create(TENANT)
    return created


async def raw_exchange(api: Api, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `request` as is; return the status, headers (lower-case names) and body of the answer (the server
    closes the connection after a protocol error, so the answer is everything until EOF)."""
    assert api.server.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", api.server.port)
    try:
        writer.write(request)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


def assert_json_error(status: int, headers: dict[str, str], body: bytes, expected_status: int) -> str:
    assert status == expected_status, body
    assert headers["content-type"].startswith("application/json"), headers
    message: str = json.loads(body)["error"]
    assert message
    return message


@pytest.mark.parametrize(
    ("request_bytes", "status", "words"),
    [
        (b"FOO " + URL.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n", 405, "Method not allowed"),
        (b"G@T " + URL.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n", 405, "Method not allowed"),
        (b"GET " + URL.encode() + b"?filter=" + b"a" * (1100 * 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "line"),
        (
            b"GET " + URL.encode() + b" HTTP/1.1\r\nHost: x\r\nAuthorization: " + b"k" * 17000 + b"\r\n\r\n",
            431,
            "header",
        ),
        (b"GET " + URL.encode() + b"?search=\xff\x00 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "not valid HTTP"),
        (b"GET " + URL.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n", 400, "not valid HTTP"),
    ],
    ids=["unknown-method", "not-a-method", "request-line-too-long", "header-too-long", "raw-bytes", "bad-framing"],
)
async def test_protocol_errors_are_json(api: Api, request_bytes: bytes, status: int, words: str) -> None:
    message = assert_json_error(*await raw_exchange(api, request_bytes), status)
    assert words in message
    assert "aaaa" not in message and "kkkk" not in message  # the request is not echoed back


async def test_an_unknown_method_says_which_are_allowed(api: Api) -> None:
    status, headers, body = await raw_exchange(api, b"FOO " + URL.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_json_error(status, headers, body, 405)
    assert headers["allow"] == "GET, HEAD"


async def get(api: Api, key: str, query: str) -> tuple[int, dict[str, Any]]:
    """`query` goes on the URL exactly as written (already percent-encoded)."""
    response = await api.get(f"{URL}?{query}", headers={"Authorization": key}, allow_redirects=False)
    assert response.content_type == "application/json"
    body: dict[str, Any] = await response.json()
    return response.status, body


@pytest.mark.parametrize(
    "filter_text",
    [
        '{"\\ud800":"x"}',
        '{"metadata.\\ud800":"x"}',
        '{"x-metadata-\\udfff":"x"}',
        '{"\\ud800":{"gt":1}}',
        '{"combinator":"and","rules":[{"field":"\\ud800","operator":"=","value":"x"}]}',
        '{"combinator":"and","rules":[{"field":"model","operator":"\\udfff","value":"x"}]}',
    ],
)
async def test_a_lone_surrogate_in_a_filter_is_a_400_naming_filter(api: Api, key: str, filter_text: str) -> None:
    status, body = await get(api, key, "filter=" + _encode(filter_text))
    assert status == 400, body
    assert body["error"].startswith("filter:")
    assert "\\ud" in body["error"].lower()  # shown escaped


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("user_id=%FF", "user_id"),
        ("search=%ED%A0%80", "search"),  # an encoded surrogate is not UTF-8
        ("search=%E0%A4%A", "search"),  # truncated escape
        ("app_id=%C3", "app_id"),
        ("%FF=1", "parameter name"),
    ],
)
async def test_invalid_encodings_are_a_400_naming_the_parameter(api: Api, key: str, query: str, parameter: str) -> None:
    status, body = await get(api, key, query)
    assert status == 400, body
    assert body["error"].startswith(parameter if parameter != "parameter name" else "a parameter name"), body


async def test_a_bare_percent_sign_is_bad_percent_encoding(api: Api, key: str) -> None:
    # aiohttp's client would re-encode the '%', so this one goes over a raw connection.
    request = f"GET {URL}?search=100% HTTP/1.1\r\nHost: x\r\nAuthorization: {key}\r\nConnection: close\r\n\r\n"
    message = assert_json_error(*await raw_exchange(api, request.encode()), 400)
    assert message.startswith("search:") and "percent-encoding" in message


async def test_valid_encodings_still_work(api: Api, key: str) -> None:
    status, body = await get(api, key, "search=caf%C3%A9+au+lait&user_id=%E6%9D%B1")
    assert status == 200, body


@pytest.mark.parametrize("name", ["X-Metadata-Region", "x-metadata-region", "X-METADATA-REGION"])
async def test_header_style_metadata_keys_are_case_insensitive(api: Api, key: str, name: str) -> None:
    status, body = await get(api, key, "filter=" + _encode(json.dumps({name: "eu-west"})))
    assert status == 200, body
    assert [r["id"] for r in body["requests"]] == ["h1"]


async def test_metadata_dot_key_stays_exact(api: Api, key: str) -> None:
    for name, expected in (("metadata.Region", ["h2"]), ("metadata.region", ["h1"])):
        status, body = await get(api, key, "filter=" + _encode(json.dumps({name: ["eu-west", "us-east"]})))
        assert status == 200, body
        assert [r["id"] for r in body["requests"]] == expected


def _encode(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


PREFIX_WORDS = 1_200  # more distinct words sharing a prefix than any expansion limit (match_phrase_prefix: 50)


@pytest.fixture(scope="module")
async def words_key(client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore) -> str:
    tenant = "hardening-words"
    documents = [
        RequestDocument.from_raw(
            RawRequest(id=f"w{i:04d}", createdAt=BASE, completion=f"answer charlie zqword{i:04d}x"), tenant
        )
        for i in range(PREFIX_WORDS)
    ]
    documents.append(
        RequestDocument.from_raw(RawRequest(id="h006", createdAt=BASE, completion="answer charlie reply6"), tenant)
    )
    await index_documents(client, index_names, documents)
    created, _ = await keys.create(tenant)
    return created


def rule(field: str, operator: str, value: object) -> str:
    return _encode(json.dumps({"combinator": "and", "rules": [{"field": field, "operator": operator, "value": value}]}))


async def test_begins_with_on_text_finds_every_word_at_any_number_of_terms(api: Api, words_key: str) -> None:
    status, body = await get(api, words_key, "pageSize=1&filter=" + rule("completion", "beginsWith", "zqw"))
    assert status == 200 and body["totalCount"] == PREFIX_WORDS
    status, body = await get(api, words_key, "pageSize=1&filter=" + rule("completion", "doesNotBeginWith", "zqw"))
    assert status == 200 and body["totalCount"] == 1  # only h006
    status, body = await get(api, words_key, "pageSize=1&filter=" + rule("completion", "beginsWith", "ZQWORD04"))
    assert status == 200 and body["totalCount"] == 100  # zqword0400x .. zqword0499x, case folded


async def test_begins_with_finds_a_word_that_is_not_the_first(api: Api, words_key: str) -> None:
    both = {
        "combinator": "and",
        "rules": [
            {"field": "id", "operator": "=", "value": "h006"},
            {"field": "completion", "operator": "beginsWith", "value": "rep"},
        ],
    }
    status, body = await get(api, words_key, "filter=" + _encode(json.dumps(both)))
    assert status == 200 and [r["id"] for r in body["requests"]] == ["h006"]


@pytest.mark.parametrize(
    ("operator", "value"),
    [
        (operator, value)
        for operator in ("=", "!=", "contains", "doesNotContain", "beginsWith", "in")
        for value in ("!!!", "  ", "-- ..", "½")
        # A blank list item is no value at all (react-querybuilder's formatQuery drops it), not a bad one.
        if not (operator == "in" and not value.strip())
    ],
)
async def test_a_text_value_with_nothing_to_match_is_a_400(api: Api, words_key: str, operator: str, value: str) -> None:
    given: object = [value, "answer"] if operator == "in" else value  # a list: one bad item spoils it
    status, body = await get(api, words_key, "filter=" + rule("completion", operator, given))
    assert status == 400, body
    assert body["error"].startswith("filter:") and "nothing to match" in body["error"]


async def test_begins_with_on_text_takes_one_word(api: Api, words_key: str) -> None:
    status, body = await get(api, words_key, "filter=" + rule("completion", "beginsWith", "answer cha"))
    assert status == 400 and "one word" in body["error"] and "contains" in body["error"]


@pytest.mark.parametrize(
    "search",
    [" ".join(["xx"] * 205), " ".join(["-xx"] * 200), "東" * 206, " ".join(f"w{i}" for i in range(300))],
    ids=["205-words", "200-exclusions", "206-cjk", "300-words"],
)
async def test_a_search_too_large_to_ever_run_is_a_400_not_a_503(api: Api, words_key: str, search: str) -> None:
    status, body = await get(api, words_key, "search=" + _encode(search))
    assert status == 400, body
    assert body["error"].startswith("search:") and "at most" in body["error"]


async def test_the_clause_budget_is_shared_with_the_filter(api: Api, words_key: str) -> None:
    search = " ".join(f"w{i}" for i in range(150))  # 751 clauses: fine alone
    status, body = await get(api, words_key, "pageSize=1&search=" + _encode(search))
    assert status == 200, body
    phrases = [{"field": "completion", "operator": "=", "value": f"v{i}"} for i in range(300)]  # 300 clauses
    filter_text = _encode(json.dumps({"combinator": "or", "rules": phrases}))
    status, body = await get(api, words_key, f"pageSize=1&search={_encode(search)}&filter={filter_text}")
    assert status == 400 and body["error"].startswith("search:"), body


LONG_URL = "https://example.com/" + "p" * 5_000  # 5,020 characters: past the old `ignore_above: 4096`


@pytest.fixture(scope="module")
async def long_key(client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore) -> str:
    tenant = "hardening-long"
    documents = [
        RequestDocument.from_raw(RawRequest(id="long", createdAt=BASE, url=LONG_URL), tenant),
        RequestDocument.from_raw(RawRequest(id="short", createdAt=BASE, url="https://example.com/a"), tenant),
        RequestDocument.from_raw(RawRequest(id="none", createdAt=BASE), tenant),
        RequestDocument.from_raw(RawRequest(id="cjk", createdAt=BASE, completion="東京の天気は晴れ"), tenant),
    ]
    await index_documents(client, index_names, documents)
    created, _ = await keys.create(tenant)
    return created


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("null", None, {"none", "cjk"}),
        ("notNull", None, {"long", "short"}),
        ("beginsWith", "https://example.com/", {"long", "short"}),
        (">", "https://example.com/b", {"long"}),
        ("=", LONG_URL, {"long"}),
    ],
)
async def test_a_long_url_is_visible_to_filters(
    api: Api, long_key: str, operator: str, value: object, expected: set[str]
) -> None:
    status, body = await get(api, long_key, "filter=" + rule("url", operator, value))
    assert status == 200, body
    assert {r["id"] for r in body["requests"]} == expected


async def test_a_long_url_sorts_by_its_value(api: Api, long_key: str) -> None:
    status, body = await get(api, long_key, "sortBy=url&sortOrder=asc")
    assert status == 200
    assert [r["id"] for r in body["requests"]] == ["short", "long", "cjk", "none"]  # missing last, ties by id


@pytest.mark.parametrize(("search", "expected"), [("京", ["cjk"]), ("東京", ["cjk"]), ("天", ["cjk"]), ("晴", ["cjk"])])
async def test_one_cjk_character_is_found(api: Api, long_key: str, search: str, expected: list[str]) -> None:
    status, body = await get(api, long_key, "search=" + _encode(search))
    assert status == 200 and [r["id"] for r in body["requests"]] == expected


async def test_cjk_phrases_still_need_adjacent_characters(api: Api, long_key: str) -> None:
    for phrase, expected in (('"東京の天気"', ["cjk"]), ('"東京天気"', [])):
        status, body = await get(api, long_key, "search=" + _encode(phrase))
        assert status == 200 and [r["id"] for r in body["requests"]] == expected, phrase


@pytest.mark.parametrize(
    "query", ["pageSize=1_0", "pageSize=%2B10", "pageSize=%2010", "pageNumber=%D9%A1", "pageSize=10.0", "pageSize=1e1"]
)
async def test_page_numbers_are_plain_digits(api: Api, key: str, query: str) -> None:
    status, body = await get(api, key, query)
    assert status == 400 and body["error"].startswith(query.split("=")[0]), body


async def test_fields_selects_what_each_request_holds(api: Api, words_key: str) -> None:
    status, body = await get(api, words_key, "pageSize=3&fields=" + _encode("model, cost,completion"))
    assert status == 200
    assert [list(r) for r in body["requests"]] == [["id", "model", "cost", "completion"]] * 3  # table order, id added
    assert body["totalCount"] == PREFIX_WORDS + 1


@pytest.mark.parametrize(("fields", "bad"), [("model,tenant_id", "tenant_id"), ("prompt", "prompt"), ("nope", "nope")])
async def test_fields_refuses_what_is_not_returned(api: Api, words_key: str, fields: str, bad: str) -> None:
    status, body = await get(api, words_key, "fields=" + fields)
    assert status == 400 and body["error"].startswith("fields:") and repr(bad) in body["error"], body


async def test_big_answers_are_gzipped_when_asked(api: Api, words_key: str) -> None:
    response = await api.get(
        URL, params={"pageSize": "200"}, headers={"Authorization": words_key, "Accept-Encoding": "gzip"}
    )
    assert response.status == 200 and response.headers["Content-Encoding"] == "gzip"
    assert len((await response.json())["requests"]) == 200  # the client library decompresses
    plain = await api.get(URL, params={"pageSize": "200"}, headers={"Authorization": words_key, "Accept-Encoding": ""})
    assert "Content-Encoding" not in plain.headers
    small = await api.get(URL, params={"pageSize": "1", "fields": "id"}, headers={"Authorization": words_key})
    assert "Content-Encoding" not in small.headers  # under a kilobyte: not worth it
