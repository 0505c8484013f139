"""`highlight=true` on `GET /api/v1/requests`: the matched words of prompt and completion, as text pieces whose odd
items are the matches, from the real engine; and the split itself, which must never produce anything but text."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from core.documents import RequestDocument
from core.templates import IndexNames
from service.highlight import END, START, split_fragment
from service.keys import KeyStore
from service.openapi import openapi_spec
from tests.dataset import TENANT_A, index_documents, make_raw, tenant_documents

Api = TestClient[web.Request, web.Application]
PATH = "/api/v1/requests"


@pytest.fixture(scope="module")
async def key(client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore) -> str:
    tricky = RequestDocument.from_raw(
        make_raw(50, id="tricky", completion=f"lighthouse {START}not a mark{END} <b>lighthouse</b> {END}"), TENANT_A
    )
    await index_documents(client, index_names, [*tenant_documents(TENANT_A, 12), tricky])
    created, _ = await keys.create(TENANT_A)
    return created


async def page(api: Api, key: str, **params: str) -> dict[str, Any]:
    response = await api.get(PATH, params=params, headers={"Authorization": key})
    assert response.status == 200, await response.text()
    answer: dict[str, Any] = await response.json()
    return answer


async def test_matched_words_are_the_odd_pieces(api: Api, key: str) -> None:
    answer = await page(api, key, search="lighthouse", highlight="true", pageSize="50", fields="id,completion")
    assert answer["totalCount"] == 3
    for request in answer["requests"]:
        highlights = request["highlights"]
        assert set(highlights) == {"prompt", "completion"}
        if request["id"] == "tricky":
            continue
        marked = [word for fragments in highlights.values() for fragment in fragments for word in fragment[1::2]]
        assert marked and {word.lower() for word in marked} == {"lighthouse"}
        assert all(len(fragment) % 2 == 1 for fragments in highlights.values() for fragment in fragments)
        assert "".join(highlights["completion"][0]) == request["completion"]
    tricky = next(r for r in answer["requests"] if r["id"] == "tricky")
    # The logged text holds the service's own mark characters, so the marks cannot be told apart: the fragment
    # comes as one unmarked piece, the text without them, never as a broken structure.
    assert tricky["highlights"]["completion"] == [["lighthouse not a mark <b>lighthouse</b> "]]


async def test_without_a_match_a_field_gives_its_start_unmarked(api: Api, key: str) -> None:
    answer = await page(api, key, highlight="true", pageSize="5", sortBy="id", sortOrder="asc", fields="completion")
    for request in answer["requests"]:
        (fragment,) = request["highlights"]["completion"]
        assert fragment == [request["completion"]]
        assert len(request["highlights"]["prompt"][0]) == 1


async def test_highlights_only_when_asked(api: Api, key: str) -> None:
    for params in ({}, {"highlight": "false"}, {"highlight": ""}):
        answer = await page(api, key, search="lighthouse", **params)
        assert all("highlights" not in r for r in answer["requests"])
    first = await page(api, key, highlight="true", pageSize="2", sortBy="cost")
    following = await page(api, key, highlight="true", pageSize="2", sortBy="cost", cursor=first["nextCursor"])
    assert all("highlights" in r for r in first["requests"] + following["requests"])


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("highlight=maybe", "highlight: 'maybe' is neither true nor false"),
        ("highlight=true&highlight=true", "highlight: given more than once; send each parameter at most once"),
    ],
)
async def test_a_bad_highlight_is_a_400_naming_it(api: Api, key: str, query: str, message: str) -> None:
    response = await api.get(f"{PATH}?{query}", headers={"Authorization": key})
    assert response.status == 400
    assert await response.json() == {"error": message}


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("plain", ["plain"]),
        (f"a {START}b{END} c", ["a ", "b", " c"]),
        (f"{START}b{END}{START}c{END}", ["", "b", "", "c", ""]),
        (f"a {START}b c", ["a b c"]),  # unclosed
        (f"a {START}b {START}c{END} d{END}", ["a b c d"]),  # nested
        (f"a {END}b", ["a b"]),  # a stray end
        (f"<img src=x onerror=1> {START}x{END}", ["<img src=x onerror=1> ", "x", ""]),
    ],
)
def test_a_fragment_splits_into_text_only(text: str, pieces: list[str]) -> None:
    assert split_fragment(text) == pieces


def test_the_api_description_has_highlight() -> None:
    spec = openapi_spec()
    parameters = {p["name"] for p in spec["paths"][PATH]["get"]["parameters"]}
    assert "highlight" in parameters
    assert set(spec["components"]["schemas"]["Highlights"]["properties"]) == {"prompt", "completion"}
    export = {p["name"] for p in spec["paths"]["/api/v1/export"]["get"]["parameters"]}
    assert "highlight" not in export
