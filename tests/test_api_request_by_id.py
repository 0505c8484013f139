"""`GET /api/v1/requests/{id}` through the real app: the caller's own request, or a 404 that cannot tell another
tenant's request from no request at all."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch
from yarl import URL

from core.documents import MAX_ID_LENGTH, RequestDocument
from core.fields import RETURNED
from core.templates import IndexNames
from service.keys import KeyStore
from tests.dataset import TENANT_A, TENANT_B, index_documents, make_raw, tenant_documents

Api = TestClient[web.Request, web.Application]
PATH = "/api/v1/requests"
NOT_FOUND = {"error": "Request not found."}
ODD_IDS = ["a/b", "with space", "plus+sign", "東京-1", "per%cent", "q?x=1&y", "#frag", "x" * 400]


@pytest.fixture(scope="module")
async def keys_ab(client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore) -> tuple[str, str]:
    only_b = RequestDocument.from_raw(make_raw(90, id="only-b"), TENANT_B)
    shared_b = RequestDocument.from_raw(make_raw(3, model="globex-model"), TENANT_B)  # req-003 in both tenants
    odd = [RequestDocument.from_raw(make_raw(40 + i, id=name), TENANT_A) for i, name in enumerate(ODD_IDS)]
    await index_documents(client, index_names, [*tenant_documents(TENANT_A), *odd, shared_b, only_b])
    key_a, _ = await keys.create(TENANT_A)
    key_b, _ = await keys.create(TENANT_B)
    return key_a, key_b


@pytest.fixture(scope="module")
def key_a(keys_ab: tuple[str, str]) -> str:
    return keys_ab[0]


def path(request_id: str) -> str:
    return f"{PATH}/{quote(request_id, safe='')}"


async def fetch(api: Api, key: str | None, target: str, **params: str) -> tuple[int, Any]:
    headers = {"Authorization": key} if key is not None else {}
    response = await api.get(target, params=params, headers=headers)
    assert response.content_type == "application/json"
    return response.status, await response.json()


async def listed(api: Api, key: str, request_id: str) -> dict[str, Any]:
    response = await api.get(PATH, params={"filter": f'{{"id": "{request_id}"}}'}, headers={"Authorization": key})
    body: dict[str, Any] = await response.json()
    (found,) = body["requests"]
    assert isinstance(found, dict)
    return found


async def test_a_request_is_the_same_object_as_in_the_list(api: Api, key_a: str) -> None:
    status, body = await fetch(api, key_a, path("req-003"))
    assert status == 200
    assert list(body) == list(RETURNED)
    assert body == await listed(api, key_a, "req-003")
    assert body["status"] == "400" and body["model"] == "o3-mini"


async def test_each_tenant_gets_its_own_request_with_a_shared_id(api: Api, keys_ab: tuple[str, str]) -> None:
    _, b = await fetch(api, keys_ab[1], path("req-003"))
    _, a = await fetch(api, keys_ab[0], path("req-003"))
    assert (a["model"], b["model"]) == ("o3-mini", "globex-model")


async def test_another_tenants_request_is_indistinguishable_from_none(api: Api, key_a: str) -> None:
    answers = []
    for request_id in ("only-b", "no-such-request"):
        response = await api.get(path(request_id), headers={"Authorization": key_a})
        answers.append((response.status, await response.read(), response.headers["Content-Type"]))
    assert answers[0] == answers[1]
    assert answers[0][0] == 404 and answers[0][1] == b'{"error":"Request not found."}'


@pytest.mark.parametrize("request_id", ODD_IDS, ids=lambda i: i[:20])
async def test_ids_with_any_characters_are_found_when_percent_encoded(api: Api, key_a: str, request_id: str) -> None:
    status, body = await fetch(api, key_a, path(request_id))
    assert (status, body["id"]) == (200, request_id)


async def test_fields_chooses_what_comes_back(api: Api, key_a: str) -> None:
    status, body = await fetch(api, key_a, path("req-005"), fields="model,cost")
    assert status == 200 and list(body) == ["id", "model", "cost"]
    status, body = await fetch(api, key_a, path("req-005"), fields="")
    assert status == 200 and list(body) == list(RETURNED)


@pytest.mark.parametrize(
    ("params", "mentions"),
    [({"fields": "prompt"}, "fields"), ({"fields": "tenant_id"}, "fields"), ({"sortBy": "id"}, "sortBy")],
)
async def test_bad_parameters_are_400_naming_them(api: Api, key_a: str, params: dict[str, str], mentions: str) -> None:
    status, body = await fetch(api, key_a, path("req-001"), **params)
    assert status == 400 and body["error"].startswith(mentions)


async def test_a_repeated_parameter_is_400(api: Api, key_a: str) -> None:
    status, body = await fetch(api, key_a, path("req-001") + "?fields=id&fields=model")
    assert status == 400 and body["error"].startswith("fields:")


async def test_an_id_longer_than_any_request_id_is_400(api: Api, key_a: str) -> None:
    status, body = await fetch(api, key_a, path("x" * (MAX_ID_LENGTH + 1)))
    assert status == 400 and body["error"].startswith("id:") and str(MAX_ID_LENGTH) in body["error"]
    assert (await fetch(api, key_a, path("y" * MAX_ID_LENGTH))) == (404, NOT_FOUND)


@pytest.mark.parametrize("raw", ["%FF", "ab%E0%A4", "%G1", "a%"])
async def test_badly_encoded_ids_are_400(api: Api, key_a: str, raw: str) -> None:
    # Sent as is: the client library would otherwise escape the stray `%` itself.
    target = URL(f"{api.make_url(PATH)}/{raw}", encoded=True)
    response = await api.session.get(target, headers={"Authorization": key_a})
    body = await response.json()
    assert response.status == 400 and body["error"].startswith("id:"), body


@pytest.mark.parametrize("target", [f"{PATH}/", f"{PATH}/req-001/", f"{PATH}/a/b", f"{PATH}/req-001/more", "/api/v1/x"])
async def test_other_paths_are_json_404s(api: Api, key_a: str, target: str) -> None:
    status, body = await fetch(api, key_a, target)
    assert status == 404 and set(body) == {"error"}


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_other_methods_are_405(api: Api, key_a: str, method: str) -> None:
    for headers in ({}, {"Authorization": key_a}):
        response = await api.request(method, path("req-001"), headers=headers)
        assert response.status == 405
        assert await response.json() == {"error": "Method not allowed"}
        assert response.headers["Allow"] == "GET, HEAD"


async def test_head_is_answered_like_get(api: Api, key_a: str) -> None:
    response = await api.head(path("req-001"), headers={"Authorization": key_a})
    assert response.status == 200 and await response.read() == b""


@pytest.mark.parametrize(
    ("key", "message"),
    [(None, "You must be logged in or provide an API key."), ("lrs_nope", "Invalid API key.")],
)
async def test_the_key_is_required(api: Api, keys_ab: tuple[str, str], key: str | None, message: str) -> None:
    assert await fetch(api, key, path("req-001")) == (401, {"error": message})
