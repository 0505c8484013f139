"""How each kind of field spells equals, one-of, a range, a substring, a prefix, a suffix and presence.

Operators are written once against these verbs; the kind of field picks the query that carries them out (a `term`
on a keyword, a `match_phrase` on text, a day-rounded `range` on a date).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from core.fields import Kind
from service.filters.targets import Target
from service.filters.values import Value

Clause = dict[str, Any]

MATCH_ALL: Clause = {"match_all": {}}


def negate(clause: Clause) -> Clause:
    return {"bool": {"must_not": [clause]}}


def any_of(clauses: Sequence[Clause]) -> Clause:
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": list(clauses), "minimum_should_match": 1}}


def all_of(clauses: Sequence[Clause]) -> Clause:
    return clauses[0] if len(clauses) == 1 else {"bool": {"filter": list(clauses)}}


def escape_wildcard(text: str) -> str:
    """`text` matched literally inside a wildcard pattern: the client's `*`, `?` and `\\` are not wildcards."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


class Queries:
    """Term-level queries: keywords, numbers, booleans, IP addresses and metadata strings."""

    def __init__(self, path: str) -> None:
        self.path = path

    def equals(self, value: Value) -> Clause:
        return {"term": {self.path: value}}

    def one_of(self, values: Sequence[Value]) -> Clause:
        return {"terms": {self.path: list(values)}}

    def range(self, bounds: dict[str, Value]) -> Clause:
        return {"range": {self.path: bounds}}

    def contains(self, value: str) -> Clause:
        return {"wildcard": {self.path: {"value": f"*{escape_wildcard(value)}*"}}}

    def begins_with(self, value: str) -> Clause:
        # `prefix` takes the value literally, so nothing needs escaping.
        return {"prefix": {self.path: {"value": value}}}

    def ends_with(self, value: str) -> Clause:
        return {"wildcard": {self.path: {"value": f"*{escape_wildcard(value)}"}}}

    def exists(self) -> Clause:
        return {"exists": {"field": self.path}}


class TextQueries(Queries):
    """Analysed text: every comparison is a phrase search, since the exact stored string is not indexed."""

    def equals(self, value: Value) -> Clause:
        return {"match_phrase": {self.path: value}}

    def one_of(self, values: Sequence[Value]) -> Clause:
        return any_of([self.equals(value) for value in values])

    def contains(self, value: str) -> Clause:
        return self.equals(value)

    def begins_with(self, value: str) -> Clause:
        # One word (checked with the value): the analyzer normalises it as it did the text, and the final term of
        # match_bool_prefix is a plain prefix query over every matching term, with no expansion limit (unlike
        # match_phrase_prefix, which stops at 50 terms and so silently drops matches).
        return {"match_bool_prefix": {self.path: {"query": value}}}


class DateQueries(Queries):
    """Dates: a date without a time means the whole UTC day, so `= 2026-01-31` matches any moment of that day."""

    def equals(self, value: Value) -> Clause:
        return self.range({"gte": value, "lte": value})

    def one_of(self, values: Sequence[Value]) -> Clause:
        return any_of([self.equals(value) for value in values])

    def range(self, bounds: dict[str, Value]) -> Clause:
        return {"range": {self.path: {name: _date_text(value) for name, value in bounds.items()}}}


class IpQueries(Queries):
    def one_of(self, values: Sequence[Value]) -> Clause:
        # OpenSearch turns each CIDR block of a `terms` query into a clause of its own; spelling that out keeps
        # the clause count the renderer checks honest.
        if any("/" in str(value) for value in values):
            return any_of([self.equals(value) for value in values])
        return super().one_of(values)


def queries_for(target: Target) -> Queries:
    kind_queries = {Kind.TEXT: TextQueries, Kind.DATE: DateQueries, Kind.IP: IpQueries}
    return kind_queries.get(target.kind, Queries)(target.path)


def _date_text(value: Value) -> Value:
    # Date math rounding (`||/d`) makes each bound cover the day the way its operator needs: `gte`/`lt` round to
    # the day's first millisecond, `gt`/`lte` to its last.
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return f"{value.isoformat()}||/d"
    return value
