"""The spec's contract through the real HTTP app: auth, methods, response shape, parameter validation."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from core.documents import RawRequest, RequestDocument
from core.fields import RETURNED
from core.templates import IndexNames
from service.keys import KeyStore
from service.responses import RequestsPage
from tests.dataset import BASE, TENANT_A, TENANT_B, index_documents, tenant_documents

Api = TestClient[web.Request, web.Application]
URL = "/api/v1/requests"
SPEC_FIELDS = {
    "id": str,
    "createdAt": str,
    "updatedAt": str,
    "ip": str,
    "url": str,
    "method": str,
    "status": str,
    "cached": bool,
    "streamed": bool,
    "user_id": str,
    "completion": str,
    "model": str,
    "openai_id": str,
    "prompt_tokens": int,
    "completion_tokens": int,
    "request_body": str,
    "response_body": str,
    "streamed_response_body": type(None),
    "cost": float,
}


@pytest.fixture(scope="module")
async def seeded(client: AsyncOpenSearch, index_names: IndexNames) -> None:
    sparse = RequestDocument.from_raw(RawRequest(id="sparse", createdAt=BASE), TENANT_A)
    await index_documents(client, index_names, [*tenant_documents(TENANT_A), *tenant_documents(TENANT_B), sparse])


@pytest.fixture(scope="module")
async def key_a(keys: KeyStore, seeded: None) -> str:
    key, _ = await keys.create(TENANT_A, "tests")
    return key


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def get(api: Api, key: str, **params: Any) -> tuple[int, dict[str, Any]]:
    response = await api.get(URL, params={k: str(v) for k, v in params.items()}, headers=auth(key))
    assert response.content_type == "application/json"
    return response.status, await response.json()


# -- auth ---------------------------------------------------------------------------------------------------------


async def test_missing_key_is_401_with_the_spec_message(api: Api) -> None:
    for headers in ({}, {"Authorization": ""}, {"Authorization": "Bearer "}, {"Authorization": "  "}):
        response = await api.get(URL, headers=headers)
        assert response.status == 401
        assert await response.json() == {"error": "You must be logged in or provide an API key."}


async def test_invalid_key_is_401_with_the_spec_message(api: Api, key_a: str) -> None:
    for value in ("Bearer nope", "lrs_" + "x" * 43, key_a + "x", "Bearer " + "é" * 10, "x" * 5000):
        response = await api.get(URL, headers={"Authorization": value})
        assert response.status == 401
        assert await response.json() == {"error": "Invalid API key."}


async def test_bare_and_bearer_keys_both_work(api: Api, key_a: str) -> None:
    for value in (key_a, f"Bearer {key_a}", f"bearer {key_a}", f"  Bearer   {key_a} "):
        response = await api.get(URL, headers={"Authorization": value})
        assert response.status == 200, await response.text()


async def test_revoked_key_is_refused(api: Api, keys: KeyStore, seeded: None) -> None:
    key, record = await keys.create(TENANT_A, "short-lived")
    assert (await api.get(URL, headers=auth(key))).status == 200
    assert await keys.revoke(record.key_id) is not None
    response = await api.get(URL, headers=auth(key))
    assert response.status == 401
    assert await response.json() == {"error": "Invalid API key."}


async def test_revoke_takes_effect_within_the_cache_time(
    client: AsyncOpenSearch, index_names: IndexNames, seeded: None
) -> None:
    now = [1000.0]
    cached = KeyStore(client, index_names, cache_seconds=5, clock=lambda: now[0])
    key, record = await cached.create(TENANT_A)
    assert await cached.tenant_for(key) == TENANT_A
    await KeyStore(client, index_names, 0).revoke(record.key_id)  # another process revokes it
    now[0] += 4.9
    assert await cached.tenant_for(key) == TENANT_A  # still cached, for at most cache_seconds
    now[0] += 0.2
    assert await cached.tenant_for(key) is None


async def test_keys_are_stored_only_as_hashes(client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore) -> None:
    key, _ = await keys.create(TENANT_A, "hash-check")
    await client.indices.refresh(index=index_names.keys_index)
    stored = await client.search(index=index_names.keys_index, body={"size": 100})
    assert stored["hits"]["total"]["value"] >= 1
    assert key not in str(stored)
    listed = await keys.list(TENANT_A)
    assert all(key not in r.masked for r in listed) and any(key.startswith(r.key_prefix) for r in listed)


# -- methods ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_other_methods_are_405(api: Api, key_a: str, method: str) -> None:
    for headers in ({}, auth(key_a)):
        response = await api.request(method, URL, headers=headers)
        assert response.status == 405
        assert await response.json() == {"error": "Method not allowed"}
        assert response.headers["Allow"] == "GET, HEAD"


async def test_head_is_answered_like_get(api: Api, key_a: str) -> None:
    response = await api.head(URL, headers=auth(key_a))
    assert response.status == 200
    assert await response.read() == b""


async def test_unknown_path_is_json_404(api: Api) -> None:
    response = await api.get("/api/v1/nothing")
    assert response.status == 404
    assert "error" in await response.json()


# -- response shape -----------------------------------------------------------------------------------------------


async def test_response_has_every_spec_field_with_the_spec_types(api: Api, key_a: str) -> None:
    status, body = await get(api, key_a, filter='{"id": "req-001"}')
    assert status == 200
    assert body["totalCount"] == 1
    (request,) = body["requests"]
    for name, kind in SPEC_FIELDS.items():
        assert isinstance(request[name], kind), (name, request[name])
    assert request["status"] == "200"
    assert request["app_id"] == "batch"
    assert request["metadata"] == {"env": "prod", "team": "t1"}
    assert "tenant_id" not in request and "prompt" not in request


async def test_pages_are_exactly_what_the_response_model_renders(api: Api, key_a: str) -> None:
    """The page is rendered from the engine's documents without the pydantic model (service/page.py); the model
    (what the OpenAPI document publishes) must read it back unchanged: same keys, same values, same types."""
    status, body = await get(api, key_a, pageSize=50)
    assert status == 200 and len(body["requests"]) > 10
    assert RequestsPage.model_validate(body).model_dump(mode="json") == body
    for request in body["requests"]:
        assert list(request) == list(RETURNED)


async def test_missing_optional_fields_render_null(api: Api, key_a: str) -> None:
    status, body = await get(api, key_a, filter='{"id": "sparse"}')
    assert status == 200
    (request,) = body["requests"]
    assert request["id"] == "sparse"
    for name in ("ip", "url", "status", "model", "cost", "completion", "request_body", "prompt_tokens"):
        assert request[name] is None


async def test_defaults_are_ten_newest_first(api: Api, key_a: str) -> None:
    status, body = await get(api, key_a)
    assert status == 200
    assert body["totalCount"] == 13
    created = [r["createdAt"] for r in body["requests"]]
    assert len(created) == 10 and created == sorted(created, reverse=True)


# -- parameter validation -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "mentions"),
    [
        ({"pageSize": "0"}, "pageSize"),
        ({"pageSize": "1001"}, "pageSize"),
        ({"pageSize": "ten"}, "pageSize"),
        ({"pageSize": "1.5"}, "pageSize"),
        ({"pageSize": ""}, "pageSize"),
        ({"pageNumber": "0"}, "pageNumber"),
        ({"pageNumber": "-3"}, "pageNumber"),
        ({"pageNumber": "first"}, "pageNumber"),
        ({"pageNumber": "99999999999999999999999"}, "pageNumber"),
        ({"pageNumber": "11", "pageSize": "1000"}, "10000"),
        ({"sortBy": "tenant_id"}, "sortBy"),
        ({"sortBy": "prompt"}, "sortBy"),
        ({"sortOrder": "up"}, "sortOrder"),
        ({"filter": "{not json"}, "filter"),
        ({"filter": '{"tenant_id": "globex"}'}, "tenant_id"),
        ({"filter": '{"nosuchfield": 1}'}, "nosuchfield"),
        ({"filter": '{"cost": "cheap"}'}, "cost"),
        ({"search": "x" * 1001}, "search"),
        ({"user_id": "u" * 513}, "user_id"),
        ({"pagesize": "5"}, "pagesize"),
    ],
)
async def test_invalid_parameters_are_400_naming_the_parameter(
    api: Api, key_a: str, params: dict[str, str], mentions: str
) -> None:
    status, body = await get(api, key_a, **params)
    assert status == 400, body
    assert set(body) == {"error"}
    assert mentions in body["error"]


async def test_repeated_parameter_is_400(api: Api, key_a: str) -> None:
    response = await api.get(f"{URL}?pageSize=1&pageSize=2", headers=auth(key_a))
    assert response.status == 400
    assert "pageSize" in (await response.json())["error"]


async def test_last_page_inside_the_result_window_is_allowed(api: Api, key_a: str) -> None:
    status, body = await get(api, key_a, pageSize=1000, pageNumber=10)
    assert status == 200
    assert body["requests"] == [] and body["totalCount"] == 13


async def test_blank_optional_parameters_mean_absent(api: Api, key_a: str) -> None:
    status, body = await get(api, key_a, search="  ", filter="", user_id="", sortOrder="ASC")
    assert status == 200
    assert body["totalCount"] == 13


async def test_openapi_document_describes_the_endpoint(api: Api) -> None:
    response = await api.get("/api/v1/openapi.json")
    assert response.status == 200
    spec = await response.json()
    operation = spec["paths"]["/api/v1/requests"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"user_id", "search", "sortBy", "sortOrder", "pageSize", "pageNumber", "filter"} <= names
    assert set(operation["responses"]) >= {"200", "400", "401", "405", "503"}
    page = spec["components"]["schemas"]["RequestsPage"]
    assert set(page["properties"]) == {"requests", "totalCount", "nextCursor"}
    out = spec["components"]["schemas"]["RequestOut"]["properties"]
    assert set(SPEC_FIELDS) <= set(out)
