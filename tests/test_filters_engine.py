"""What the filter's clauses match on a real OpenSearch: every operator on every kind of field it applies to.

Nine documents are indexed once for the module; each case names the exact ids it must return.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from opensearchpy import AsyncOpenSearch

from core.documents import RawRequest, RequestDocument
from core.fields import FILTERABLE
from core.templates import IndexNames
from service.filters import MAX_CLAUSES, MAX_PATTERN_LENGTH, FilterError, parse_filter
from service.filters.operators import operators_for
from service.filters.targets import resolve

DOCUMENTS: dict[str, dict[str, Any]] = {
    "r1": {
        "createdAt": "2026-01-01T00:00:00Z",
        "ip": "10.0.0.1",
        "url": "https://api.openai.com/v1/chat/completions",
        "method": "post",
        "status": 200,
        "cached": True,
        "user_id": "u1",
        "app_id": "app-a",
        "model": "gpt-4o",
        "openai_id": "chatcmpl-1",
        "prompt_tokens": 10,
        "completion_tokens": 20,
        "cost": 0.01,
        "request_body": {"messages": [{"role": "user", "content": "Where is the lighthouse?"}]},
        "completion": "The lighthouse stands on the northern cape.",
        "metadata": {"env": "prod", "team": "search"},
    },
    "r2": {
        "createdAt": "2026-01-01T23:59:59.999Z",
        "ip": "10.200.3.4",
        "url": "https://api.openai.com/v1/completions",
        "method": "POST",
        "status": 201,
        "streamed": True,
        "user_id": "u2",
        "model": "gpt-4o-mini",
        "prompt_tokens": 100,
        "completion_tokens": 5,
        "cost": 0.5,
        "request_body": {"prompt": "Translate hello to French"},
        "completion": "Bonjour",
        "metadata": {"env": "dev", "beta": True},
    },
    "r3": {
        "createdAt": "2026-01-02T00:00:00Z",
        "ip": "192.168.1.10",
        "url": "https://api.anthropic.com/v1/messages",
        "method": "POST",
        "status": 404,
        "user_id": "u1",
        "model": "claude-3*opus",
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost": 0.0,
        "request_body": {"messages": [{"role": "user", "content": "Photograph the northern lights"}]},
        "metadata": {"env": "prod", "team": "a*b"},
    },
    "r4": {
        "createdAt": "2026-01-15T12:00:00+02:00",
        "ip": "2001:db8::1",
        "url": "https://api.openai.com/v1/chat/completions",
        "method": "GET",
        "status": 500,
        "user_id": "u3",
        "model": "gpt-4o?",
        "completion": "Internal error: the server is down",
        "request_headers": {"x-metadata-env": "staging"},
    },
    "r5": {"createdAt": "2026-02-01T00:00:00Z", "metadata": {"team": "search"}},
    "r6": {
        "createdAt": "2026-03-10T08:30:00Z",
        "ip": "10.0.0.255",
        "url": "https://api.openai.com/v1/embeddings",
        "method": "POST",
        "status": 200,
        "user_id": "u2",
        "model": "gpt\\4",
        "prompt_tokens": 2147483647,
        "cost": 2.5,
        "request_body": {"input": "lighthouse keeper diary"},
        "metadata": {"env": "prod-eu", "Env": "Prod"},
    },
    "r7": {
        "createdAt": "2025-12-31T23:00:00Z",
        "ip": "::1",
        "method": "POST",
        "status": 429,
        "cached": True,
        "streamed": True,
        "user_id": "u4",
        "model": "GPT-4O",
        "prompt_tokens": 7,
        "completion_tokens": 3,
        "cost": 0.02,
        "completion": "rate limited",
        "metadata": {"env": "Prod"},
    },
    "r8": {
        "createdAt": "2026-01-31T23:59:59Z",
        "ip": "10.0.1.1",
        "method": "POST",
        "status": 200,
        "model": "gpt-4o",
        "prompt_tokens": 50,
        "completion_tokens": 50,
        "cost": 0.25,
        "request_body": {
            "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "lighthouse"}]
        },
        "completion": "Yes.",
        "metadata": {"env": "dev", "a-b_c": "x", "retries": 3},
    },
    "r9": {"createdAt": "2026-04-01T00:00:00Z"},
}
ALL = frozenset(DOCUMENTS)


def but(*ids: str) -> set[str]:
    return set(ALL - set(ids))


@pytest.fixture(scope="module")
async def indexed(client: AsyncOpenSearch, index_names: IndexNames) -> AsyncIterator[IndexNames]:
    actions: list[dict[str, Any]] = []
    for request_id, fields in DOCUMENTS.items():
        document = RequestDocument.from_raw(RawRequest(id=request_id, **fields), tenant_id="tenant-a")
        actions += [{"index": {"_index": index_names.write_alias, "_id": document.id}}, document.source()]
    response = await client.bulk(body=actions, refresh="wait_for")
    assert not response["errors"], response
    yield index_names


async def ids_matching(client: AsyncOpenSearch, names: IndexNames, document: Any) -> set[str]:
    body = {"query": {"bool": {"filter": parse_filter(json.dumps(document))}}, "size": 100, "_source": False}
    found = await client.search(index=names.read_alias, body=body)
    return {hit["_id"] for hit in found["hits"]["hits"]}


def rule(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"combinator": "and", "rules": [{"field": field, "operator": operator, "value": value}]}


def group(*rules: Any, combinator: str = "and", negated: bool = False) -> dict[str, Any]:
    return {"combinator": combinator, "not": negated, "rules": list(rules)}


def only(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


# (field, operator, value, ids it must return); together they use every operator on every kind it accepts.
CASES: list[tuple[str, str, Any, set[str]]] = [
    # keyword: exact, case-sensitive, ordered by code point
    ("model", "=", "gpt-4o", {"r1", "r8"}),
    ("model", "!=", "gpt-4o", but("r1", "r8")),
    ("model", "<", "gpt", {"r3", "r7"}),
    ("model", ">", "gpt-4o", {"r2", "r4", "r6"}),
    ("model", "<=", "gpt-4o", {"r1", "r3", "r7", "r8"}),
    ("model", ">=", "gpt-4o-mini", {"r2", "r4", "r6"}),
    ("model", "contains", "4o", {"r1", "r2", "r4", "r8"}),
    ("model", "beginsWith", "gpt-4o", {"r1", "r2", "r4", "r8"}),
    ("model", "endsWith", "o", {"r1", "r8"}),
    ("model", "doesNotContain", "4o", {"r3", "r5", "r6", "r7", "r9"}),
    ("model", "doesNotBeginWith", "gpt", {"r3", "r5", "r7", "r9"}),
    ("model", "doesNotEndWith", "o", but("r1", "r8")),
    ("model", "null", None, {"r5", "r9"}),
    ("model", "notNull", None, but("r5", "r9")),
    ("model", "in", "gpt-4o, claude-3*opus", {"r1", "r3", "r8"}),
    ("model", "notIn", ["gpt-4o", "GPT-4O"], but("r1", "r7", "r8")),
    ("model", "between", "gpt-4o,gpt-4o-mini", {"r1", "r2", "r8"}),
    ("model", "notBetween", ["gpt-4o", "gpt-4o-mini"], but("r1", "r2", "r8")),
    ("method", "=", "POST", {"r1", "r2", "r3", "r6", "r7", "r8"}),
    ("url", "endsWith", "/chat/completions", {"r1", "r4"}),
    ("openai_id", "=", "chatcmpl-1", {"r1"}),
    ("app_id", "notNull", None, {"r1"}),
    ("user_id", "in", ["u1", "u4"], {"r1", "r3", "r7"}),
    ("id", "in", "r2,r9", {"r2", "r9"}),
    # text: phrase searches through the analyser (so case does not matter)
    ("prompt", "=", "the lighthouse", {"r1"}),
    ("prompt", "!=", "lighthouse", but("r1", "r6", "r8")),
    ("prompt", "contains", "LIGHTHOUSE", {"r1", "r6", "r8"}),
    ("prompt", "doesNotContain", "northern", but("r3")),
    ("prompt", "beginsWith", "li", {"r1", "r3", "r6", "r8"}),  # lighthouse, lights: any word
    ("prompt", "beginsWith", "NORTH", {"r3"}),  # normalised like the text
    ("completion", "beginsWith", "dow", {"r4"}),  # "the server is down": not only the first word
    ("prompt", "doesNotBeginWith", "light", but("r1", "r3", "r6", "r8")),
    ("prompt", "in", ["hello", "keeper diary"], {"r2", "r6"}),
    ("prompt", "notIn", "hello, keeper diary", but("r2", "r6")),
    ("prompt", "null", None, {"r4", "r5", "r7", "r9"}),
    ("prompt", "notNull", None, {"r1", "r2", "r3", "r6", "r8"}),
    ("completion", "contains", "northern cape", {"r1"}),
    ("request_body", "contains", "Translate hello", {"r2"}),
    # integer
    ("status", "=", "200", {"r1", "r6", "r8"}),
    ("status", "!=", 200, but("r1", "r6", "r8")),
    ("status", "<", 300, {"r1", "r2", "r6", "r8"}),
    ("status", ">", "404", {"r4", "r7"}),
    ("status", "<=", 404, {"r1", "r2", "r3", "r6", "r8"}),
    ("status", ">=", "429", {"r4", "r7"}),
    ("status", "in", "200,201", {"r1", "r2", "r6", "r8"}),
    ("status", "notIn", [200], but("r1", "r6", "r8")),
    ("status", "between", ["400", "499"], {"r3", "r7"}),
    ("status", "notBetween", [200, 299], but("r1", "r2", "r6", "r8")),
    ("status", "null", None, {"r5", "r9"}),
    ("status", "notNull", None, but("r5", "r9")),
    ("prompt_tokens", ">=", 2147483647, {"r6"}),
    ("completion_tokens", "=", "0", {"r3"}),
    # number
    ("cost", "=", "0.5", {"r2"}),
    ("cost", "!=", 0.01, but("r1")),
    ("cost", "<", 0.02, {"r1", "r3"}),
    ("cost", ">", "0.25", {"r2", "r6"}),
    ("cost", "<=", 0.02, {"r1", "r3", "r7"}),
    ("cost", ">=", 0.25, {"r2", "r6", "r8"}),
    ("cost", "in", [0, 2.5], {"r3", "r6"}),
    ("cost", "=", -0.0, {"r3"}),
    ("cost", "notIn", "0.01,0.02", but("r1", "r7")),
    ("cost", "between", "0.01,0.25", {"r1", "r7", "r8"}),
    ("cost", "notBetween", [0, 0.02], but("r1", "r3", "r7")),
    ("cost", "null", None, {"r4", "r5", "r9"}),
    ("cost", "notNull", None, but("r4", "r5", "r9")),
    # date: a bare date is the whole UTC day
    ("createdAt", "=", "2026-01-01", {"r1", "r2"}),
    ("createdAt", "=", "2026-01-15T12:00:00+02:00", {"r4"}),
    ("createdAt", "!=", "2026-01-01", but("r1", "r2")),
    ("createdAt", "<", "2026-01-01", {"r7"}),
    ("createdAt", "<", "2026-01-01T00:30:00+01:00", {"r7"}),
    ("createdAt", ">", "2026-01-01", {"r3", "r4", "r5", "r6", "r8", "r9"}),
    ("createdAt", "<=", "2026-01-01", {"r1", "r2", "r7"}),
    ("createdAt", ">=", "2026-01-02", {"r3", "r4", "r5", "r6", "r8", "r9"}),
    ("createdAt", "in", ["2026-01-02", "2026-03-10"], {"r3", "r6"}),
    ("createdAt", "notIn", "2026-01-01", but("r1", "r2")),
    ("createdAt", "between", "2026-01-01,2026-01-31", {"r1", "r2", "r3", "r4", "r8"}),
    ("createdAt", "notBetween", ["2026-01-01T00:00:00Z", "2026-01-31T23:59:58Z"], {"r5", "r6", "r7", "r8", "r9"}),
    ("createdAt", "null", None, set()),
    ("updatedAt", "notNull", None, set(ALL)),
    # boolean
    ("cached", "=", "true", {"r1", "r7"}),
    ("cached", "!=", True, but("r1", "r7")),
    ("cached", "in", [True, "false"], set(ALL)),
    ("cached", "notIn", "true", but("r1", "r7")),
    ("cached", "null", None, set()),
    ("cached", "notNull", None, set(ALL)),
    ("streamed", "=", False, but("r2", "r7")),
    # ip: addresses or CIDR blocks; IPv4 sorts inside IPv6 as IPv4-mapped addresses
    ("ip", "=", "10.0.0.1", {"r1"}),
    ("ip", "=", "10.0.0.0/24", {"r1", "r6"}),
    ("ip", "=", "2001:db8::/32", {"r4"}),
    ("ip", "!=", "10.0.0.0/8", but("r1", "r2", "r6", "r8")),
    ("ip", "<", "10.0.0.255", {"r1", "r7"}),
    ("ip", ">", "10.0.1.1", {"r2", "r3", "r4"}),
    ("ip", "<=", "10.0.1.1", {"r1", "r6", "r7", "r8"}),
    ("ip", ">=", "192.168.1.10", {"r3", "r4"}),
    ("ip", "in", "10.0.0.0/24, ::1", {"r1", "r6", "r7"}),
    # an IPv4-mapped IPv6 block is the IPv4 block it maps (OpenSearch stores IPv4 as IPv4-mapped IPv6)
    ("ip", "=", "::ffff:10.0.0.0/120", {"r1", "r6"}),
    ("ip", "!=", "::ffff:10.0.0.0/120", but("r1", "r6")),
    ("ip", "in", ["10.0.1.1", "192.168.1.10"], {"r3", "r8"}),
    ("ip", "notIn", ["10.0.0.0/8"], but("r1", "r2", "r6", "r8")),
    ("ip", "between", "10.0.0.0,10.0.0.255", {"r1", "r6"}),
    ("ip", "notBetween", ["10.0.0.0", "10.255.255.255"], but("r1", "r2", "r6", "r8")),
    ("ip", "null", None, {"r5", "r9"}),
    ("ip", "notNull", None, but("r5", "r9")),
    # metadata keys: strings, case-sensitive keys and values, under either name
    ("metadata.env", "=", "prod", {"r1", "r3"}),
    ("x-metadata-env", "=", "prod", {"r1", "r3"}),
    ("metadata.env", "!=", "prod", but("r1", "r3")),
    ("metadata.env", "<", "prod", {"r2", "r7", "r8"}),
    ("metadata.env", ">", "prod", {"r4", "r6"}),
    ("metadata.env", "<=", "prod", {"r1", "r2", "r3", "r7", "r8"}),
    ("metadata.env", ">=", "prod-eu", {"r4", "r6"}),
    ("metadata.env", "contains", "ro", {"r1", "r3", "r6", "r7"}),
    ("metadata.env", "beginsWith", "prod", {"r1", "r3", "r6"}),
    ("metadata.env", "endsWith", "-eu", {"r6"}),
    ("metadata.env", "doesNotContain", "ro", {"r2", "r4", "r5", "r8", "r9"}),
    ("metadata.env", "doesNotBeginWith", "prod", but("r1", "r3", "r6")),
    ("metadata.env", "doesNotEndWith", "v", but("r2", "r8")),
    ("metadata.env", "null", None, {"r5", "r9"}),
    ("metadata.env", "notNull", None, but("r5", "r9")),
    ("metadata.env", "in", "prod, dev", {"r1", "r2", "r3", "r8"}),
    ("metadata.env", "notIn", ["prod", "dev"], but("r1", "r2", "r3", "r8")),
    ("metadata.env", "between", ["d", "p"], {"r2", "r8"}),
    ("metadata.env", "notBetween", "d,p", but("r2", "r8")),
    ("metadata.Env", "=", "Prod", {"r6"}),
    # header spelling: the key is case-insensitive (as headers are) and finds the lower-cased stored key
    ("X-Metadata-Env", "=", "Prod", {"r7"}),
    ("X-METADATA-ENV", "=", "prod", {"r1", "r3"}),
    ("metadata.beta", "=", True, {"r2"}),
    ("metadata.retries", "=", 3, {"r8"}),
    ("metadata.a-b_c", "notNull", None, {"r8"}),
    ("metadata.team", "=", "a*b", {"r3"}),
    # the metadata object itself
    ("metadata", "null", None, {"r9"}),
    ("metadata", "notNull", None, but("r9")),
    # wildcard characters in values are literal
    ("model", "contains", "*", {"r3"}),
    ("model", "contains", "?", {"r4"}),
    ("model", "contains", "\\", {"r6"}),
    ("model", "endsWith", "*opus", {"r3"}),
    ("model", "contains", "3*o", {"r3"}),
    ("model", "beginsWith", "gpt*", set()),
    ("model", "endsWith", "4o?", {"r4"}),
    ("metadata.team", "contains", "*", {"r3"}),
    ("metadata.team", "endsWith", "?", set()),
    ("model", "contains", "a" * MAX_PATTERN_LENGTH, set()),
]


@pytest.mark.parametrize(("field", "operator", "value", "expected"), CASES)
async def test_operator_on_field(
    client: AsyncOpenSearch, indexed: IndexNames, field: str, operator: str, value: Any, expected: set[str]
) -> None:
    assert await ids_matching(client, indexed, rule(field, operator, value)) == expected


def test_cases_cover_every_operator_on_every_kind() -> None:
    covered = {(resolve(field).kind, resolve(field).whole_object, op) for field, op, _, _ in CASES}
    for field in [*FILTERABLE, "metadata.env"]:
        target = resolve(field)
        for op in operators_for(target):
            assert (target.kind, target.whole_object, op) in covered, (field, op)


GROUPS: list[tuple[str, Any, set[str]]] = [
    ("or", group(only("model", "=", "gpt-4o"), only("status", "=", 404), combinator="or"), {"r1", "r3", "r8"}),
    (
        "not and",
        group(only("model", "beginsWith", "gpt"), only("cached", "=", True), negated=True),
        but("r1"),
    ),
    (
        "not or",
        group(only("status", "=", 200), only("status", "null"), combinator="OR", negated=True),
        {"r2", "r3", "r4", "r7"},
    ),
    (
        "nested",
        group(
            only("prompt", "contains", "lighthouse"),
            group(only("cost", ">", 1), group(only("status", "=", 200), negated=True), combinator="or"),
        ),
        {"r6"},
    ),
    ("empty group in or", group(group(), only("status", "=", 404), combinator="or"), set(ALL)),
    ("negated empty group", group(negated=True), set(ALL)),
    ("negated empty group in and", group(group(negated=True), only("status", "=", 404)), {"r3"}),
    ("disabled rule counts", group(only("model", "=", "gpt-4o"), {**only("status", "=", 1), "disabled": True}), set()),
    (
        "muted rule is left out",
        group(only("model", "=", "gpt-4o"), {**only("status", "=", 1), "muted": True}),
        {"r1", "r8"},
    ),
    ("unfinished rule is left out", group(only("model", "=", "gpt-4o"), only("status", "in", "")), {"r1", "r8"}),
    (
        "plain map",
        {
            "model": "gpt-4o",
            "status": [200, 201],
            "cost": {"gte": 0.01, "lt": 1},
            "cached": False,
            "metadata.env": "dev",
        },
        {"r8"},
    ),
    ("plain map null", {"user_id": None}, {"r5", "r8", "r9"}),
    ("plain map id", {"id": ["r2", "r4"], "status": {"gt": 200}}, {"r2", "r4"}),
    (
        "plain map alias and date range",
        {"x-metadata-env": ["prod", "Prod"], "createdAt": {"gte": "2026-01-01", "lte": "2026-01-31"}},
        {"r1", "r3"},
    ),
]


@pytest.mark.parametrize(("name", "document", "expected"), GROUPS, ids=[name for name, _, _ in GROUPS])
async def test_groups_and_plain_maps(
    client: AsyncOpenSearch, indexed: IndexNames, name: str, document: Any, expected: set[str]
) -> None:
    assert await ids_matching(client, indexed, document) == expected


async def test_a_filter_at_the_clause_limit_runs(client: AsyncOpenSearch, indexed: IndexNames) -> None:
    # Beside the service's own clauses (tenant, user, app, search), as in the real search body.
    phrases = ["lighthouse", *(f"absent phrase {i}" for i in range(MAX_CLAUSES - 1))]
    clauses = parse_filter(json.dumps(rule("prompt", "in", phrases)))
    body = {
        "query": {
            "bool": {
                "filter": [{"term": {"tenant_id": "tenant-a"}}, {"term": {"user_id": "u1"}}, *clauses],
                "must": [{"multi_match": {"query": "lighthouse", "fields": ["prompt", "completion"]}}],
            }
        },
        "_source": False,
    }
    found = await client.search(index=indexed.read_alias, body=body)
    assert {hit["_id"] for hit in found["hits"]["hits"]} == {"r1"}


# Values by kind for the random filters below: valid ones mostly, so OpenSearch sees what the parser accepts.
SAMPLE_VALUES: dict[str, list[Any]] = {
    "keyword": ["gpt-4o", "a*b?c\\", "", "ü東😀", 42, True, "x" * MAX_PATTERN_LENGTH],
    "text": ["lighthouse", "northern li", "東京", "a*b", '\\ "quoted"', 404],
    "integer": [0, "200", -1, 2147483647, "-2147483648", 3.0],
    "number": [0, "0.5", 1e300, -2.5, "1e-9"],
    "date": ["2026-01-01", "2026-01-01T00:00:00Z", "0001-01-01", "9999-12-31T23:59:59.999999+14:00", "20260102"],
    "boolean": [True, "false", "TRUE"],
    "ip": ["10.0.0.1", "::", "10.0.0.0/8", "::ffff:10.0.0.1", "0.0.0.0/0", "ffff::/16"],
    "metadata": ["prod", "", "a*b", 7, False],
}


def random_rule(chooser: random.Random) -> dict[str, Any]:
    field = chooser.choice([*FILTERABLE, "metadata.env", "x-metadata-team"])
    target = resolve(field)
    operator = chooser.choice(operators_for(target))
    pool = SAMPLE_VALUES[target.kind.value]
    value: Any = chooser.choice(pool)
    if operator in ("in", "notIn"):
        value = chooser.sample(pool, chooser.randint(1, len(pool)))
    elif operator in ("between", "notBetween"):
        value = sorted(chooser.sample(pool, 2), key=str)
    return only(field, operator, value)


def random_group(chooser: random.Random, depth: int = 0) -> dict[str, Any]:
    rules: list[Any] = []
    for _ in range(chooser.randint(0, 4)):
        rules.append(random_group(chooser, depth + 1) if depth < 3 and chooser.random() < 0.3 else random_rule(chooser))
    return group(*rules, combinator=chooser.choice(["and", "or"]), negated=chooser.random() < 0.3)


async def test_opensearch_accepts_whatever_the_parser_accepts(client: AsyncOpenSearch, indexed: IndexNames) -> None:
    chooser = random.Random(20260101)
    searches: list[dict[str, Any]] = []
    parsed = 0
    for _ in range(300):
        try:
            clauses = parse_filter(json.dumps(random_group(chooser)))
        except FilterError:
            continue  # out-of-order between bounds and the like; the parser tests cover the messages
        parsed += 1
        searches += [{"index": indexed.read_alias}, {"query": {"bool": {"filter": clauses}}, "size": 0}]
    assert parsed > 200
    responses = await client.msearch(body=searches)
    failures = [response["error"] for response in responses["responses"] if "error" in response]
    assert failures == []
