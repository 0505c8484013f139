"""The 200 body of `GET /api/v1/requests`, rendered straight from the engine's answer.

Every request object has each returned field (null when the document has none) in the spec's types. The
documents were built by `core.documents`, so their values already have the right JSON types except `status`,
which the spec types as a string; rendering them directly, rather than validating each through the pydantic
response model, is the page path's largest saving. `tests/test_api_contract.py` validates live pages against
`service.responses.RequestsPage`, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

# Ask the engine for only what the page needs: less JSON to send, and to parse.
PAGE_FILTER_PATH = "hits.total.value,hits.hits._source"


def render_page(result: dict[str, Any], fields: Sequence[str]) -> bytes:
    hits = result["hits"]
    requests = [_request_object(hit["_source"], fields) for hit in hits.get("hits", ())]
    return orjson.dumps({"requests": requests, "totalCount": hits["total"]["value"]})


def _request_object(source: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    found = {name: source.get(name) for name in fields}
    status = found.get("status")
    if status is not None:
        found["status"] = str(status)
    return found
