"""The 200 bodies of `GET /api/v1/requests` and `GET /api/v1/requests/{id}`, rendered straight from the engine's
answer.

Every request object has each returned field (null when the document has none) in the spec's types. The
documents were built by `core.documents`, so their values already have the right JSON types except `status`,
which the spec types as a string; rendering them directly, rather than validating each through the pydantic
response model, is the page path's largest saving. `tests/test_api_contract.py` validates live pages against
`service.responses.RequestsPage`, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from service.highlight import highlights_of
from service.query import SortValue

# Ask the engine for only what the page needs: less JSON to send, and to parse. The sort values of the page's last
# hit go into the next page's cursor.
PAGE_FILTER_PATH = "hits.total.value,hits.hits._source,hits.hits.sort,hits.hits.highlight"
LOOKUP_FILTER_PATH = "hits.hits._source"


@dataclass(frozen=True)
class EnginePage:
    hits: list[dict[str, Any]]
    total: int
    continue_after: list[SortValue] | None
    """The sort values of the page's last hit when more results follow it; None on the last page."""


def read_page(result: dict[str, Any], page_size: int, offset: int | None) -> EnginePage:
    """The page in an engine answer. `offset` is where an offset search started; None for a cursor search, which
    asked for one hit more than the page (service.query), so that hit's presence says whether more follow. An
    offset search cannot always ask for one more (it would pass the 10,000-result window on the window's last
    page), but has the exact total from the same search instead."""
    hits: list[dict[str, Any]] = result["hits"].get("hits", [])
    total: int = result["hits"]["total"]["value"]
    more = len(hits) > page_size if offset is None else offset + len(hits) < total
    page = hits[:page_size]
    return EnginePage(page, total, list(page[-1]["sort"]) if more and page else None)


def render_page(page: EnginePage, fields: Sequence[str], next_cursor: str | None, highlight: bool = False) -> bytes:
    requests = [request_object(hit["_source"], fields) for hit in page.hits]
    if highlight:  # `highlight=true` (service.highlight): every request gets `highlights`, {} when nothing matched
        for hit, request in zip(page.hits, requests, strict=True):
            request["highlights"] = highlights_of(hit)
    return orjson.dumps({"requests": requests, "totalCount": page.total, "nextCursor": next_cursor})


def request_object(source: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    found = {name: source.get(name) for name in fields}
    status = found.get("status")
    if status is not None:
        found["status"] = str(status)
    return found
