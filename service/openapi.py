"""`GET /api/v1/openapi.json`: an OpenAPI 3.1 document generated from the code it describes, so it cannot drift.

The schemas come from the pydantic models (`service.params`, `service.responses`, `service.errors`); the filter
grammar's field and operator lists from their tables (`service.filters`); every limit from the constant the service
enforces; the error examples from the very functions that produce those errors. Client generators
(openapi-python-client) and the reference at `/docs` (Redoc) read it; `tests/test_openapi.py` checks both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from aiohttp.http_exceptions import LineTooLong
from opensearchpy.exceptions import NotFoundError
from pydantic import BaseModel

from core.documents import MAX_ID_LENGTH
from core.fields import FIELDS, MAX_KEYWORD_CHARS, METADATA_PREFIX, RELEVANCE, RETURNED, SEARCHED_TEXT_FIELDS, Kind
from core.settings import ServiceSettings
from service.analytics.openapi import ANALYTICS_PATH, analytics_operation
from service.auth import MAX_KEY_LENGTH
from service.cursor import EXPIRED_CURSOR, INVALID_CURSOR, KEEP_ALIVE_MINUTES, MAX_CURSOR_CHARS
from service.cursor_pit import TOO_MANY_OPEN
from service.docs import DOCS_PATH
from service.engine_errors import api_error_for
from service.errors import INVALID_KEY, METHOD_NOT_ALLOWED, MISSING_KEY, REQUEST_NOT_FOUND, ErrorBody
from service.filters import (
    MAX_CLAUSES,
    MAX_FILTER_LENGTH,
    MAX_GROUP_DEPTH,
    MAX_JSON_DEPTH,
    MAX_LIST_VALUES,
    MAX_PATTERN_LENGTH,
    MAX_RULES,
    OPERATORS,
    Arity,
    FilterError,
    filterable_names,
)
from service.filters.values import Role
from service.highlight import highlight_parameter, highlights_schema
from service.ingest.openapi import INGEST_PATH, ingest_operation
from service.limits import MAX_FIELD_BYTES, MAX_REQUEST_LINE_BYTES
from service.observability.health import HEALTH_TAG, health_paths
from service.observability.request_context import REQUEST_ID_HEADER
from service.params import (
    MAX_ID_PARAM_LENGTH,
    MAX_PAGE_SIZE,
    MAX_RESULT_WINDOW,
    ParameterError,
    RequestsQuery,
    parse_query,
)
from service.query import build_search_body
from service.responses import RequestOut, RequestsPage
from service.schema import schema_paths
from service.search_text import MAX_SEARCH_LENGTH, SearchError
from service.server import protocol_error

OPENAPI_VERSION = "3.1.0"
REF_TEMPLATE = "#/components/schemas/{model}"
SECURITY_SCHEME = "bearerAuth"
TAG = "requests"
REQUESTS_PATH = "/api/v1/requests"

# Each term of a search is looked up in every searched field, and the whole search once more as an exact openai_id.
MAX_SEARCH_TERMS = (MAX_CLAUSES - 1) // len(SEARCHED_TEXT_FIELDS)

FILTER_EXAMPLES: dict[str, dict[str, Any]] = {
    "plainMap": {
        "summary": "Plain map: equals, one of, a range, a boolean and a metadata key",
        "value": {
            "model": "gpt-4o",
            "status": [200, 201],
            "cost": {"gte": 0.01},
            "cached": False,
            "metadata.env": "prod",
        },
    },
    "ruleGroup": {
        "summary": "react-querybuilder rule group with a negated sub-group",
        "value": {
            "combinator": "and",
            "rules": [
                {"field": "model", "operator": "beginsWith", "value": "gpt-4"},
                {"combinator": "or", "not": True, "rules": [{"field": "status", "operator": ">=", "value": "500"}]},
            ],
        },
    },
}

# A request as the service answers it; validated through the response model, so it has every key the API sends.
_EXAMPLE_REQUEST: dict[str, Any] = {
    "id": "req-042",
    "createdAt": "2026-03-01T12:00:00Z",
    "updatedAt": "2026-03-01T12:00:01.250Z",
    "ip": "203.0.113.7",
    "url": "https://api.openai.com/v1/chat/completions",
    "method": "POST",
    "status": 200,
    "cached": False,
    "streamed": False,
    "user_id": "alice",
    "app_id": "web",
    "model": "gpt-4o",
    "openai_id": "chatcmpl-0042",
    "prompt_tokens": 21,
    "completion_tokens": 9,
    "cost": 0.0001425,
    "duration_ms": 1250,
    "completion": "Refunds take 5 business days.",
    "request_body": json.dumps(
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "How long do refunds take?"}]},
        separators=(",", ":"),
    ),
    "response_body": json.dumps(
        {"id": "chatcmpl-0042", "choices": [{"message": {"content": "Refunds take 5 business days."}}]},
        separators=(",", ":"),
    ),
    "streamed_response_body": None,
    "metadata": {"env": "prod", "team": "billing"},
}


def _n(number: int) -> str:
    return f"{number:,}"


def _binary(size: int) -> str:
    """`1 MiB`, `16 KiB`: the size as the limits were chosen."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{_n(size)} bytes"


