"""Tenants never see each other: two tenants share ids, users, models and words; nothing a client sends crosses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from core.documents import RequestDocument
from core.templates import IndexNames
from service.keys import KeyStore
from tests.dataset import TENANT_A, TENANT_B, index_documents, make_raw, tenant_documents

Api = TestClient[web.Request, web.Application]
URL = "/api/v1/requests"
SECRET = "zebrafish"  # a word only tenant B's requests contain


@pytest.fixture(scope="module")
async def keys_ab(client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore) -> tuple[str, str]:
    only_b = [RequestDocument.from_raw(make_raw(50 + i, completion=f"the {SECRET} leak"), TENANT_B) for i in range(3)]
    await index_documents(client, index_names, [*tenant_documents(TENANT_A), *tenant_documents(TENANT_B), *only_b])
    key_a, _ = await keys.create(TENANT_A)
    key_b, _ = await keys.create(TENANT_B)
    return key_a, key_b


async def page(api: Api, key: str, **params: Any) -> dict[str, Any]:
    response = await api.get(URL, params=params, headers={"Authorization": key})
    body: dict[str, Any] = await response.json()
    return {"status": response.status, **body}


async def test_same_request_ids_stay_separate(api: Api, keys_ab: tuple[str, str]) -> None:
    key_a, key_b = keys_ab
    a = await page(api, key_a, pageSize="100")
    b = await page(api, key_b, pageSize="100")
    assert a["totalCount"] == 12 and b["totalCount"] == 15
    assert {r["id"] for r in a["requests"]} < {r["id"] for r in b["requests"]}


ATTEMPTS: list[dict[str, str]] = [
    {"search": SECRET},
    {"search": f"{SECRET} | answer"},
    {"search": f"tenant_id:{TENANT_B}"},
    {"search": f'"{SECRET}" | -nothing'},
    {
        "filter": json.dumps(
            {
                "combinator": "or",
                "rules": [
                    {"field": "completion", "operator": "contains", "value": SECRET},
                    {"field": "id", "operator": "notNull", "value": ""},
                ],
            }
        )
    },
    {
        "filter": json.dumps(
            {"combinator": "or", "not": True, "rules": [{"field": "id", "operator": "=", "value": "none"}]}
        )
    },
    {"filter": json.dumps({"completion": SECRET})},
    {"user_id": "alice", "filter": json.dumps({"combinator": "or", "rules": []})},
    {"sortBy": "relevance", "search": SECRET},
]


@pytest.mark.parametrize("params", ATTEMPTS)
async def test_nothing_a_client_sends_reaches_another_tenant(
    api: Api, keys_ab: tuple[str, str], params: dict[str, str]
) -> None:
    key_a, _ = keys_ab
    body = await page(api, key_a, pageSize="1000", **params)
    assert body["status"] == 200, body
    returned = [r for r in body["requests"]]
    assert all(SECRET not in (r["completion"] or "") for r in returned)
    assert body["totalCount"] == len(returned) <= 12


@pytest.mark.parametrize(
    "filter_text",
    [
        json.dumps({"tenant_id": TENANT_B}),
        json.dumps({"combinator": "and", "rules": [{"field": "tenant_id", "operator": "=", "value": TENANT_B}]}),
        json.dumps({"metadata.tenant_id": TENANT_B, "x-metadata-": "1"}),
    ],
)
async def test_tenant_field_cannot_be_named(api: Api, keys_ab: tuple[str, str], filter_text: str) -> None:
    body = await page(api, keys_ab[0], filter=filter_text)
    assert body["status"] == 400


async def test_counts_do_not_leak_another_tenants_words(api: Api, keys_ab: tuple[str, str]) -> None:
    key_a, key_b = keys_ab
    assert (await page(api, key_a, search=SECRET))["totalCount"] == 0
    assert (await page(api, key_b, search=SECRET))["totalCount"] == 3
