"""What an analytics call can group by: one table of request fields, plus `metadata.<key>` for any key.

Each dimension knows the engine aggregation that buckets requests by its value (and the one that collects the
requests without a value), how to read a value from a bucket, and the query clause that selects one value's
requests. `metadata` is a flat_object, whose subfields cannot be aggregated, so a metadata key is grouped through
the `metadata_pairs` keywords (`<key>=<value>`, core.documents) restricted to that key's prefix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.fields import METADATA_PAIR_SEPARATOR, METADATA_PREFIX

GroupValue = str | int | bool | None
MAX_METADATA_KEY_LENGTH = 256


def _text(bucket: Mapping[str, Any]) -> GroupValue:
    return str(bucket["key"])


def _number(bucket: Mapping[str, Any]) -> GroupValue:
    return int(bucket["key"])


def _flag(bucket: Mapping[str, Any]) -> GroupValue:
    return bucket.get("key_as_string") == "true"


@dataclass(frozen=True)
class Dimension:
    name: str
    field: str
    read: Callable[[Mapping[str, Any]], GroupValue]
    prefix: str = ""
    """For a metadata key: `<key>=`, the start of each of its pairs."""

    def values(self, size: int, order: list[dict[str, str]], sub: dict[str, Any]) -> dict[str, Any]:
        """A terms aggregation over the dimension's values, the top `size` by `order`."""
        terms: dict[str, Any] = {"field": self.field, "size": size, "order": order}
        if self.prefix:
            terms["include"] = _literal_regex(self.prefix) + ".*"
        return {"terms": terms, "aggs": sub} if sub else {"terms": terms}

    def missing(self, sub: dict[str, Any]) -> dict[str, Any]:
        """The requests without a value."""
        agg: dict[str, Any] = {"filter": self.clause(None)} if self.prefix else {"missing": {"field": self.field}}
        return agg | {"aggs": sub} if sub else agg

    def value_of(self, bucket: Mapping[str, Any]) -> GroupValue:
        value = self.read(bucket)
        return value[len(self.prefix) :] if self.prefix and isinstance(value, str) else value

    def clause(self, value: GroupValue) -> dict[str, Any]:
        """The query clause for requests whose value is `value` (None: that have none)."""
        if value is None:
            absent = {"prefix": {self.field: self.prefix}} if self.prefix else {"exists": {"field": self.field}}
            return {"bool": {"must_not": [absent]}}
        return {"term": {self.field: f"{self.prefix}{value}" if self.prefix else value}}


FIELD_DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension("model", "model", _text),
        Dimension("user_id", "user_id", _text),
        Dimension("app_id", "app_id", _text),
        Dimension("status", "status", _number),
        Dimension("status_class", "status_class", _text),
        Dimension("url", "url", _text),
        Dimension("method", "method", _text),
        Dimension("cached", "cached", _flag),
        Dimension("streamed", "streamed", _flag),
    )
}


class DimensionError(ValueError):
    """What is wrong with a `groupBy` name."""


def dimension(name: str) -> Dimension:
    if name in FIELD_DIMENSIONS:
        return FIELD_DIMENSIONS[name]
    if name.startswith(METADATA_PREFIX):
        key = name[len(METADATA_PREFIX) :]
        if not key or METADATA_PAIR_SEPARATOR in key or len(key) > MAX_METADATA_KEY_LENGTH:
            raise DimensionError(
                f"{name!r}: a metadata key is 1 to {MAX_METADATA_KEY_LENGTH} characters without {METADATA_PAIR_SEPARATOR!r}"
            )
        return Dimension(name, "metadata_pairs", _text, prefix=f"{key}{METADATA_PAIR_SEPARATOR}")
    known = ", ".join([*FIELD_DIMENSIONS, f"{METADATA_PREFIX}<key>"])
    raise DimensionError(f"{name!r} cannot be grouped by; use up to two of {known}")


def _literal_regex(text: str) -> str:
    """`text` as a Lucene regular expression that matches exactly it: every character outside [A-Za-z0-9_]
    backslash-escaped (Lucene reads `\\x` as a literal `x`; letters, whose escapes mean classes, stay bare)."""
    return "".join(char if re.fullmatch(r"[A-Za-z0-9_]", char) else "\\" + char for char in text)
