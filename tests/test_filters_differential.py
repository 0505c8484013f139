"""Differential test: the service's filters against react-querybuilder's own SQL.

The README says the `filter` grammar is react-querybuilder's. To keep that honest, ~60 hand-made requests go both
into OpenSearch (one tenant) and into a throwaway PostgreSQL table, and a few hundred rule groups (seeded random ones
plus hand-picked edge cases) go both through the real API and through `formatQuery(group, 'sql')` of the pinned
`@react-querybuilder/core` (run once per session by `tests/rqb_format.mjs`), whose SQL runs on that table. The id
sets must be equal.

Where the service differs from SQL on purpose (README, "What the operators mean"), the group is translated before
formatQuery renders it, by one small function per difference (`service_semantics`); each cites its README sentence
and has hand-picked cases whose answer changes when that one function is switched off. Nothing else is adjusted.
Mismatches that no README sentence explains are cases with a `mismatch` reason, marked xfail(strict=True): visible,
not papered over.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from core.documents import RawRequest, RequestDocument
from core.fields import TABLE, Kind
from core.settings import default_cache_dir
from core.templates import IndexNames
from localnode.postgres import postgres_server
from service.keys import KeyStore
from tests.dataset import index_documents

Api = TestClient[web.Request, web.Application]
Node = dict[str, Any]
"""A rule or a rule group, as JSON."""

RQB_PACKAGE = "@react-querybuilder/core"
RQB_VERSION = "8.24.1"  # the one place the compared version is pinned
NODE_SCRIPT = Path(__file__).with_name("rqb_format.mjs")
URL = "/api/v1/requests"
TENANT = "differential"
SEED = 20260424
RANDOM_GROUPS = 300

# ---------------------------------------------------------------------------------------------------------------
# The dataset: every non-text field varies, with missing values, ties, and `%`, `_`, quotes, commas, backslashes.

CHAT = "https://api.openai.com/v1/chat/completions"
COMPLETIONS = "https://api.openai.com/v1/completions"
EMBEDDINGS = "https://api.openai.com/v1/embeddings"
ANTHROPIC = "https://api.anthropic.com/v1/messages"
LOCAL = "http://localhost:8080/v1/chat/completions?user=a%20b&x=1"
ODD = "https://example.com/v1/it's_50%_off,really"

ROW_FIELDS = (
    "id",
    "createdAt",
    "updatedAt",
    "ip",
    "url",
    "method",
    "status",
    "cached",
    "streamed",
    "user_id",
    "app_id",
    "model",
    "openai_id",
    "prompt_tokens",
    "completion_tokens",
    "cost",
)
# fmt: off
ROWS: list[tuple[Any, ...]] = [
    # id, createdAt, updatedAt, ip, url, method, status, cached, streamed, user_id, app_id, model, openai_id,
    # prompt_tokens, completion_tokens, cost
    ("req-001", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01.250Z", "10.0.0.1", CHAT, "POST", 200, True, False, "alice", "web", "gpt-4o", "chatcmpl-001", 10, 20, 0.01),
    ("req-002", "2026-01-01T23:59:59.999Z", None, "10.0.0.255", CHAT, "POST", 200, False, True, "bob", "web", "gpt-4o-mini", "chatcmpl-002", 100, 5, 0.5),
    ("req_003", "2026-01-02T00:00:00Z", "2026-01-02T00:00:00Z", "192.168.1.10", ANTHROPIC, "POST", 404, False, False, "alice", "batch", "claude_3%opus", None, 0, 0, 0.0),
    ("req%004", "2026-01-15T12:00:00+02:00", "2026-01-15T10:00:05Z", "2001:db8::1", CHAT, "GET", 500, False, False, "Alice", None, "GPT-4O", "chatcmpl-004", None, None, None),
    ("o'brien-005", "2026-02-01T00:00:00Z", "2026-01-31T23:00:00Z", None, None, None, None, False, False, None, None, None, None, None, None, None),
    ("a,b-006", "2026-03-10T08:30:00Z", "2026-03-10T08:30:02.500Z", "10.0.0.255", EMBEDDINGS, "POST", 200, False, True, "bob,jr", "mobile", "text-embedding-3-small", "emb-006", 2147483647, 0, 2.5),
    ("back\\slash-007", "2025-12-31T23:00:00Z", "2025-12-31T23:00:00.001Z", "::1", COMPLETIONS, "post", 429, True, True, "50%off", "web", "gpt\\4", "chatcmpl-007", 7, 3, 0.02),
    ("REQ-008", "2026-01-31T23:59:59Z", "2026-02-01T00:00:09Z", "10.0.1.1", CHAT, "POST", 200, False, False, "_under", "batch", "gpt-4o", "chatcmpl-008", 50, 50, 0.25),
    ("req-009", "2026-04-01T00:00:00Z", None, "::ffff:10.1.2.3", LOCAL, "PUT", 201, True, False, "zoë", "web-2", "o3-mini", "chatcmpl_009%", 1, 1, 1e-09),
    ("東京-010", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.999Z", "8.8.8.8", ODD, "DELETE", 204, False, True, "東京", "WEB", "it's-a-model", "chatcmpl-010", 1000, 999, 0.1),
    ("réq-011", "2026-01-01T12:00:00Z", "2026-01-01T12:00:30Z", "172.16.5.4", CHAT, "POST", 0, False, False, "", "web", "42", "chatcmpl-011", 12, 34, 0.30000000000000004),
    ("req-012", "2026-01-01T12:00:00Z", "2026-01-01T12:01:00Z", "255.255.255.255", CHAT, "POST", 999, True, True, "carol ", "batch", "1e3", "chatcmpl-012", 10, 20, 0.01),
    ("req-013", "2026-02-28T23:59:59.999Z", "2026-03-01T00:00:00Z", "0.0.0.0", COMPLETIONS, "GET", 400, False, False, "alice", "web", "gpt-3.5-turbo", "cmpl-013", 2, 2, 0.002),
    ("req-014", "2026-03-01T00:00:00Z", "2026-03-01T00:00:00.500Z", "fe80::1", ANTHROPIC, "POST", 401, False, False, "dave", "mobile", "claude-3-opus", None, 300, 150, 0.3),
    ("req-015", "2026-03-01T00:00:00.001Z", None, "2001:db8::ff", CHAT, None, None, True, False, "bob", None, "gpt-4o", "chatcmpl-015", None, 40, 0.05),
    ("req-016", "2026-03-15T09:15:00+05:30", "2026-03-15T03:45:01Z", "10.0.0.2", CHAT, "POST", 503, False, True, "erin", "web", "gpt-4o-mini", "chatcmpl-016", 25, 0, None),
    ("req-017", "2026-01-05T08:00:00Z", "2026-01-05T08:00:02.345Z", "10.0.0.3", CHAT, "POST", 200, False, True, "alice", "web", "gpt-4o", "chatcmpl-017", 120, 80, 0.0015),
    ("req-018", "2026-01-05T08:00:00Z", "2026-01-05T08:00:01Z", "10.0.0.4", CHAT, "POST", 200, True, False, "bob", "web", "gpt-4o-mini", "chatcmpl-018", 120, 80, 0.0015),
    ("req-019", "2026-01-06T14:30:00Z", "2026-01-06T14:30:10Z", "10.0.2.1", COMPLETIONS, "POST", 200, False, False, "carol", "batch", "gpt-3.5-turbo", "cmpl-019", 500, 200, 0.001),
    ("req-020", "2026-01-07T00:00:00Z", "2026-01-07T00:00:00Z", "10.0.2.2", CHAT, "POST", 429, False, False, "carol", "batch", "gpt-4o", None, 0, 0, 0.0),
    ("req-021", "2026-01-08T23:59:59.999Z", "2026-01-09T00:00:00.001Z", "192.168.0.1", CHAT, "POST", 500, False, True, "dave", "mobile", "o3-mini", "chatcmpl-021", 60, None, None),
    ("req-022", "2026-01-10T10:10:10.010Z", "2026-01-10T10:10:11Z", "192.168.1.11", EMBEDDINGS, "POST", 200, True, False, "dave", "mobile", "text-embedding-3-small", "emb-022", 8, 0, 0.0001),
    ("req-023", "2026-01-12T06:00:00Z", "2026-01-12T06:00:04Z", "2001:db8::2", CHAT, "POST", 200, False, True, "erin", "web", "gpt-4o", "chatcmpl-023", 300, 600, 0.0075),
    ("req-024", "2026-01-12T06:00:00Z", None, "2001:db8:1::1", CHAT, "POST", 201, False, False, "erin", "web", "GPT-4O", "chatcmpl-024", 300, 600, 0.0075),
    ("req-025", "2026-01-14T18:45:00-05:00", "2026-01-14T23:45:03Z", "10.10.10.10", ANTHROPIC, "POST", 200, False, True, "frank", "batch", "claude_3%opus", None, 42, 42, 0.042),
    ("req-026", "2026-01-20T00:00:00Z", "2026-01-20T00:00:00.100Z", "10.0.0.1", CHAT, "GET", 404, True, False, "frank", "batch", "gpt-4o-mini", "chatcmpl-026", 5, 5, 0.0),
    ("req-027", "2026-01-21T11:11:11Z", "2026-01-21T11:11:12Z", "::", LOCAL, "POST", 200, False, False, "grace", None, "llama-3-70b", "local-027", 64, 128, None),
    ("req-028", "2026-01-22T22:22:22Z", "2026-01-22T22:22:30Z", "::ffff:192.168.1.10", LOCAL, "POST", 500, False, True, "grace", None, "llama-3-70b", "local-028", 64, None, None),
    ("req-029", "2026-01-25T00:00:00Z", "2026-01-24T00:00:00Z", "10.0.0.128", CHAT, "POST", 200, False, False, "heidi", "web", "gpt-4o", "chatcmpl-029", 77, 77, 0.077),
    ("req-030", "2026-01-31T00:00:00Z", "2026-01-31T00:00:00.999Z", "10.0.0.129", CHAT, "POST", 200, True, True, "heidi", "web", "gpt-4o", "chatcmpl-030", 77, 77, 0.077),
    ("req-031", "2026-02-01T00:00:00Z", "2026-02-01T00:00:01Z", "10.255.255.255", CHAT, "POST", 400, False, False, "ivan", "web", "gpt-4o", "chatcmpl-031", 9, 0, 0.0009),
    ("req-032", "2026-02-02T02:02:02Z", None, "11.0.0.0", COMPLETIONS, "POST", 200, False, False, "ivan", "batch", "gpt-3.5-turbo-instruct", "cmpl-032", 90, 10, 0.00009),
    ("req-033", "2026-02-03T03:03:03Z", "2026-02-03T03:03:05Z", "9.255.255.255", CHAT, "PATCH", 405, False, False, "judy", "web", "gpt-4o", "chatcmpl-033", 1, 0, 0.0),
    ("req-034", "2026-02-05T12:00:00Z", "2026-02-05T12:00:45Z", "172.16.0.1", ANTHROPIC, "POST", 529, False, True, "judy", "mobile", "claude-3-opus", None, 2000, 1000, 0.105),
    ("req-035", "2026-02-07T07:07:07.007Z", "2026-02-07T07:07:08Z", "172.31.255.254", CHAT, "POST", 200, True, False, "mallory", "web", "gpt-4o-mini", "chatcmpl-035", 150, 50, 0.00015),
    ("req-036", "2026-02-10T10:00:00Z", "2026-02-10T10:00:03Z", "2001:db8::1", CHAT, "POST", 200, False, True, "mallory", "web", "gpt-4o", "chatcmpl-036", 150, 50, 0.0015),
    ("req-037", "2026-02-14T14:14:14Z", "2026-02-14T14:14:15Z", "2001:db8::10", EMBEDDINGS, "POST", 200, False, False, "niaj", "batch", "text-embedding-3-large", "emb-037", 256, 0, 2.56e-05),
    ("req-038", "2026-02-14T14:14:14Z", "2026-02-14T14:14:20Z", "2001:db9::1", EMBEDDINGS, "POST", 200, True, False, "niaj", "batch", "text-embedding-3-large", "emb-038", 256, 0, 2.56e-05),
    ("req-039", "2026-02-20T20:20:20Z", "2026-02-20T20:20:21.500Z", "10.0.0.5", CHAT, "post", 200, False, True, "olivia", "web", "gpt-4o", "chatcmpl-039", 33, 66, 0.0099),
    ("req-040", "2026-02-21T00:00:00Z", "2026-02-21T00:00:02Z", "10.0.0.6", CHAT, "POST", 422, False, False, "olivia", "web", "gpt-4o", "chatcmpl-040", 33, None, None),
    ("req-041", "2026-02-25T13:00:00+01:00", "2026-02-25T12:00:00.250Z", "192.168.2.1", LOCAL, "POST", 200, False, False, "peggy", "mobile", "mistral-large", "local-041", 11, 22, 0.011),
    ("req-042", "2026-02-27T00:00:00Z", "2026-02-27T00:00:00Z", "192.168.2.2", LOCAL, "GET", 200, True, True, "peggy", "mobile", "mistral-large", "local-042", 11, 22, 0.011),
    ("req-043", "2026-03-01T12:00:00Z", "2026-03-01T12:00:07Z", "10.0.1.2", CHAT, "POST", 200, False, False, "rupert", "web", "gpt-4o", "chatcmpl-043", 400, 100, 0.003),
    ("req-044", "2026-03-02T00:00:00Z", None, "10.0.1.3", CHAT, "POST", 500, False, False, "rupert", "web", "gpt-4o", "chatcmpl-044", None, None, None),
    ("req-045", "2026-03-03T03:00:00Z", "2026-03-03T03:00:03Z", "fe80::2", ANTHROPIC, "POST", 200, False, True, "sybil", "batch", "claude-3-haiku", None, 80, 40, 0.0002),
    ("req-046", "2026-03-04T04:00:00Z", "2026-03-04T04:00:04Z", "fe80::2", ANTHROPIC, "POST", 200, True, False, "sybil", "batch", "claude-3-haiku", None, 80, 40, 0.0002),
    ("req-047", "2026-03-05T05:00:00Z", "2026-03-05T05:00:05Z", "10.0.0.7", CHAT, "POST", 200, False, False, "trent", "web", "gpt-4o", "chatcmpl-047", 1, 1, 0.00001),
    ("req-048", "2026-03-06T06:00:00Z", "2026-03-06T06:00:00.006Z", "10.0.0.8", CHAT, "POST", 302, False, False, "trent", "web", "gpt-4o", "chatcmpl-048", 1, 1, 0.00001),
    ("req-049", "2026-03-07T07:00:00Z", "2026-03-07T07:00:07Z", "203.0.113.7", CHAT, "POST", 200, False, True, "victor", "partner_api", "gpt-4o", "chatcmpl-049", 700, 70, 0.0077),
    ("req-050", "2026-03-08T08:00:00Z", "2026-03-08T08:00:08Z", "203.0.113.8", CHAT, "POST", 200, True, True, "victor", "partner%api", "gpt-4o-mini", "chatcmpl-050", 800, 80, 0.00088),
    ("req-051", "2026-03-09T09:00:00Z", "2026-03-09T09:00:09Z", "198.51.100.1", COMPLETIONS, "POST", 400, False, False, "walter", "web", "davinci-002", "cmpl-051", 900, 0, 0.0018),
    ("req-052", "2026-03-10T08:30:00Z", "2026-03-10T08:30:00.001Z", "198.51.100.2", CHAT, "POST", 200, False, False, "walter", "web", "gpt-4o", "chatcmpl-052", 10, 10, 0.0001),
    ("req-053", "2026-03-11T11:00:00Z", None, "2001:db8::a", CHAT, "OPTIONS", None, False, False, None, "web", None, None, None, None, None),
    ("req-054", "2026-03-12T12:00:00Z", "2026-03-12T12:00:12Z", "2606:4700::1111", CHAT, "POST", 200, False, True, "yolanda", "mobile", "gpt-4o", "chatcmpl-054", 1234, 567, 0.0123),
    ("req-055", "2026-03-13T13:00:00Z", "2026-03-13T13:00:13Z", "ffff::1", CHAT, "POST", 200, False, False, "yolanda", "mobile", "gpt-4o", "chatcmpl-055", 2147483647, 2147483647, 1000.0),
    ("req-056", "2026-03-14T14:00:00Z", "2026-03-14T14:00:14Z", "1.2.3.4", CHAT, "POST", 200, True, False, "zed", "web", "gpt-4o", "chatcmpl-056", 3, 3, 0.000003),
    ("req-057", "2026-03-31T23:59:59.999Z", "2026-04-01T00:00:00Z", "10.0.0.9", CHAT, "POST", 200, False, False, "zed", "web", "gpt-4o", "chatcmpl-057", 31, 31, 0.031),
    ("req-058", "2026-04-01T00:00:00Z", "2026-04-01T00:00:58Z", "10.0.0.10", CHAT, "POST", 201, False, True, "Zed", "WEB", "gpt-4o", "chatcmpl-058", 58, 58, 0.058),
    ("req-059", "2024-02-29T12:00:00Z", "2024-02-29T12:00:59Z", "100.64.0.1", COMPLETIONS, "POST", 200, False, False, "old", "legacy", "text-davinci-003", "cmpl-059", 59, 59, 0.02),
    ("req-060", "2026-12-31T23:59:59.999Z", "2027-01-01T00:00:00Z", "10.0.0.10", CHAT, "POST", 200, True, False, "alice", "web", "gpt-4o", "chatcmpl-060", 60, 60, 0.06),
    ("req-061", "2026-01-03T00:00:00Z", None, "10.0.0.11", "", "", 200, False, False, "alice", "", "gpt-4o", "", 61, 61, 0.061),
    ("req-062 ", "2026-01-04T04:04:04.004Z", "2026-01-04T04:04:04.004Z", "::ffff:0.0.0.1", CHAT, "POST", 200, False, True, "o'neil", "team*ops?", "gpt-4o", "chatcmpl-062", 62, 62, 0.062),
]
# fmt: on
DOCUMENTS = [
    RequestDocument.from_raw(RawRequest.model_validate(dict(zip(ROW_FIELDS, row, strict=True))), TENANT) for row in ROWS
]
ALL_IDS = frozenset(str(document.id) for document in DOCUMENTS)

# The non-text fields, by kind; the SQL column types are chosen so PostgreSQL compares as the index does.
SQL_TYPES: dict[Kind, str] = {
    # OpenSearch keywords compare whole strings case-sensitively and order them by code point: the "C" collation
    # orders UTF-8 by bytes, which is code point order (a linguistic collation would put "a" beside "A").
    Kind.KEYWORD: 'text COLLATE "C"',
    Kind.INTEGER: "integer",
    Kind.NUMBER: "double precision",  # the mapping's `double`
    Kind.DATE: "timestamptz",  # instants; the session time zone is UTC (see `run_sql`)
    Kind.BOOLEAN: "boolean",
    Kind.IP: "inet",
}
COLUMNS: dict[str, Kind] = {row.name: row.kind for row in TABLE if row.filterable and row.kind in SQL_TYPES}
NUMERIC_KINDS = (Kind.INTEGER, Kind.NUMBER)

# formatQuery's options. `parseNumbers: true` renders every numeric-looking value bare, so `model = "42"` on a
# keyword field becomes `"model" = 42`, which PostgreSQL rejects (text = integer); the "-limited" variant parses
# values only for fields whose inputType is "number", as an app that declares its fields gets. Numbers then render
# bare on numeric fields, and numeric `between` bounds are put in order (which the service does too).
FORMAT_OPTIONS: dict[str, Any] = {
    "preset": "postgresql",  # double-quoted identifiers: the columns are camelCase ("createdAt")
    "parseNumbers": "strict-limited",
    "fields": [
        {"name": name, "label": name, "inputType": "number"} for name, kind in COLUMNS.items() if kind in NUMERIC_KINDS
    ],
}

# ---------------------------------------------------------------------------------------------------------------
# Reading rule groups the way react-querybuilder does.

PLACEHOLDER = "~"
NEGATED = frozenset({"!=", "notin", "notbetween", "doesnotcontain", "doesnotbeginwith", "doesnotendwith"})
PRESENCE = frozenset({"null", "notnull"})
LIKE = frozenset({"contains", "beginswith", "endswith", "doesnotcontain", "doesnotbeginwith", "doesnotendwith"})
LISTS = frozenset({"in", "notin"})
RANGES = frozenset({"between", "notbetween"})
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")


def is_group(node: Node) -> bool:
    return isinstance(node.get("rules"), list)  # react-querybuilder's isRuleGroup


def op_of(rule: Node) -> str:
    return str(rule["operator"]).lower()  # both sides read operators case-insensitively


def listed(value: Any, keep_empty: bool = False) -> list[Any]:
    """react-querybuilder's toArray: array items trimmed; a string split on unescaped commas, trimmed, blanks
    dropped (kept for between); a number as itself; anything else (null, a boolean) as no values."""
    if isinstance(value, list):
        return [item.strip() if isinstance(item, str) else item for item in value]
    if isinstance(value, str):
        parts = [part.replace("\\,", ",").strip() for part in _UNESCAPED_COMMA.split(value)]
        return parts if keep_empty else [part for part in parts if part]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [value]
    return []


def left_out(rule: Node) -> bool:
    """Whether formatQuery leaves the rule out: muted, a placeholder field or operator, `in` with no values,
    `between` without two non-empty ones. (The service's README promises the same; the comparison checks it.)"""
    if rule.get("muted") or PLACEHOLDER in (rule["field"], rule["operator"]):
        return True
    if op_of(rule) in LISTS:
        return not listed(rule.get("value"))
    if op_of(rule) in RANGES:
        bounds = listed(rule.get("value"), keep_empty=True)[:2]
        return len(bounds) < 2 or "" in bounds
    return False


def bounds_of(rule: Node) -> list[Any]:
    return listed(rule.get("value"))[:2]


# ---------------------------------------------------------------------------------------------------------------
# The documented differences, each translating a rule group into one whose SQL means what the service does.

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def missing_values_match_negations(node: Node) -> Node:
    """README: "`!=`, `notIn`, the `doesNot…` operators and `not` groups also match requests that have no value for
    the field (unlike SQL, where `NULL != x` is unknown)". Every comparison is made two-valued: a positive one is
    false on NULL (`f IS NOT NULL AND …`), a negated one true (`f IS NULL OR …`). SQL's NOT over two-valued terms
    then matches what the service's `not` groups (`must_not`) match."""
    if is_group(node):
        return {**node, "rules": [missing_values_match_negations(child) for child in node["rules"]]}
    if op_of(node) in PRESENCE:
        return node
    field = node["field"]
    if op_of(node) in NEGATED:
        return {"combinator": "or", "rules": [{"field": field, "operator": "null"}, node]}
    return {"combinator": "and", "rules": [{"field": field, "operator": "notNull"}, node]}


def dates_mean_whole_utc_days(rule: Node) -> Node:
    """README: "a date without a time means the whole UTC day (`= 2026-01-31`, `between 2026-01-01 and
    2026-01-31`)". A bare date becomes its first and last millisecond (OpenSearch dates are milliseconds; the
    service rounds with `||/d`). SQL would read it as midnight. (README: "a date-time without an offset is UTC" is
    the session's `TimeZone=UTC`.)"""
    op = op_of(rule)

    def first(text: Any) -> Any:
        return f"{text}T00:00:00.000Z" if DAY.match(str(text)) else text

    def last(text: Any) -> Any:
        return f"{text}T23:59:59.999Z" if DAY.match(str(text)) else text

    def same_day(text: Any) -> Node:
        if DAY.match(str(text)):
            return {**rule, "operator": "between", "value": [first(text), last(text)]}
        return {**rule, "operator": "=", "value": text}

    if op in RANGES:
        low, high = bounds_of(rule)
        return {**rule, "value": [first(low), last(high)]}
    if op in LISTS:
        values = listed(rule["value"])
        if not any(DAY.match(str(value)) for value in values):
            return rule
        return {"combinator": "or", "not": op == "notin", "rules": [same_day(value) for value in values]}
    value = rule.get("value")
    if not DAY.match(str(value)):
        return rule
    if op == "=":
        return same_day(value)
    if op == "!=":
        return {**same_day(value), "operator": "notBetween"}
    if op in ("<", ">="):
        return {**rule, "value": first(value)}
    if op in (">", "<="):
        return {**rule, "value": last(value)}
    return rule


def as_mapped_ipv6(text: str) -> str:
    """README: "IPv4 compares as IPv4-mapped IPv6 (`::ffff:a.b.c.d`), so ranges run through both". The table's
    addresses are read through the view `requests_as_indexed`, which maps them the same way."""
    text = text.strip()
    if "/" in text:
        network = ip_network(text, strict=False)
        if network.version == 4:
            return f"::ffff:{network.network_address}/{network.prefixlen + 96}"
        return str(network)
    address = ip_address(text)
    return f"::ffff:{address}" if address.version == 4 else str(address)


def ipv4_as_mapped_ipv6(rule: Node) -> Node:
    if op_of(rule) in PRESENCE:
        return rule
    if op_of(rule) in LISTS:
        return {**rule, "value": [as_mapped_ipv6(str(value)) for value in listed(rule["value"])]}
    if op_of(rule) in RANGES:
        return {**rule, "value": [as_mapped_ipv6(str(value)) for value in bounds_of(rule)]}
    return {**rule, "value": as_mapped_ipv6(str(rule["value"]))}


def cidr_blocks_mean_inside(rule: Node) -> Node:
    """README: "`a.b.c.d/n` (or an IPv6 block) with `=`, `!=`, `in`, `notIn` means "inside the network"". SQL's
    `=` compares the block itself; PostgreSQL's "is contained by or equals" is `<<=` (rendered by formatQuery like
    any operator it does not know: `"ip" <<= '…'`)."""
    op = op_of(rule)
    if op not in ("=", "!=", "in", "notin"):
        return rule
    values = listed(rule["value"]) if op in LISTS else [rule["value"]]
    if not any("/" in str(value) for value in values):
        return rule

    def inside(value: Any) -> Node:
        return {**rule, "operator": "<<=" if "/" in str(value) else "=", "value": value}

    return {"combinator": "or", "not": op in ("!=", "notin"), "rules": [inside(value) for value in values]}


def like_values_are_literal(rule: Node) -> Node:
    """README: "`contains`, `beginsWith` and `endsWith` are substring, prefix and suffix matches". formatQuery puts
    the value into a LIKE pattern as it is, so its `%` and `_` would be wildcards and `\\` PostgreSQL's escape
    character; escaped, the pattern means the literal string. (Case: LIKE is case-sensitive, as the service is:
    no translation, and the `like_case` cases check it.)"""
    if op_of(rule) not in LIKE:
        return rule
    text = str(rule["value"])
    return {**rule, "value": text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")}


def muted_lone_groups_are_left_out(group: Node) -> Node:
    """README: "`muted` leaves a rule or group out" and "A group with no rules (left) imposes nothing, with or
    without `not`". formatQuery renders a muted group that is its parent's only rule as `(1 = 1)` instead of
    leaving it out, so a `not` parent becomes `NOT ((1 = 1))`, matching nothing. Removed, the parent has no rules
    left and formatQuery renders it as `(1 = 1)` too, without the NOT."""
    rules = group["rules"]
    if len(rules) == 1 and is_group(rules[0]) and rules[0].get("muted"):
        return {**group, "rules": []}
    return group


def service_semantics(group: Node, skip: str | None = None) -> Node:
    """The group translated by every documented difference (but the one named `skip`, to show what it changes);
    what formatQuery leaves out stays as it is."""

    def use(difference: Callable[[Node], Node], node: Node) -> Node:
        return node if difference.__name__ == skip else difference(node)

    group = use(muted_lone_groups_are_left_out, group)
    rules: list[Node] = []
    for child in group["rules"]:
        if is_group(child):
            rules.append(service_semantics(child, skip))
            continue
        if left_out(child):
            rules.append(child)
            continue
        kind = COLUMNS[child["field"]]
        if kind is Kind.DATE:
            child = use(dates_mean_whole_utc_days, child)
        elif kind is Kind.IP:
            child = use(cidr_blocks_mean_inside, use(ipv4_as_mapped_ipv6, child))
        elif kind is Kind.KEYWORD:
            child = use(like_values_are_literal, child)
        rules.append(use(missing_values_match_negations, child))
    return {**group, "rules": rules}


DIFFERENCES: tuple[Callable[[Node], Node], ...] = (
    missing_values_match_negations,
    dates_mean_whole_utc_days,
    ipv4_as_mapped_ipv6,
    cidr_blocks_mean_inside,
    like_values_are_literal,
    muted_lone_groups_are_left_out,
)

# ---------------------------------------------------------------------------------------------------------------
# When the service must answer 400 (README: "reversed dates or strings are a 400"); such groups are not compared.


def _instant(text: str, end_of_day: bool) -> datetime:
    if DAY.match(text):
        return datetime.combine(date.fromisoformat(text), time.max if end_of_day else time.min, UTC)
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _ip_rank(text: str) -> int:
    address = ip_address(text.strip())
    return int(address) + 0xFFFF_0000_0000 if isinstance(address, IPv4Address) else int(address)


def reversed_bounds(rule: Node) -> bool:
    if op_of(rule) not in RANGES or left_out(rule):
        return False
    kind = COLUMNS[rule["field"]]
    low, high = (str(bound) for bound in bounds_of(rule))
    if kind is Kind.KEYWORD:
        return low > high
    if kind is Kind.DATE:
        return _instant(low, end_of_day=False) > _instant(high, end_of_day=True)
    if kind is Kind.IP:
        return _ip_rank(low) > _ip_rank(high)
    return False  # numbers are put in order, by formatQuery and by the service


def live_rules(group: Node) -> Iterator[Node]:
    """The rules both sides apply: not muted, not under a muted group, not left out."""
    if group.get("muted"):
        return
    for child in group["rules"]:
        if is_group(child):
            yield from live_rules(child)
        elif not left_out(child):
            yield child


def expects_400(group: Node) -> bool:
    return any(reversed_bounds(rule) for rule in live_rules(group))


# ---------------------------------------------------------------------------------------------------------------
# The cases: hand-picked first, then seeded random ones.


def rule(field: str, operator: str, value: Any = None, **extra: Any) -> Node:
    node: Node = {"field": field, "operator": operator, **extra}
    if value is not None:
        node["value"] = value
    return node


def group(*rules: Node, combinator: str = "and", negated: bool = False, **extra: Any) -> Node:
    node: Node = {"combinator": combinator, "rules": list(rules), **extra}
    if negated:
        node["not"] = True
    return node


@dataclass(frozen=True)
class Case:
    name: str
    group: Node
    shows: str | None = None
    """The documented difference (a function above) this hand-picked case shows changing a result."""
    mismatch: str | None = None
    """A mismatch no README sentence explains: the case is xfail(strict=True) until the service or README changes."""


MISSING = missing_values_match_negations.__name__
DAYS = dates_mean_whole_utc_days.__name__
MAPPED = ipv4_as_mapped_ipv6.__name__
CIDR = cidr_blocks_mean_inside.__name__
LITERAL = like_values_are_literal.__name__
MUTED = muted_lone_groups_are_left_out.__name__

HAND_PICKED: list[Case] = [
    # Missing values: negations include requests without the field.
    Case("ne_includes_missing", group(rule("status", "!=", 200)), shows=MISSING),
    Case("notIn_includes_missing", group(rule("model", "notIn", ["gpt-4o", "gpt-4o-mini"])), shows=MISSING),
    Case("doesNotContain_includes_missing", group(rule("user_id", "doesNotContain", "a")), shows=MISSING),
    Case("doesNotBeginWith_includes_missing", group(rule("app_id", "doesNotBeginWith", "web")), shows=MISSING),
    Case("doesNotEndWith_includes_missing", group(rule("openai_id", "doesNotEndWith", "1")), shows=MISSING),
    Case("notBetween_includes_missing", group(rule("cost", "notBetween", [0.01, 0.5])), shows=MISSING),
    Case("not_group_includes_missing", group(rule("prompt_tokens", ">", 10), negated=True), shows=MISSING),
    Case(
        "nested_not_or_includes_missing",
        group(
            group(rule("status", ">=", 500), rule("cost", "<", 0.02), combinator="or", negated=True),
            rule("cached", "=", False),
        ),
        shows=MISSING,
    ),
    Case("notNull_beside_negation", group(rule("status", "!=", "200"), rule("status", "notNull"))),
    # Dates: a bare date is the whole UTC day; a date-time without an offset is UTC.
    Case("date_eq_whole_day", group(rule("createdAt", "=", "2026-01-01")), shows=DAYS),
    Case("date_ne_whole_day", group(rule("createdAt", "!=", "2026-01-01")), shows=DAYS),
    Case("date_gt_after_the_day", group(rule("createdAt", ">", "2026-01-01")), shows=DAYS),
    Case("date_lte_through_the_day", group(rule("updatedAt", "<=", "2026-01-01")), shows=DAYS),
    Case("date_lt_before_the_day", group(rule("createdAt", "<", "2026-01-01"))),
    Case("date_gte_from_the_day", group(rule("createdAt", ">=", "2026-03-01"))),
    Case("date_in_whole_days", group(rule("createdAt", "in", "2026-01-01, 2026-03-01")), shows=DAYS),
    Case("date_notIn_whole_days", group(rule("createdAt", "notIn", ["2026-01-01", "2026-02-14"])), shows=DAYS),
    Case(
        "date_in_mixed_day_and_instant",
        group(rule("createdAt", "in", ["2026-01-01", "2026-03-10T08:30:00Z"])),
        shows=DAYS,
    ),
    Case("date_between_whole_days", group(rule("createdAt", "between", "2026-01-01,2026-01-31")), shows=DAYS),
    Case("date_between_one_day", group(rule("createdAt", "between", ["2026-03-01", "2026-03-01"])), shows=DAYS),
    Case(
        "date_notBetween_whole_days", group(rule("updatedAt", "notBetween", ["2026-01-02", "2026-03-01"])), shows=DAYS
    ),
    Case("datetime_without_offset_is_utc", group(rule("createdAt", "=", "2026-01-01T12:00:00"))),
    Case("datetime_with_offset", group(rule("createdAt", "=", "2026-01-15T12:00:00+02:00"))),
    Case("datetime_milliseconds", group(rule("createdAt", ">=", "2026-01-01T23:59:59.999Z"))),
    # IP addresses: IPv4 as IPv4-mapped IPv6; CIDR blocks mean "inside".
    Case("ipv4_sorts_inside_ipv6", group(rule("ip", ">", "::1")), shows=MAPPED),
    Case("ip_between_across_versions", group(rule("ip", "between", ["::1", "10.0.0.255"])), shows=MAPPED),
    Case("ipv4_mapped_literal", group(rule("ip", "=", "::ffff:10.0.0.1")), shows=MAPPED),
    Case("ipv4_equals", group(rule("ip", "in", "10.0.0.1, 192.168.1.10")), shows=MAPPED),
    Case("cidr_equals", group(rule("ip", "=", "10.0.0.0/24")), shows=CIDR),
    Case("cidr_not_equals", group(rule("ip", "!=", "10.0.0.0/8")), shows=CIDR),
    Case("cidr_in_mixed", group(rule("ip", "in", ["10.0.0.0/24", "::1", "2001:db8::/32"])), shows=CIDR),
    Case("cidr_notIn", group(rule("ip", "notIn", "192.168.0.0/16, fe80::/10")), shows=CIDR),
    Case("cidr_mapped_block", group(rule("ip", "=", "::ffff:10.0.0.0/104")), shows=CIDR),
    Case("cidr_ipv6_block_covers_ipv4", group(rule("ip", "=", "::/64")), shows=CIDR),
    Case("cidr_host_bits_set", group(rule("ip", "=", "10.0.0.7/24")), shows=CIDR),
    Case("cidr_everything_ipv4", group(rule("ip", "=", "0.0.0.0/0")), shows=CIDR),
    # LIKE: `%`, `_` and `\` are literal; matching is case-sensitive on both sides.
    Case("like_underscore_is_literal", group(rule("model", "contains", "_")), shows=LITERAL),
    Case("like_percent_is_literal", group(rule("app_id", "beginsWith", "partner%")), shows=LITERAL),
    Case("like_backslash_is_literal", group(rule("model", "contains", "\\")), shows=LITERAL),
    Case("like_negated_literal", group(rule("id", "doesNotContain", "_")), shows=LITERAL),
    Case("like_endsWith_percent", group(rule("openai_id", "endsWith", "%")), shows=LITERAL),
    Case(
        "like_opensearch_wildcards",
        group(rule("app_id", "contains", "*o"), rule("url", "endsWith", "?"), combinator="or"),
    ),
    Case("like_case_contains", group(rule("model", "contains", "GPT"))),
    Case("like_case_endsWith", group(rule("model", "endsWith", "O"))),
    Case("like_case_beginsWith", group(rule("user_id", "beginsWith", "a"))),
    # react-querybuilder's flags and mid-edit rules.
    Case("muted_lone_group_under_not", group(group(rule("status", "=", 200), muted=True), negated=True), shows=MUTED),
    Case("muted_lone_group", group(group(rule("status", "=", 200), muted=True))),
    Case("muted_group_with_sibling", group(group(rule("status", "=", 200), muted=True), rule("cached", "=", True))),
    Case("muted_root", group(rule("status", "=", 200), muted=True)),
    Case("muted_rule", group(rule("model", "=", "gpt-4o"), rule("status", "=", 1, muted=True))),
    Case("muted_lone_rule_under_not", group(rule("status", "=", 200, muted=True), negated=True)),
    Case("disabled_rule_applies", group(rule("model", "=", "gpt-4o"), rule("status", "=", 200, disabled=True))),
    Case("disabled_group_applies", group(group(rule("cached", "=", True), disabled=True), negated=True)),
    Case("placeholder_field", group(rule("~", "=", ""), rule("status", "=", 404))),
    Case("placeholder_operator", group(rule("model", "~", "gpt-4o"), rule("status", "=", 404))),
    Case("in_empty_string", group(rule("model", "in", ""), rule("cached", "=", True))),
    Case("in_empty_array", group(rule("status", "notIn", []), rule("cached", "=", True))),
    Case("in_blank_list", group(rule("user_id", "in", " , "), rule("cached", "=", True))),
    Case("between_one_value", group(rule("status", "between", "500"), rule("cached", "=", True))),
    Case("between_trailing_comma", group(rule("cost", "notBetween", "0.5,"), rule("cached", "=", True))),
    Case("between_one_item", group(rule("createdAt", "between", ["2026-01-01"]), rule("cached", "=", True))),
    Case("not_group_of_mid_edit_rules", group(rule("~", "=", "x"), rule("status", "in", ""), negated=True)),
    Case("empty_group", group()),
    Case("not_empty_group", group(negated=True)),
    Case("not_group_holding_empty_group", group(group(), negated=True)),
    Case("not_group_holding_mid_edit_group", group(group(rule("~", "=", "x")), negated=True)),
    Case("or_with_empty_group", group(group(), rule("status", "=", 404), combinator="or")),
    Case("and_with_not_empty_group", group(group(negated=True), rule("status", "=", 404))),
    Case("null_ignores_value", group(rule("status", "null", "5"))),
    Case("notNull_every_field", group(*(rule(name, "notNull") for name in COLUMNS))),
    Case("null_any_field", group(*(rule(name, "null") for name in COLUMNS), combinator="or")),
    # Values as react-querybuilder sends them.
    Case("numeric_strings_with_spaces", group(rule("status", "in", " 200 , 404 "))),
    Case("number_forms", group(rule("cost", "in", ["5.", ".5", "1e-2", "+0.02", 2.5]))),
    Case("number_tiny_and_inexact", group(rule("cost", "in", [1e-09, "0.30000000000000004", 2.56e-05]))),
    Case("integer_as_float", group(rule("status", "=", 200.0), rule("prompt_tokens", "<=", "2147483647"))),
    Case("between_numbers_reversed", group(rule("status", "between", [500, "200"]))),
    Case("notBetween_numbers_reversed", group(rule("cost", "notBetween", "0.5, 0.01"))),
    Case("between_three_values", group(rule("prompt_tokens", "between", "10, 100, 1"))),
    Case("keyword_numeric_looking", group(rule("model", "in", ["42", "1e3"]), rule("model", "!=", 42))),
    Case("keyword_number_value", group(rule("model", "=", 42))),
    Case("booleans_as_strings", group(rule("cached", "in", ["TRUE", "false"]), rule("streamed", "=", "False"))),
    Case("boolean_not_equals", group(rule("cached", "!=", True), rule("streamed", "notIn", "true"))),
    Case("escaped_comma_in_list", group(rule("user_id", "in", "bob\\,jr, alice"))),
    Case("comma_in_array_item", group(rule("id", "in", ["a,b-006", "req-001"]))),
    Case(
        "quotes_in_values", group(rule("id", "=", "o'brien-005"), rule("model", "beginsWith", "it's"), combinator="or")
    ),
    Case("backslash_equals", group(rule("id", "=", "back\\slash-007"), rule("model", "=", "gpt\\4"), combinator="or")),
    Case("trailing_space_equals", group(rule("id", "=", "req-062 "), rule("user_id", "=", "carol "), combinator="or")),
    Case("empty_string_keyword", group(rule("user_id", "=", ""), rule("app_id", "=", ""), combinator="or")),
    Case("empty_string_contains", group(rule("openai_id", "contains", ""))),
    Case("keyword_order_code_points", group(rule("model", "<", "gpt"), rule("user_id", ">=", "Z"))),
    Case("keyword_between_unicode", group(rule("user_id", "between", ["zed", "東京"]))),
    Case("operator_case", group(rule("model", "BEGINSWITH", "gpt"), rule("status", "notin", "200"))),
    Case("combinator_case", group(rule("status", "=", 404), rule("cached", "=", True), combinator="OR")),
    Case("ids_and_value_source", group(rule("status", "=", 200, id="r-1", valueSource="value"), id="g-1")),
    Case("duration_null_and_zero", group(rule("duration_ms", "null"), rule("duration_ms", "=", 0), combinator="or")),
    Case("int_max", group(rule("prompt_tokens", ">=", 2147483647), rule("completion_tokens", "=", "2147483647"))),
    # The service answers 400 (README: "reversed dates or strings are a 400"); checked, not compared.
    Case("reversed_date_between", group(rule("createdAt", "between", ["2026-02-01", "2026-01-01"]))),
    Case("reversed_keyword_between", group(rule("model", "between", "b,a"))),
    Case("reversed_ip_between", group(rule("ip", "notBetween", ["10.0.0.2", "10.0.0.1"]))),
    Case("reversed_but_muted", group(rule("model", "between", "b,a", muted=True), rule("cached", "=", True))),
    # Once mismatches (found by this test), now fixed in service/filters/render.py: they stay as regression cases.
    Case("in_array_items_are_trimmed", group(rule("user_id", "in", [" alice "]))),
    Case("between_array_items_are_trimmed", group(rule("model", "between", [" gpt-4o", "gpt-4o "]))),
    Case("between_array_with_empty_bound", group(rule("status", "between", ["200", ""]))),
    Case("between_array_both_empty", group(rule("cost", "notBetween", ["", ""]))),
    Case("keyword_between_empty_bound", group(rule("user_id", "between", ["", "b"]))),
    Case(
        "in_null_value",
        group({"field": "status", "operator": "in", "value": None}, rule("cached", "=", True)),
    ),
    Case("between_without_value", group(rule("status", "between"), rule("cached", "=", True))),
    Case("in_boolean_scalar", group(rule("cached", "in", True))),
]


# Operators per kind of field (README: "Operators: ..."; text-only and metadata fields are not compared here).
ORDERED_OPERATORS = ["=", "!=", "<", ">", "<=", ">=", "null", "notNull", "in", "notIn", "between", "notBetween"]
OPERATORS_BY_KIND: dict[Kind, list[str]] = {
    Kind.KEYWORD: [
        *ORDERED_OPERATORS,
        "contains",
        "beginsWith",
        "endsWith",
        "doesNotContain",
        "doesNotBeginWith",
        "doesNotEndWith",
    ],
    Kind.INTEGER: ORDERED_OPERATORS,
    Kind.NUMBER: ORDERED_OPERATORS,
    Kind.DATE: ORDERED_OPERATORS,
    Kind.IP: ORDERED_OPERATORS,
    Kind.BOOLEAN: ["=", "!=", "null", "notNull", "in", "notIn"],
}


def _data_values(name: str) -> list[Any]:
    values = {getattr(document, name) for document in DOCUMENTS} - {None}
    return sorted(values, key=repr)


DATA: dict[str, list[Any]] = {name: _data_values(name) for name in COLUMNS}
KEYWORD_EXTRAS = ["", "a", "gpt", "GPT", "gpt-4o ", "%", "_", "*", "?", "'", ",", "\\", "req-0", "東", "42"]
INTEGER_EXTRAS = [0, 1, -1, 199, 201, 499, 1000, 2147483647, -2147483648]
NUMBER_EXTRAS = [0, 0.005, 0.3, 1, 100, 1e-9, 0.0015]
DATE_EXTRAS = [
    "2026-01-01",
    "2025-12-31",
    "2026-02-01",
    "2026-03-01",
    "2026-01-01T12:00:00",
    "2026-01-02T01:00:00+01:00",
    "2020-01-01",
    "2030-01-01T00:00:00Z",
]
IP_EXTRAS = ["10.0.0.0", "10.0.0.200", "::2", "2001:db8::", "ffff::", "0.0.0.1", "fe80::1", "::ffff:10.0.0.5"]
CIDRS = [
    "10.0.0.0/8",
    "10.0.0.0/24",
    "10.0.0.1/32",
    "10.0.0.7/24",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "0.0.0.0/0",
    "2001:db8::/32",
    "fe80::/10",
    "::ffff:10.0.0.0/104",
    "::/0",
    "::/64",
    "::1/128",
]
BOOLEANS: list[Any] = [True, False, "true", "false", "TRUE", "False"]


def _instant_text(chooser: random.Random, moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    if chooser.random() < 0.15:
        moment += timedelta(milliseconds=chooser.choice([-1, 1]))  # just beside a stored value
    form = chooser.choice(["z", "day", "offset", "naive"])
    if form == "day":
        return moment.date().isoformat()
    if form == "offset":
        return moment.astimezone(timezone(timedelta(hours=2))).isoformat(timespec="milliseconds")
    if form == "naive":
        return moment.replace(tzinfo=None).isoformat(timespec="milliseconds")
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ip_text(chooser: random.Random, address: str) -> str:
    parsed = ip_address(address)
    if isinstance(parsed, IPv4Address) and chooser.random() < 0.25:
        return f"::ffff:{parsed}"
    if isinstance(parsed, IPv6Address) and parsed.ipv4_mapped is not None and chooser.random() < 0.5:
        return str(parsed.ipv4_mapped)
    return address


def _slice(chooser: random.Random, text: str, operator: str) -> str:
    if not text:
        return text
    size = chooser.randint(1, len(text))
    if "Begin" in operator:
        return text[:size]
    if "End" in operator:
        return text[-size:]
    start = chooser.randrange(len(text))
    return text[start : start + size]


def random_value(chooser: random.Random, field: str, operator: str, in_list: bool = False) -> Any:
    """One valid value for the field and operator, usually one the dataset holds (or near it)."""
    kind = COLUMNS[field]
    data = DATA[field]
    if kind is Kind.KEYWORD:
        pool = data if chooser.random() < 0.7 else KEYWORD_EXTRAS
        if in_list:
            # A backslash reads differently once items are joined into one comma-separated string; an empty
            # range bound leaves the rule out (hand-picked cases cover it), which would starve the coverage check.
            pool = [value for value in pool if "\\" not in value]
            if operator.lower() in RANGES:
                pool = [value for value in pool if value.strip()] or ["a"]
        value = chooser.choice(pool)
        if operator.lower() in LIKE and chooser.random() < 0.8:
            value = _slice(chooser, value, operator)
        elif operator in ("<", ">", "<=", ">=") and chooser.random() < 0.3:
            value = _slice(chooser, value, "beginsWith")
        return value
    if kind in NUMERIC_KINDS:
        extras = INTEGER_EXTRAS if kind is Kind.INTEGER else NUMBER_EXTRAS
        number = chooser.choice(data if chooser.random() < 0.7 else extras)
        if kind is Kind.INTEGER and chooser.random() < 0.2:
            number = max(-(2**31), min(2**31 - 1, number + chooser.choice([-1, 1])))
        form = chooser.random()
        if form < 0.45:
            return number
        return f" {number!r} " if form < 0.55 else repr(number)
    if kind is Kind.DATE:
        if chooser.random() < 0.2:
            return chooser.choice(DATE_EXTRAS)
        return _instant_text(chooser, chooser.choice(data))
    if kind is Kind.BOOLEAN:
        return chooser.choice(BOOLEANS)
    # IP: a block only where it means "inside" (=, !=, in, notIn); elsewhere one address.
    if operator in ("=", "!=", "in", "notIn") and chooser.random() < 0.3:
        return chooser.choice(CIDRS)
    return _ip_text(chooser, chooser.choice(data + IP_EXTRAS))


def _order_key(field: str, value: Any) -> Any:
    kind = COLUMNS[field]
    if kind is Kind.DATE:
        return _instant(str(value), end_of_day=False)
    if kind is Kind.IP:
        return _ip_rank(str(value))
    if kind in NUMERIC_KINDS:
        return float(value)
    return str(value)


def _as_list_value(chooser: random.Random, values: list[Any]) -> Any:
    """An array, or react-querybuilder's comma-separated string (commas inside a value escaped as `\\,`)."""
    if chooser.random() < 0.5 or any(isinstance(value, str) and "\\" in value for value in values):
        return values
    return ", ".join(str(value).replace(",", "\\,") for value in values)


class RandomRules:
    """Rules over every (field, operator) pair first, in shuffled order, then freely chosen ones."""

    def __init__(self, chooser: random.Random) -> None:
        self.chooser = chooser
        self.pending = [(name, op) for name, kind in COLUMNS.items() for op in OPERATORS_BY_KIND[kind]]
        chooser.shuffle(self.pending)

    def rule(self) -> Node:
        chooser = self.chooser
        # The first pass over the pairs stays live (not muted, not mid-edit), so each pair is really compared.
        covering = bool(self.pending)
        if covering:
            field, operator = self.pending.pop()
        else:
            field = chooser.choice(list(COLUMNS))
            operator = chooser.choice(OPERATORS_BY_KIND[COLUMNS[field]])
        roll = 1.0 if covering else chooser.random()
        if roll < 0.02:
            return rule(PLACEHOLDER, "=", "")
        if roll < 0.04:
            return rule(field, PLACEHOLDER, "")
        value: Any = None
        if operator in ("in", "notIn"):
            if roll < 0.12:
                value = chooser.choice(["", [], " , "])  # mid-edit: no values yet
            else:
                count = chooser.choice([1, 1, 2, 3, 4])
                value = _as_list_value(
                    chooser, [random_value(chooser, field, operator, in_list=True) for _ in range(count)]
                )
        elif operator in ("between", "notBetween"):
            low = random_value(chooser, field, operator, in_list=True)
            if roll < 0.12:
                one = str(low).replace(",", "\\,")
                value = chooser.choice([one, f"{one},", [low]])  # mid-edit: one value so far
            else:
                high = random_value(chooser, field, operator, in_list=True)
                if COLUMNS[field] not in NUMERIC_KINDS and _order_key(field, low) > _order_key(field, high):
                    low, high = high, low
                if not covering and chooser.random() < 0.1 and _order_key(field, low) != _order_key(field, high):
                    low, high = high, low  # reversed on purpose: a 400 (numbers are put in order instead)
                value = _as_list_value(chooser, [low, high])
        elif operator in ("null", "notNull"):
            value = "" if chooser.random() < 0.7 else random_value(chooser, field, "=")
        else:
            value = random_value(chooser, field, operator)
        node = rule(field, operator, value)
        if not covering and chooser.random() < 0.05:
            node["muted"] = True
        if chooser.random() < 0.05:
            node["disabled"] = True
        if chooser.random() < 0.2:
            node["id"] = f"r-{chooser.randrange(10**6)}"
        if chooser.random() < 0.1:
            node["valueSource"] = "value"
        return node


def random_group(chooser: random.Random, rules: RandomRules, depth: int = 0) -> Node:
    covering = bool(rules.pending)  # a muted group would hide the covering pass's rules
    count = chooser.choice([1, 1, 2, 2, 3, 4]) if depth == 0 or chooser.random() > 0.05 else 0
    children = [
        random_group(chooser, rules, depth + 1) if depth < 3 and chooser.random() < 0.25 else rules.rule()
        for _ in range(count)
    ]
    node = group(*children, combinator=chooser.choice(["and", "or"]), negated=chooser.random() < 0.3)
    if depth > 0 and not covering and chooser.random() < 0.06:
        node["muted"] = True
    if chooser.random() < 0.04:
        node["disabled"] = True
    if chooser.random() < 0.2:
        node["id"] = f"g-{chooser.randrange(10**6)}"
    return node


def random_cases() -> list[Case]:
    chooser = random.Random(SEED)
    rules = RandomRules(chooser)
    return [Case(f"random-{number:03d}", random_group(chooser, rules)) for number in range(RANDOM_GROUPS)]


CASES: list[Case] = [*HAND_PICKED, *random_cases()]
assert len({case.name for case in CASES}) == len(CASES), "case names must be unique"

# ---------------------------------------------------------------------------------------------------------------
# The three sides: formatQuery (once per session), PostgreSQL, and the service.


@dataclass(frozen=True)
class Rendered:
    sql: str
    """formatQuery's SQL for the group as it is."""
    modelled_sql: str
    """formatQuery's SQL for `service_semantics(group)`: what the service's documented semantics mean."""
    unshown_sql: str | None
    """For a case that shows a difference: the same without that one difference."""


@dataclass(frozen=True)
class SqlAnswer:
    ids: frozenset[str] | None
    """What formatQuery's SQL means to PostgreSQL (informative: SQL's semantics, not the service's)."""
    modelled_ids: frozenset[str] | None
    unshown_ids: frozenset[str] | None
    error: str | None = None


@dataclass(frozen=True)
class ServiceAnswer:
    status: int
    ids: frozenset[str]
    body: str


def npm_prefix() -> Path:
    """Outside the repository, so a clone stays clean and the package is fetched once per machine."""
    return default_cache_dir() / "npm" / f"rqb-{RQB_VERSION}"


def _install_react_querybuilder(prefix: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(f"npm is needed to install {RQB_PACKAGE}@{RQB_VERSION} for the differential test (Node.js 18+)")
    # Installed beside the final directory and renamed, so an interrupted install is never taken for a finished one.
    staging = prefix.with_name(f"{prefix.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    command = [npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund", f"{RQB_PACKAGE}@{RQB_VERSION}"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=staging)
    except subprocess.TimeoutExpired:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.fail(f"`{' '.join(command)}` did not finish in 600 s")
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.fail(
            f"`{' '.join(command)}` failed ({done.returncode}); the differential test needs this package:\n"
            f"{done.stdout[-2000:]}{done.stderr[-4000:]}"
        )
    shutil.rmtree(prefix, ignore_errors=True)  # what an earlier, unfinished install may have left
    staging.rename(prefix)


@pytest.fixture(scope="session")
def react_querybuilder() -> Path:
    prefix = npm_prefix()
    if not (prefix / "node_modules" / RQB_PACKAGE).is_dir():
        _install_react_querybuilder(prefix)
    return prefix


@pytest.fixture(scope="session")
def rendered(react_querybuilder: Path) -> dict[str, Rendered]:
    """Every case's SQL, as it is and as the service means it, from one node process for the whole session."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node (Node.js 18+) is needed to run react-querybuilder's formatQuery for the differential test")
    groups: list[Node] = []
    for case in CASES:
        groups += [case.group, service_semantics(case.group)]
        if case.shows:
            groups.append(service_semantics(case.group, skip=case.shows))
    done = subprocess.run(
        [node, str(NODE_SCRIPT), str(react_querybuilder), RQB_VERSION],
        input=json.dumps({"options": FORMAT_OPTIONS, "groups": groups}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"{NODE_SCRIPT.name} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    lines = iter(json.loads(line) for line in done.stdout.splitlines())
    rendered = {case.name: Rendered(next(lines), next(lines), next(lines) if case.shows else None) for case in CASES}
    assert next(lines, None) is None, "more SQL than groups"
    return rendered


def _create_tables(connection: psycopg.Connection[Any]) -> None:
    columns = ", ".join(f'"{name}" {SQL_TYPES[kind]}' for name, kind in COLUMNS.items())
    connection.execute(f"CREATE TABLE requests ({columns})")
    # The service's view of the same rows: IPv4 addresses as IPv4-mapped IPv6 (see `as_mapped_ipv6`).
    others = ", ".join(f'"{name}"' for name in COLUMNS if name != "ip")
    connection.execute(
        f"CREATE VIEW requests_as_indexed AS SELECT {others}, "
        "CASE WHEN family(ip) = 4 THEN ('::ffff:' || host(ip))::inet ELSE ip END AS ip FROM requests"
    )
    names = ", ".join(f'"{name}"' for name in COLUMNS)
    slots = ", ".join("%s::inet" if kind is Kind.IP else "%s" for kind in COLUMNS.values())
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO requests ({names}) VALUES ({slots})",
            [[getattr(document, name) for name in COLUMNS] for document in DOCUMENTS],
        )


def _ids_where(connection: psycopg.Connection[Any], table: str, where: str) -> frozenset[str]:
    # formatQuery's output runs as it is: that is the point of the test (the values are our own, not a client's).
    rows = connection.execute(f"SELECT id FROM {table} WHERE {where}").fetchall()
    return frozenset(row[0] for row in rows)


def run_sql(rendered: dict[str, Rendered]) -> dict[str, SqlAnswer]:
    """Each case's SQL run on a throwaway PostgreSQL holding the same rows as the index."""
    answers: dict[str, SqlAnswer] = {}
    with postgres_server() as dsn, psycopg.connect(dsn, autocommit=True) as connection:
        # README: "a date-time without an offset is UTC" (and a bare date starts at UTC midnight).
        connection.execute("SET TIME ZONE 'UTC'")
        _create_tables(connection)
        for case in CASES:
            sql = rendered[case.name]
            try:
                plain: frozenset[str] | None = _ids_where(connection, "requests", sql.sql)
            except psycopg.Error:
                plain = None  # formatQuery's own SQL may not parse (`like '%\\'`: a trailing escape); only informative
            try:
                modelled = _ids_where(connection, "requests_as_indexed", sql.modelled_sql)
                # Without the IPv4 mapping, the addresses are also read as stored, not through the mapping view.
                table = "requests" if case.shows == MAPPED else "requests_as_indexed"
                unshown = _ids_where(connection, table, sql.unshown_sql) if sql.unshown_sql else None
            except psycopg.Error as error:
                answers[case.name] = SqlAnswer(plain, None, None, f"{type(error).__name__}: {error}")
                continue
            answers[case.name] = SqlAnswer(plain, modelled, unshown)
    return answers


async def ask_service(
    api: Api, client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore
) -> dict[str, ServiceAnswer]:
    """Each case through the real app: `GET /api/v1/requests?filter=<group>&pageSize=1000`."""
    await index_documents(client, index_names, DOCUMENTS)
    key, _ = await keys.create(TENANT)
    limit = asyncio.Semaphore(8)

    async def ask(case: Case) -> tuple[str, ServiceAnswer]:
        params = {"filter": json.dumps(case.group), "pageSize": "1000"}
        async with limit:
            response = await api.get(URL, params=params, headers={"Authorization": key})
            body = await response.text()
        ids = frozenset(item["id"] for item in json.loads(body)["requests"]) if response.status == 200 else frozenset()
        return case.name, ServiceAnswer(response.status, ids, body)

    everything = await ask(Case("everything", group()))
    assert everything[1].ids == ALL_IDS, "the index does not hold exactly the dataset"
    return dict(await asyncio.gather(*(ask(case) for case in CASES)))


@pytest.fixture(scope="module")
def sql_answers(rendered: dict[str, Rendered]) -> dict[str, SqlAnswer]:
    return run_sql(rendered)


@pytest.fixture(scope="module")
async def service_answers(
    api: Api, client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore
) -> dict[str, ServiceAnswer]:
    return await ask_service(api, client, index_names, keys)


def _explain(case: Case, sql: Rendered, answer: SqlAnswer, service: ServiceAnswer) -> str:
    expected = answer.modelled_ids or frozenset()
    return (
        f"\ngroup: {json.dumps(case.group, ensure_ascii=False)}"
        f"\nformatQuery: {sql.sql}"
        f"\nas the service means it: {sql.modelled_sql}"
        f"\nonly the service: {sorted(service.ids - expected)}"
        f"\nonly SQL: {sorted(expected - service.ids)}"
        f"\nservice ({service.status}): {sorted(service.ids) if service.status == 200 else service.body}"
        f"\nSQL: {sorted(expected)}"
    )


def _param(case: Case) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=case.mismatch)] if case.mismatch else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
async def test_service_matches_react_querybuilder(
    case: Case,
    rendered: dict[str, Rendered],
    sql_answers: dict[str, SqlAnswer],
    service_answers: dict[str, ServiceAnswer],
) -> None:
    sql, answer, service = rendered[case.name], sql_answers[case.name], service_answers[case.name]
    if expects_400(case.group):
        assert service.status == 400, _explain(case, sql, answer, service)
        assert "above the high value" in service.body
        return
    assert answer.error is None, f"PostgreSQL refused the SQL: {answer.error}{_explain(case, sql, answer, service)}"
    assert service.status == 200, _explain(case, sql, answer, service)
    assert service.ids == answer.modelled_ids, _explain(case, sql, answer, service)


@pytest.mark.parametrize("difference", DIFFERENCES, ids=[function.__name__ for function in DIFFERENCES])
def test_each_modelled_difference_changes_a_result(
    difference: Callable[[Node], Node], sql_answers: dict[str, SqlAnswer]
) -> None:
    """A translation that changed no answer would be modelling nothing: every hand-picked case that shows one
    answers differently with that one translation switched off (and the service agrees with the full one)."""
    shown = [case.name for case in HAND_PICKED if case.shows == difference.__name__]
    assert shown, f"no hand-picked case shows {difference.__name__}"
    unchanged = [name for name in shown if sql_answers[name].unshown_ids == sql_answers[name].modelled_ids]
    assert unchanged == [], f"{difference.__name__} changes nothing in these cases"


def test_numbers_render_bare_only_on_numeric_fields(rendered: dict[str, Rendered]) -> None:
    """The formatQuery options do what FORMAT_OPTIONS says: numeric fields get numbers (and ordered bounds),
    keyword fields keep numeric-looking values quoted."""
    assert rendered["keyword_numeric_looking"].sql == """("model" in ('42', '1e3') and "model" != '42')"""
    assert rendered["between_numbers_reversed"].sql == '("status" between 200 and 500)'
    assert rendered["numeric_strings_with_spaces"].sql == '("status" in (200, 404))'


def test_the_cases_cover_every_operator_flag_and_shape() -> None:
    random_ones = [case for case in CASES if case.name.startswith("random-")]
    live = [rule for case in random_ones for rule in live_rules(case.group)]
    pairs = {(rule["field"], rule["operator"]) for rule in live}
    every = {(name, op) for name, kind in COLUMNS.items() for op in OPERATORS_BY_KIND[kind]}
    assert every - pairs == set()

    def nodes(node: Node) -> Iterator[Node]:
        yield node
        for child in node.get("rules", []):
            yield from nodes(child)

    every_node = [node for case in random_ones for node in nodes(case.group)]
    groups = [node for node in every_node if is_group(node)]
    rules = [node for node in every_node if not is_group(node)]
    assert any(node.get("not") for node in groups)
    assert any(node.get("muted") for node in groups) and any(node.get("muted") for node in rules)
    assert any(node.get("disabled") for node in rules)
    assert any(node["field"] == PLACEHOLDER for node in rules) and any(
        node["operator"] == PLACEHOLDER for node in rules
    )
    assert any(left_out(node) and op_of(node) in LISTS and not node.get("muted") for node in rules)
    assert any(left_out(node) and op_of(node) in RANGES and not node.get("muted") for node in rules)
    assert any(expects_400(case.group) for case in random_ones)
    assert max(_depth(case.group) for case in random_ones) >= 3


def _depth(node: Node) -> int:
    return 1 + max((_depth(child) for child in node["rules"] if is_group(child)), default=0)


def test_the_comparison_has_teeth(sql_answers: dict[str, SqlAnswer], service_answers: dict[str, ServiceAnswer]) -> None:
    """Most groups are compared, and their answers vary: neither all empty nor all everything."""
    compared = [case for case in CASES if not expects_400(case.group) and not case.mismatch]
    assert len(compared) >= 300
    sizes = [len(sql_answers[case.name].modelled_ids or ()) for case in compared]
    assert sum(0 < size < len(ALL_IDS) for size in sizes) >= len(compared) // 2
    assert len({sql_answers[case.name].modelled_ids for case in compared}) >= 100
    assert all(service_answers[case.name].status == 200 for case in compared)
