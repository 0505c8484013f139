"""Search, sort, pagination and totals through the real HTTP app, checked against the known dataset."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from core.documents import RawRequest, RequestDocument
from core.fields import FIELDS, SORTABLE
from core.templates import IndexNames
from service.keys import KeyStore
from tests.dataset import BASE, TENANT_A, TENANT_B, index_documents, make_raw, tenant_documents

Api = TestClient[web.Request, web.Application]
URL = "/api/v1/requests"
DOCS = tenant_documents(TENANT_A, 24)


@pytest.fixture(scope="module")
async def key_a(client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore) -> str:
    extra = [
        RequestDocument.from_raw(
            make_raw(
                100,
                id="cjk-1",
                completion="今日は東京で会議があります",
                request_body={"prompt": "会議の予定"},
                response_body=None,
                user_id="dave",
                app_id="mobile",
                cost=0.0,
                cached=False,
            ),
            TENANT_A,
        ),
    ]
    await index_documents(client, index_names, [*DOCS, *extra, *tenant_documents(TENANT_B, 24)])
    key, _ = await keys.create(TENANT_A)
    return key


async def get(api: Api, key: str, **params: Any) -> dict[str, Any]:
    response = await api.get(URL, params={k: str(v) for k, v in params.items()}, headers={"Authorization": key})
    body: dict[str, Any] = await response.json()
    assert response.status == 200, body
    return body


async def ids(api: Api, key: str, **params: Any) -> list[str]:
    return [r["id"] for r in (await get(api, key, pageSize=1000, **params))["requests"]]


def expected_order(field: str, descending: bool) -> list[str]:
    docs = list(DOCS)
    if field == "ip":
        # OpenSearch orders ip fields as IPv6 (IPv4 mapped into ::ffff:0:0/96).
        def ip_key(d: RequestDocument) -> bytes:
            address = ipaddress.ip_address(d.ip or "")
            mapped = ipaddress.IPv6Address(f"::ffff:{address}") if address.version == 4 else address
            return mapped.packed

        ordered = sorted(docs, key=lambda d: (ip_key(d), d.id), reverse=descending)
    else:
        ordered = sorted(docs, key=lambda d: (getattr(d, field), d.id), reverse=descending)
    return [d.id for d in ordered]


@pytest.mark.parametrize("field", [name for name in SORTABLE if name in FIELDS])
@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_every_sortable_field_sorts_with_id_tie_breaks(api: Api, key_a: str, field: str, order: str) -> None:
    got = await ids(api, key_a, sortBy=field, sortOrder=order, filter='{"id": {"gte": "req-"}}')
    assert got == expected_order(field, order == "desc")


async def test_relevance_ranks_the_better_match_first(api: Api, key_a: str) -> None:
    got = await ids(api, key_a, search="lighthouse | weather", sortBy="relevance")
    assert set(got) == {d.id for d in DOCS if "lighthouse" in (d.completion or "") or "weather" in (d.completion or "")}


@pytest.mark.parametrize(("size", "field"), [(1, "cached"), (5, "method"), (7, "model"), (3, "createdAt")])
async def test_pages_never_overlap_or_skip(api: Api, key_a: str, size: int, field: str) -> None:
    seen: list[str] = []
    page = 1
    while True:
        body = await get(api, key_a, pageSize=size, pageNumber=page, sortBy=field)
        assert body["totalCount"] == 25
        if not body["requests"]:
            break
        seen += [r["id"] for r in body["requests"]]
        page += 1
    assert len(seen) == 25 and len(set(seen)) == 25
    assert page == -(-25 // size) + 1


async def test_page_past_the_end_is_empty_with_the_total(api: Api, key_a: str) -> None:
    body = await get(api, key_a, pageSize=10, pageNumber=4)
    assert body == {"requests": [], "totalCount": 25, "nextCursor": None}


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("lighthouse", lambda d: "lighthouse" in d.completion),
        ("LIGHTHOUSE keeper", lambda d: "lighthouse keeper" in d.completion),
        ('"refund policy"', lambda d: "refund policy" in d.completion),
        ('"policy refund"', lambda d: False),
        ("answer -lighthouse -weather", lambda d: "lighthouse" not in d.completion and "weather" not in d.completion),
        ("refund | quarterly", lambda d: "refund" in d.completion or "quarterly" in d.completion),
        ("SPRING25", lambda d: "SPRING25" in d.completion),
        ("東京", lambda d: "東京" in d.completion),
        ("chatcmpl-0007", lambda d: d.id == "req-007"),
        ("nowhere-to-be-found", lambda d: False),
    ],
)
async def test_search_syntax(api: Api, key_a: str, search: str, expected: Any) -> None:
    got = set(await ids(api, key_a, search=search, filter='{"id": {"gte": "req-"}}'))
    assert got == {d.id for d in DOCS if expected(d)}


async def test_search_reaches_prompts_and_cjk_text(api: Api, key_a: str) -> None:
    assert await ids(api, key_a, search="会議") == ["cjk-1"]
    assert await ids(api, key_a, search='"東京で会議"') == ["cjk-1"]
    assert set(await ids(api, key_a, search='"Tell me about refund"')) == {
        d.id for d in DOCS if "refund" in (d.completion or "")
    }


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ('"unbalanced', set()),
        ("a AND OR", set()),
        ("~2", {d.id for d in DOCS if "2" in (d.completion or "").split()}),  # no fuzzy operator: the term 2
        ("field:value", set()),
        ("😀", set()),
        ("((refund", {d.id for d in DOCS if "refund" in (d.completion or "")}),
        ("refund -", {d.id for d in DOCS if "refund" in (d.completion or "")}),
    ],
)
async def test_odd_search_syntax_never_fails(api: Api, key_a: str, search: str, expected: set[str]) -> None:
    assert set(await ids(api, key_a, search=search)) == expected


@pytest.mark.parametrize("search", ["((", "\\", "*", "****", "-", "|", "+++", "!!!", "½ ①"])
async def test_a_search_with_nothing_to_search_for_is_a_400(api: Api, key_a: str, search: str) -> None:
    """`*` does not mean "everything" (leave search out for that) and `****` does not mean "nothing": both say
    so, as does any search without letters, digits or emoji."""
    response = await api.get(URL, params={"search": search}, headers={"Authorization": key_a})
    body = await response.json()
    assert response.status == 400 and body["error"].startswith("search:") and "nothing to search for" in body["error"]


async def test_user_and_app_filters_are_exact(api: Api, key_a: str) -> None:
    assert set(await ids(api, key_a, user_id="alice")) == {d.id for d in DOCS if d.user_id == "alice"}
    assert await ids(api, key_a, user_id="ali") == []
    assert set(await ids(api, key_a, app_id="web", user_id="bob")) == {
        d.id for d in DOCS if d.app_id == "web" and d.user_id == "bob"
    }


async def test_filter_forms_through_http(api: Api, key_a: str) -> None:
    plain = await ids(api, key_a, filter='{"model": "gpt-4o", "status": [200, 201], "metadata.env": "prod"}')
    assert set(plain) == {
        d.id for d in DOCS if d.model == "gpt-4o" and d.status in (200, 201) and d.metadata.get("env") == "prod"
    }
    group = (
        '{"combinator": "or", "rules": [{"field": "cost", "operator": ">=", "value": "0.09"},'
        ' {"combinator": "and", "not": true, "rules": [{"field": "cached", "operator": "=", "value": "false"}]}]}'
    )
    assert set(await ids(api, key_a, filter=group, search="answer")) == {
        d.id for d in DOCS if (d.cost or 0) >= 0.09 or d.cached
    }
    assert len(await ids(api, key_a, filter="{}")) == 25


async def test_total_count_is_exact_past_ten_thousand(
    api: Api, client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore
) -> None:
    many = [
        RequestDocument.from_raw(RawRequest(id=f"bulk-{i}", createdAt=BASE, model="bulk-model"), "bulk-tenant")
        for i in range(10_050)
    ]
    await index_documents(client, index_names, many)
    key, _ = await keys.create("bulk-tenant")
    body = await get(api, key, pageSize=5)
    assert body["totalCount"] == 10_050
    assert len(body["requests"]) == 5
