"""`GET /api/v1/schema`: what a client needs to build a search UI, generated from the service's own tables, and
`GET /api/v1/me`: which tenant a key belongs to.

The built-in page (`/`, service.page_routes) draws its filter builder, sort choices and chart groupings from the
schema, so the field and operator tables (core.fields, service.filters) exist once, in Python.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import orjson
from aiohttp import web

from core.fields import (
    FIELDS,
    FILTERABLE,
    METADATA_HEADER_PREFIX,
    METADATA_KEY_PATTERN,
    METADATA_PREFIX,
    RETURNED,
    SORTABLE,
    Kind,
)
from service.analytics.dimensions import FIELD_DIMENSIONS
from service.analytics.metrics import DEFAULT_METRICS, METRICS
from service.analytics.params import MAX_GROUP_BY, MAX_TOP
from service.auth import tenant_of_request
from service.context import SERVICES
from service.filters import OPERATORS, Operator
from service.filters.targets import Target, resolve
from service.params import MAX_PAGE_SIZE, MAX_RESULT_WINDOW, RequestsQuery

SCHEMA_PATH = "/api/v1/schema"
ME_PATH = "/api/v1/me"

# react-querybuilder's own labels where they read better than the key split into words.
_LABELS = {"null": "is null", "notNull": "is not null"}


def operator_label(operator: Operator) -> str:
    """`beginsWith` → `begins with`; symbols stay as they are."""
    if operator.key in _LABELS:
        return _LABELS[operator.key]
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", operator.key).lower()


def _operators_for(target: Target) -> list[str]:
    return [op.key for op in OPERATORS.values() if op.accepts(target)]


def _field(name: str) -> dict[str, Any]:
    row = FIELDS[name]
    target = resolve(name)
    return {
        "name": name,
        "kind": str(target.kind),
        "description": row.description,
        "operators": _operators_for(target),
        "returned": row.returned,
        "sortable": name in SORTABLE,
        "searched": row.searched,
    }


@cache
def schema_document() -> dict[str, Any]:
    defaults = RequestsQuery()
    metadata_key = resolve(f"{METADATA_PREFIX}key")
    return {
        "fields": [_field(name) for name in FILTERABLE],
        "metadataKey": {
            "prefix": METADATA_PREFIX,
            "headerPrefix": METADATA_HEADER_PREFIX,
            "keyPattern": METADATA_KEY_PATTERN,
            "kind": str(Kind.METADATA),
            "operators": _operators_for(metadata_key),
        },
        "operators": [
            {
                "key": op.key,
                "label": operator_label(op),
                "description": op.description,
                "values": op.arity.value,
                "kinds": sorted(str(kind) for kind in op.kinds),
            }
            for op in OPERATORS.values()
        ],
        "returned": list(RETURNED),
        "sortBy": list(SORTABLE),
        "defaults": {
            "sortBy": defaults.sortBy,
            "sortOrder": defaults.sortOrder.value,
            "pageSize": defaults.pageSize,
        },
        "limits": {"pageSize": MAX_PAGE_SIZE, "resultWindow": MAX_RESULT_WINDOW},
        "analytics": {
            "groupBy": [*FIELD_DIMENSIONS, f"{METADATA_PREFIX}<key>"],
            "maxGroupBy": MAX_GROUP_BY,
            "maxTop": MAX_TOP,
            "metrics": list(METRICS),
            "defaultMetrics": list(DEFAULT_METRICS),
        },
    }


@cache
def _schema_body() -> bytes:
    return orjson.dumps(schema_document())


async def schema(request: web.Request) -> web.Response:
    """Public, like the OpenAPI document: it describes the service, not a tenant's data."""
    response = web.Response(body=_schema_body(), content_type="application/json", headers={"Cache-Control": "no-cache"})
    response.enable_compression()  # gzip or deflate when the client's Accept-Encoding asks; else as is
    return response


async def me(request: web.Request) -> web.Response:
    """The presented key's tenant: a cheap check that a key works (401 with the API's messages when not)."""
    tenant = await tenant_of_request(request.headers.get("Authorization"), request.app[SERVICES].keys)
    return web.json_response({"tenant": tenant}, headers={"Cache-Control": "no-store"})


def _string_list() -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}}


_FIELD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "kind", "description", "operators", "returned", "sortable", "searched"],
    "properties": {
        "name": {"type": "string", "description": "The name a filter rule's `field` takes."},
        "kind": {"type": "string", "enum": [str(kind) for kind in Kind]},
        "description": {"type": "string"},
        "operators": {**_string_list(), "description": "The operators a rule on this field may use."},
        "returned": {"type": "boolean", "description": "In each request object of the list."},
        "sortable": {"type": "boolean", "description": "A `sortBy` value."},
        "searched": {"type": "boolean", "description": "Covered by `search`."},
    },
}
SCHEMA_ANSWER: dict[str, Any] = {
    "type": "object",
    "description": "Generated from the service's field, operator, sort, dimension and metric tables.",
    "required": ["fields", "metadataKey", "operators", "returned", "sortBy", "defaults", "limits", "analytics"],
    "properties": {
        "fields": {"type": "array", "items": _FIELD_SCHEMA, "description": "Every filterable field, in table order."},
        "metadataKey": {
            "type": "object",
            "description": "Rules on one metadata key: `field` is `prefix` + key (or `headerPrefix` + key).",
            "properties": {
                "prefix": {"type": "string"},
                "headerPrefix": {"type": "string"},
                "keyPattern": {"type": "string"},
                "kind": {"type": "string"},
                "operators": _string_list(),
            },
        },
        "operators": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "label", "description", "values", "kinds"],
                "properties": {
                    "key": {"type": "string", "description": "A rule's `operator`."},
                    "label": {"type": "string", "description": "Words for a UI."},
                    "description": {"type": "string"},
                    "values": {
                        "type": "string",
                        "enum": ["none", "one", "two", "list"],
                        "description": "How many values the rule's `value` holds.",
                    },
                    "kinds": _string_list(),
                },
            },
        },
        "returned": _string_list(),
        "sortBy": _string_list(),
        "defaults": {"type": "object", "description": "The list's default `sortBy`, `sortOrder` and `pageSize`."},
        "limits": {"type": "object", "description": "The largest `pageSize`, and the deepest result a page reaches."},
        "analytics": {"type": "object", "description": "What `/api/v1/analytics` groups by and measures."},
    },
}


def schema_paths(errors: dict[str, Any], security: list[dict[str, list[str]]]) -> dict[str, Any]:
    """The two operations in the OpenAPI document; `errors` are the list's error answers (401, 503)."""
    return {
        SCHEMA_PATH: {
            "get": {
                "tags": ["page"],
                "operationId": "getSchema",
                "summary": "The fields, operators, sort keys and chart dimensions, for building a search UI",
                "description": (
                    "What the built-in page at `/` builds its filter rows, sort choices and chart groupings from. The "
                    "same for every tenant, so no key is needed."
                ),
                "responses": {
                    "200": {
                        "description": "The tables.",
                        "content": {"application/json": {"schema": SCHEMA_ANSWER}},
                    }
                },
            }
        },
        ME_PATH: {
            "get": {
                "tags": ["page"],
                "operationId": "getMe",
                "summary": "The tenant of the API key",
                "description": "Answers which tenant the presented key reads; the page shows it after sign-in.",
                "security": security,
                "responses": {
                    "200": {
                        "description": "The key's tenant.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["tenant"],
                                    "properties": {"tenant": {"type": "string"}},
                                }
                            }
                        },
                    },
                    "401": errors["401"],
                    "503": errors["503"],
                },
            }
        },
    }