def _code(names: list[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    # Serialization mode: the schema of what the service sends.
    schema = model.model_json_schema(ref_template=REF_TEMPLATE, mode="serialization")
    for name, definition in [*schema.pop("$defs", {}).items(), (model.__name__, schema)]:
        components[name] = _tidy_object(definition)
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def _tidy_object(schema: dict[str, Any]) -> dict[str, Any]:
    """Without pydantic's per-property titles (Redoc shows `Createdat` beside the type) and defaults (a response
    key holds what was sent; there is nothing for a client to fill in)."""
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
        prop.pop("default", None)
    return schema


def _always_sent() -> list[str]:
    """The keys every request object has, whatever `fields` chooses (`id`); `fields` may leave out any other.
    Without `fields` every key is sent, null when the request has no value."""
    keys = set(RETURNED)
    for name in RETURNED:
        keys &= set(RequestsQuery(fields=name).returned_fields)
    return [name for name in RETURNED if name in keys]


def _request_object(schema: dict[str, Any]) -> None:
    schema["required"] = _always_sent()
    schema["description"] += (
        " Without `fields` every key is present, `null` where the request has no value; with `fields`, the keys it "
        f"names and {_code(_always_sent())}."
    )


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is a string or absent, never JSON null: pydantic's `X | None` becomes plain `X`."""
    branches = schema.get("anyOf")
    if branches is None:
        return schema
    kept = [branch for branch in branches if branch != {"type": "null"}]
    if len(kept) != 1:
        return schema
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    if "default" in rest and rest["default"] is None:
        del rest["default"]
    return {**kept[0], **rest}


def _bad_request(params: dict[str, str]) -> str:
    """The 400 message the service gives for `params`, by the steps `service.handlers.list_requests` takes."""
    try:
        build_search_body(parse_query(params, list(params)), "example")
    except (ParameterError, SearchError) as error:
        return str(error)
    except FilterError as error:
        return f"filter: {error}"
    raise ValueError(f"{params} is not a bad request; the example is wrong")


def _search_notes() -> str:
    return (
        f"\n\nAt most {_n(MAX_SEARCH_LENGTH)} characters and at most about {round(MAX_SEARCH_TERMS, -2):,} terms: each "
        f"term is looked up in "
        f"{len(SEARCHED_TEXT_FIELDS)} fields ({_code(list(SEARCHED_TEXT_FIELDS))}), plus one exact `openai_id` "
        f"clause, and the search and the filter together may expand to at most {_n(MAX_CLAUSES)} OpenSearch "
        f"clauses, so with no filter a search may have {MAX_SEARCH_TERMS} terms, and fewer beside a filter. "
        "Past that the answer is a 400 naming `search`. Case and accents are ignored; CJK text is matched as "
        "bigrams (`東京` finds `東京の天気`). A search with no letters, digits or emoji (`*`, `!!!`) is a 400: there "
        "is no wildcard. Empty or absent means no search."
    )


def _sort_notes() -> str:
    return (
        f" `{RELEVANCE}` orders by how well `search` matches. Requests without a value for the field sort last in "
        "both orders; the tie-break makes the order total, so pages never overlap or skip."
    )


def _page_number_notes() -> str:
    return (
        f" A page may not reach past result {_n(MAX_RESULT_WINDOW)}: `pageNumber * pageSize` must be at most "
        f"{_n(MAX_RESULT_WINDOW)} (so `pageNumber` is at most {_n(MAX_RESULT_WINDOW)}, with `pageSize=1`; with the "
        f"largest `pageSize`, {_n(MAX_PAGE_SIZE)}, at most {_n(MAX_RESULT_WINDOW // MAX_PAGE_SIZE)}). A deeper page "
        "is a 400 naming `pageNumber`: page on with `cursor` (every page's `nextCursor`) instead."
    )


def _cursor_notes() -> str:
    return (
        f" At most {_n(MAX_CURSOR_CHARS)} characters. Opaque and signed: it continues only the query it came from "
        "(same tenant, `user_id`, `app_id`, `search`, `filter`, `sortBy`, `sortOrder`; `pageSize` and `fields` may "
        'change), and anything else, or an edited cursor, is a 400 `{"error": "Invalid cursor."}`. Not together '
        "with `pageNumber`. A field sort's cursor holds no server state, so it does not expire: it continues after "
        "the last request of its page over the requests as they are then. Relevance scores change as requests are "
        f"indexed, so a relevance-sorted search (`sortBy={RELEVANCE}` with `search`) pages through a snapshot of "
        "the index taken for its first page: no request comes twice or is skipped, and none indexed later appears. "
        f"The snapshot lasts {KEEP_ALIVE_MINUTES} minutes after each page and is released with the last page; a "
        "cursor used after that is a 400 that says to start again from the first page. Opening one can be a 503 "
        "when the engine holds too many (retry after `Retry-After` seconds, or sort by a field)."
    )


def _kinds(kinds: frozenset[Kind]) -> str:
    if kinds == frozenset(Kind):
        return "every field"
    return ", ".join(sorted(kinds))


_ARITY_WORDS = {
    Arity.NONE: "none (`value` is ignored)",
    Arity.ONE: "one",
    Arity.TWO: 'two: `[a, b]` or `"a,b"`',
    Arity.LIST: 'one or more: `[a, b]` or `"a,b"`',
}


def _filter_notes() -> str:
    by_kind: dict[Kind, list[str]] = {}
    for name in filterable_names():
        field = FIELDS.get(name)
        by_kind.setdefault(field.kind if field is not None else Kind.METADATA, []).append(name)
    fields = "\n".join(f"- {kind}: {_code(names)}" for kind, names in by_kind.items())
    rows = "\n".join(
        f"| `{op['operator']}` | {_ARITY_WORDS[Arity(op['values'])]} | {_kinds(OPERATORS[op['operator']].kinds)} "
        f"| {op['description']} |"
        for op in (operator.describe() for operator in OPERATORS.values())
    )
    capped = [op.key for op in OPERATORS.values() if op.role in (Role.PATTERN, Role.PREFIX)]
    listed = [op.key for op in OPERATORS.values() if op.arity is Arity.LIST]
    examples = "\n".join(
        f"- {example['summary']}: `{json.dumps(example['value'])}`" for example in FILTER_EXAMPLES.values()
    )
    return f"""

**A react-querybuilder rule group**: `{{"combinator": "and" | "or", "not": false, "rules": [...]}}`, each rule
`{{"field": ..., "operator": ..., "value": ...}}` or another group. The library's own `id`, `valueSource: "value"`,
`disabled` (the rule still applies) and `muted` (the rule or group is left out) are accepted, and rules the UI
produces mid-edit are left out, as its `formatQuery` does. A group with no rules imposes nothing.

**A plain map** of field to value: a scalar means `=`, an array means `in`, an object of `gt`/`gte`/`lt`/`lte`
is a range, `null` means the field has no value.

**Fields**, by kind:
{fields}

`{METADATA_PREFIX}<key>` names one key of the custom properties exactly; `x-metadata-<key>` is the request header
the original system used, case-insensitive like a header. `metadata` itself takes only `null` and `notNull`.

**Operators**:

| operator | values | applies to | meaning |
|---|---|---|---|
{rows}

Keyword fields compare whole strings, case-sensitively. Text fields match words, ignoring case and accents: `=` and
`contains` mean "contains this phrase"; `beginsWith` takes one word. `!=`, `notIn`, the `doesNot…` operators and
`not` groups also match requests with no value for the field; add `notNull` to exclude those. A date without a time
means the whole UTC day; a date-time without an offset is UTC. An IPv4 address compares as IPv4-mapped IPv6, and
`a.b.c.d/n` (or an IPv6 block) with `=`, `!=`, `in` or `notIn` means "inside the network". Unknown fields or
operators and values of the wrong type are a 400 that names them.

**Limits** (each past it is a 400 naming `filter`):
- the filter text: at most {_n(MAX_FILTER_LENGTH)} characters (after URL decoding);
- JSON arrays and objects nested at most {MAX_JSON_DEPTH} deep;
- rule groups nested at most {MAX_GROUP_DEPTH} deep (the top-level group is level 1);
- at most {MAX_RULES} rules and groups in all (in a plain map, conditions);
- at most {_n(MAX_LIST_VALUES)} values for {_code(listed)};
- at most {MAX_PATTERN_LENGTH} characters in a value of {_code(capped)};
- keyword fields hold at most {_n(MAX_KEYWORD_CHARS)} characters (longer values are refused when logged);
- at most {_n(MAX_CLAUSES)} OpenSearch clauses for the filter and `search` together.

**Examples**:
{examples}"""


def _answer_size_note() -> str:
    # A deployment setting, so the document can only state its default.
    default = ServiceSettings.model_fields["max_response_bytes"].default
    return (
        f" One answer may be at most {default / 1e6:g} MB by default (`LLMSEARCH_MAX_RESPONSE_BYTES`): a larger page "
        "is a 400 naming `pageSize`; ask for fewer requests, or fewer `fields`."
    )


def _parameter_notes() -> dict[str, str]:
    return {
        "user_id": f" At most {MAX_ID_PARAM_LENGTH} characters.",
        "app_id": f" At most {MAX_ID_PARAM_LENGTH} characters.",
        "search": _search_notes(),
        "sortBy": _sort_notes(),
        "pageSize": f" From 1 to {_n(MAX_PAGE_SIZE)}." + _answer_size_note(),
        "pageNumber": _page_number_notes(),
        "cursor": _cursor_notes(),
        "filter": _filter_notes(),
    }


# Bounds that depend on more than one parameter (pageNumber) or are checked past the model (filter), stated in the
# schema where a single number can say them.
_SCHEMA_LIMITS: dict[str, dict[str, Any]] = {
    "pageNumber": {"maximum": MAX_RESULT_WINDOW},
    "filter": {"maxLength": MAX_FILTER_LENGTH},
    "cursor": {"maxLength": MAX_CURSOR_CHARS},
}
_PARAMETER_EXAMPLES: dict[str, dict[str, Any]] = {
    "search": {"examples": {"phrase": {"summary": "A phrase, without drafts", "value": '"refund policy" -draft'}}},
    "filter": {
        "examples": {
            name: {"summary": example["summary"], "value": json.dumps(example["value"])}
            for name, example in FILTER_EXAMPLES.items()
        }
    },
}


def _parameters(components: dict[str, Any]) -> list[dict[str, Any]]:
    schema = RequestsQuery.model_json_schema(ref_template=REF_TEMPLATE)
    # Enums the parameters use (SortOrder) become components, where their `$ref`s point.
    components.update(schema.pop("$defs", {}))
    notes = _parameter_notes()
    out = []
    for name, prop in schema["properties"].items():
        description = prop.pop("description", "") + notes.get(name, "")
        prop.pop("title", None)
        parameter = {
            "name": name,
            "in": "query",
            "required": False,
            "description": description,
            "schema": {**_without_null(prop), **_SCHEMA_LIMITS.get(name, {})},
            **_PARAMETER_EXAMPLES.get(name, {}),
        }
        out.append(parameter)
    return out


@dataclass(frozen=True)
class _Example:
    summary: str
    message: str


@dataclass(frozen=True)
class _Header:
    description: str
    schema: dict[str, Any]


def _error(
    description: str, examples: dict[str, _Example], headers: dict[str, _Header] | None = None
) -> dict[str, Any]:
    content = {
        "schema": {"$ref": REF_TEMPLATE.format(model="ErrorBody")},
        "examples": {
            name: {"summary": example.summary, "value": {"error": example.message}}
            for name, example in examples.items()
        },
    }
    response: dict[str, Any] = {"description": description, "content": {"application/json": content}}
    if headers:
        response["headers"] = {
            name: {"description": header.description, "schema": header.schema} for name, header in headers.items()
        }
    return response


def _engine_message(error: Exception) -> str:
    api_error = api_error_for(error)
    if api_error is None:
        raise ValueError(f"{error!r} is not an engine failure")
    return api_error.message


def _protocol_message(limit: int) -> str:
    return protocol_error(LineTooLong("", limit), 400)[1]


# 400 examples: what the service answers to these parameters, produced by the code that answers them.
_BAD_REQUESTS: dict[str, tuple[str, dict[str, str]]] = {
    "pageTooDeep": ("A page past the result window", {"pageSize": "100", "pageNumber": "101"}),
    "notSortable": ("A field that cannot be sorted by", {"sortBy": "prompt"}),
    "unknownFilterField": ("A filter on a field that is not filterable", {"filter": '{"tenant_id": "other"}'}),
    "wrongValueType": ("A filter value of the wrong type", {"filter": '{"cost": "cheap"}'}),
    "nothingToSearch": ("A search with nothing to search for", {"search": "***"}),
}


def _responses(page_ref: dict[str, Any]) -> dict[str, Any]:
    example_page = RequestsPage.model_validate({"requests": [_EXAMPLE_REQUEST], "totalCount": 1, "nextCursor": None})
    return {
        "200": {
            "description": "A page of requests, in the order asked for, and the exact number of matches.",
            "content": {
                "application/json": {
                    "schema": page_ref,
                    "examples": {
                        "page": {"summary": "A page of one request", "value": example_page.model_dump(mode="json")}
                    },
                }
            },
        },
        "400": _error(
            "A parameter is invalid (the message names it), or the request is not valid HTTP.",
            {
                **{name: _Example(summary, _bad_request(params)) for name, (summary, params) in _BAD_REQUESTS.items()},
                "invalidCursor": _Example("A cursor edited, or from another query or tenant", INVALID_CURSOR),
                "expiredCursor": _Example("A relevance-sorted cursor past its snapshot's life", EXPIRED_CURSOR),
            },
        ),
        "401": _error(
            f"No API key, or one that is unknown, revoked, longer than {MAX_KEY_LENGTH} characters or not ASCII. "
            "The two messages are fixed.",
            {
                "missingKey": _Example("No Authorization header, or an empty one", MISSING_KEY),
                "invalidKey": _Example("A key that is unknown or revoked", INVALID_KEY),
            },
        ),
        "405": _error(
            "Any method but GET or HEAD.",
            {"methodNotAllowed": _Example("POST, PUT, DELETE, ...", METHOD_NOT_ALLOWED)},
            {"Allow": _Header("The methods allowed: `GET, HEAD`.", {"type": "string", "example": "GET, HEAD"})},
        ),
        "414": _error(
            f"The request line (method, path and query string) is over {_n(MAX_REQUEST_LINE_BYTES)} bytes ({_binary(MAX_REQUEST_LINE_BYTES)}).",
            {"lineTooLong": _Example("A query string over the limit", _protocol_message(MAX_REQUEST_LINE_BYTES))},
        ),
        "431": _error(
            f"A request header (name and value) is over {_n(MAX_FIELD_BYTES)} bytes ({_binary(MAX_FIELD_BYTES)}).",
            {"headerTooLong": _Example("A header over the limit", _protocol_message(MAX_FIELD_BYTES))},
        ),
        "503": _error(
            "OpenSearch is unreachable, timed out, overloaded or not ready. The service keeps running and recovers "
            "by itself: retry after `Retry-After` seconds.",
            {
                "unavailable": _Example("OpenSearch is down or timed out", _engine_message(TimeoutError())),
                "notReady": _Example(
                    "The index does not exist yet",
                    _engine_message(NotFoundError(404, "index_not_found_exception", {})),
                ),
                "tooManySnapshots": _Example(
                    "A relevance-sorted search's first page, when the engine holds too many snapshots", TOO_MANY_OPEN
                ),
            },
            {"Retry-After": _Header("Seconds to wait before retrying.", {"type": "integer", "minimum": 0})},
        ),
    }


REQUEST_PATH = "/api/v1/requests/{id}"


def _lookup_operation(list_parameters: list[dict[str, Any]]) -> dict[str, Any]:
    """`GET /api/v1/requests/{id}`: one request, or a 404 that does not say whether another tenant has it."""
    responses = _responses({"$ref": REF_TEMPLATE.format(model="RequestsPage")})
    return {
        "tags": [TAG],
        "operationId": "getRequest",
        "summary": "One logged request, by its id",
        "description": (
            "The request object with this id in the API key's tenant, with the same fields as the list (`fields` "
            "chooses fewer). An id that no request of the tenant has, including another tenant's, is the same 404."
        ),
        "parameters": [
            {
                "name": "id",
                "in": "path",
                "required": True,
                "description": f"The request's id, percent-encoded (a `/` as `%2F`); at most {MAX_ID_LENGTH} characters.",
                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH},
            },
            *(entry for entry in list_parameters if entry["name"] == "fields"),
        ],
        "security": [{SECURITY_SCHEME: []}],
        "responses": {
            "200": {
                "description": "The request.",
                "content": {"application/json": {"schema": {"$ref": REF_TEMPLATE.format(model="RequestOut")}}},
            },
            "400": _error(
                "`id` is longer than the limit or badly percent-encoded, or `fields` names an unknown field.",
                {"badFields": _Example("An unknown field", _bad_request({"fields": "nope"}))},
            ),
            "401": responses["401"],
            "404": _error(
                "No request of the tenant has this id.", {"notFound": _Example("Not found", REQUEST_NOT_FOUND)}
            ),
            "405": responses["405"],
            "503": responses["503"],
        },
    }


EXPORT_PATH = "/api/v1/export"


def _export_operation(list_parameters: list[dict[str, Any]]) -> dict[str, Any]:
    """`GET /api/v1/export`: every matching request, streamed."""
    responses = _responses({"$ref": REF_TEMPLATE.format(model="RequestsPage")})
    selection = [entry for entry in list_parameters if entry["name"] not in ("pageSize", "pageNumber", "cursor")]
    row = {"$ref": REF_TEMPLATE.format(model="RequestOut")}
    return {
        "tags": [TAG],
        "operationId": "exportRequests",
        "summary": "Every request a query matches, streamed as NDJSON or CSV",
        "description": (
            "The list's selection and sort parameters (`pageSize`, `pageNumber` and `cursor` are a 400), no 10,000 "
            "limit: a point in time and `search_after` pages, written as the client reads (chunked; gzip when "
            "asked). CSV cells starting with `= + - @`, tab or CR (or `'`) get a leading `'`, which the CSV loader "
            "removes again. An engine failure after the first byte can only show as a cut connection."
        ),
        "parameters": [
            *selection,
            {
                "name": "format",
                "in": "query",
                "required": False,
                "description": "`ndjson` (one request object per line, as in the list) or `csv`.",
                "schema": {"type": "string", "enum": ["ndjson", "csv"], "default": "ndjson"},
            },
        ],
        "security": [{SECURITY_SCHEME: []}],
        "responses": {
            "200": {
                "description": "Every matching request of the tenant, in the order asked for.",
                "headers": {
                    "Content-Disposition": {
                        "description": 'attachment; filename="requests-<tenant>-<YYYYMMDDTHHMMSSZ>.<ext>"',
                        "schema": {"type": "string"},
                    }
                },
                "content": {
                    "application/x-ndjson": {"schema": row},
                    "text/csv": {"schema": {"type": "string", "description": "A header row, then one row a request."}},
                },
            },
            "400": responses["400"],
            "401": responses["401"],
            "405": _error(
                "Any method but GET (HEAD would open a point in time to send nothing).",
                {"methodNotAllowed": _Example("POST, HEAD, ...", METHOD_NOT_ALLOWED)},
                {"Allow": _Header("`GET`.", {"type": "string", "example": "GET"})},
            ),
            "503": responses["503"],
        },
    }


_OPERATION_DESCRIPTION = """\
Searches, filters, sorts and pages the logged requests of the API key's tenant. The tenant is added to every query
beside whatever the client sends, so no parameter, filter or search reaches another tenant's requests.

Every parameter is checked before the search runs: a bad one is a 400 whose message names it, as are unknown
parameters and a parameter given twice. An empty `user_id`, `app_id`, `search` or `filter` counts as absent.
Every answer, errors included, is JSON; an error is `{"error": "<what went wrong>"}`. HEAD is answered as GET,
without the body.

Each request object has every key, `null` where the request has no value, unless `fields` chooses fewer."""


@cache
def openapi_spec() -> dict[str, Any]:
    components: dict[str, Any] = {}
    page_ref = _schema(RequestsPage, components)
    _schema(ErrorBody, components)
    _request_object(components[RequestOut.__name__])
    components["Highlights"] = highlights_schema()  # each request object's `highlights`, with `highlight=true`
    components["ErrorBody"]["description"] = "Every error answer: what went wrong, naming the parameter at fault."
    parameters = _parameters(components)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "llm-request-search",
            "version": "1",
            "description": (
                "Search logged LLM API requests: prompts, completions, bodies, tokens, cost, model, status, end users "
                f"and custom metadata. Every query is confined to the API key's tenant. A rendered reference is at "
                f"[`{DOCS_PATH}`]({DOCS_PATH}). Every answer carries `{REQUEST_ID_HEADER}`: the id of the request in "
                "the service's logs (the client's own, when it sends one of at most 64 letters, digits, `.`, `_` or "
                "`-`)."
            ),
        },
        "servers": [{"url": "/", "description": "This service"}],
        "tags": [
            {"name": TAG, "description": "The logged LLM API requests"},
            {"name": "analytics", "description": "Charts over the logged requests"},
            {"name": "ingest", "description": "Logging requests as they happen"},
            {"name": "page", "description": "What the built-in page at `/` reads besides the API above"},
            {"name": HEALTH_TAG, "description": "Probes for orchestrators and load balancers"},
        ],
        "paths": {
            REQUESTS_PATH: {
                "get": {
                    "tags": [TAG],
                    "operationId": "listRequests",
                    "summary": "Search, filter, sort and page logged requests",
                    "description": _OPERATION_DESCRIPTION,
                    "parameters": [*parameters, highlight_parameter()],
                    "security": [{SECURITY_SCHEME: []}],
                    "responses": _responses(page_ref),
                }
            },
            REQUEST_PATH: {"get": _lookup_operation(parameters)},
            EXPORT_PATH: {"get": _export_operation(parameters)},
            INGEST_PATH: {
                "post": ingest_operation(
                    {**_responses(page_ref), "security": [{SECURITY_SCHEME: []}]}, components, REF_TEMPLATE
                )
            },
            ANALYTICS_PATH: {
                "get": analytics_operation(
                    parameters,
                    {**_responses(page_ref), "security": [{SECURITY_SCHEME: []}]},
                    components,
                    REF_TEMPLATE,
                )
            },
            **schema_paths(_responses(page_ref), [{SECURITY_SCHEME: []}]),
            **health_paths({"$ref": REF_TEMPLATE.format(model="ErrorBody")}),
        },
        "components": {
            "schemas": components,
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "An API key (`llmsearch keys create`), sent as `Authorization: Bearer <key>`. The bare key, "
                        "`Authorization: <key>`, is accepted too. A revoked key is refused within the service's key "
                        "cache time (`LLMSEARCH_KEY_CACHE_SECONDS`, 5 s by default)."
                    ),
                }
            },
        },
    }
