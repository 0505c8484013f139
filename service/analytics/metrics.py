"""The metrics an analytics call can ask for: one table, each row knowing the engine aggregations it needs, how to
read its value from a bucket, and how the engine ranks groups by it.

Adding a metric is one row here (and, for the README and OpenAPI, nothing else: both read this table).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Value = int | float | None
Bucket = Mapping[str, Any]

# `users` is exact below this many distinct values (OpenSearch's cardinality precision threshold), HyperLogLog++
# (about 1-2% error) above.
USERS_PRECISION = 3000
ERROR_STATUS = 400


@dataclass(frozen=True)
class Metric:
    name: str
    description: str
    aggs: Mapping[str, Mapping[str, Any]]
    """The sub-aggregations each bucket needs for this metric, by name (metrics may share one)."""
    read: Callable[[Bucket], Value]
    rank_order: str
    """What a `terms` aggregation orders by to rank groups by this metric: `_count` or the path of `rank_aggs`."""
    rank_aggs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    rank_read: Callable[[Bucket], Value] | None = None
    """The value groups are ranked by, from a bucket holding `rank_aggs`; `read` unless it differs."""

    def rank_value(self, bucket: Bucket) -> Value:
        return (self.rank_read or self.read)(bucket)


def _sum(name: str, field_name: str) -> dict[str, dict[str, Any]]:
    return {name: {"sum": {"field": field_name}}}


def _integer(bucket: Bucket, name: str) -> int:
    value: float = bucket[name]["value"]
    return round(value)


def _percentile(percent: int) -> Metric:
    name = f"duration_p{percent}"
    key = f"{float(percent)}"
    aggs = {name: {"percentiles": {"field": "duration_ms", "percents": [percent], "keyed": True}}}
    return Metric(
        name,
        f"The {percent}th percentile of `duration_ms` (OpenSearch's TDigest estimate); null when no request has one.",
        aggs,
        lambda bucket: bucket[name]["values"][key],
        f"{name}[{key}]",
        aggs,
    )


_ERRORS = {"errors": {"filter": {"range": {"status": {"gte": ERROR_STATUS}}}}}
_TOTAL_TOKENS_SCRIPT = (
    "(doc['prompt_tokens'].size() == 0 ? 0 : doc['prompt_tokens'].value)"
    " + (doc['completion_tokens'].size() == 0 ? 0 : doc['completion_tokens'].value)"
)
_TOKEN_SUMS = _sum("prompt_tokens", "prompt_tokens") | _sum("completion_tokens", "completion_tokens")

TABLE: tuple[Metric, ...] = (
    Metric("count", "How many requests.", {}, lambda bucket: int(bucket["doc_count"]), "_count"),
    Metric(
        "cost",
        "The sum of `cost` (US dollars).",
        _sum("cost", "cost"),
        lambda b: b["cost"]["value"],
        "cost",
        _sum("cost", "cost"),
    ),
    Metric(
        "prompt_tokens",
        "The sum of `prompt_tokens`.",
        _sum("prompt_tokens", "prompt_tokens"),
        lambda b: _integer(b, "prompt_tokens"),
        "prompt_tokens",
        _sum("prompt_tokens", "prompt_tokens"),
    ),
    Metric(
        "completion_tokens",
        "The sum of `completion_tokens`.",
        _sum("completion_tokens", "completion_tokens"),
        lambda b: _integer(b, "completion_tokens"),
        "completion_tokens",
        _sum("completion_tokens", "completion_tokens"),
    ),
    Metric(
        "total_tokens",
        "The sum of `prompt_tokens` and `completion_tokens`.",
        _TOKEN_SUMS,
        lambda b: _integer(b, "prompt_tokens") + _integer(b, "completion_tokens"),
        "total_tokens",
        {"total_tokens": {"sum": {"script": {"source": _TOTAL_TOKENS_SCRIPT}}}},
        rank_read=lambda b: b["total_tokens"]["value"],
    ),
    Metric(
        "cost_avg",
        "The mean `cost` of the requests that have one; null when none has.",
        {"cost_avg": {"avg": {"field": "cost"}}},
        lambda b: b["cost_avg"]["value"],
        "cost_avg",
        {"cost_avg": {"avg": {"field": "cost"}}},
    ),
    _percentile(50),
    _percentile(95),
    _percentile(99),
    Metric(
        "error_rate",
        f"The share of requests with a status of {ERROR_STATUS} or more (0 to 1); null with no "
        "requests. Groups ranked by it are ranked by their number of failed requests.",
        _ERRORS,
        lambda b: b["errors"]["doc_count"] / b["doc_count"] if b["doc_count"] else None,
        "errors",  # a single-bucket aggregation orders by its doc count
        _ERRORS,
        rank_read=lambda b: b["errors"]["doc_count"],
    ),
    Metric(
        "users",
        f"Distinct `user_id` values: exact below {USERS_PRECISION:,}, an estimate (HyperLogLog++, about "
        "1-2% off) above.",
        {"users": {"cardinality": {"field": "user_id", "precision_threshold": USERS_PRECISION}}},
        lambda b: int(b["users"]["value"]),
        "users",
        {"users": {"cardinality": {"field": "user_id", "precision_threshold": USERS_PRECISION}}},
    ),
)

METRICS: dict[str, Metric] = {metric.name: metric for metric in TABLE}
DEFAULT_METRICS = ("count", "cost")


def aggregations(metrics: tuple[Metric, ...]) -> dict[str, Any]:
    """Every sub-aggregation the chosen metrics need, each once."""
    aggs: dict[str, Any] = {}
    for metric in metrics:
        aggs.update(metric.aggs)
    return aggs


def read_all(metrics: tuple[Metric, ...], bucket: Bucket) -> dict[str, Value]:
    return {metric.name: metric.read(bucket) for metric in metrics}
