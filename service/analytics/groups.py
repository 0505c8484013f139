"""Which groups an analytics call draws: the first engine call ranks the values of the `groupBy` dimensions by the
first metric, and the `top` largest become series; everything else is `__other__`.

With two dimensions the candidates are the top values of the first dimension and, within each, the top values of
the second, as Kibana's split series are; the best `top` of those pairs are kept. A missing value is a value like
any other (null), collected by the dimension's `missing` aggregation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.analytics.dimensions import Dimension, GroupValue
from service.analytics.metrics import Metric, Value
from service.analytics.plan import Plan

Group = tuple[GroupValue, ...]
OTHER = "__other__"


def rank_body(plan: Plan) -> dict[str, Any]:
    metric = plan.metrics[0]
    order = [{metric.rank_order: "desc"}, {"_key": "asc"}]
    return {
        "size": 0,
        "track_total_hits": False,
        "query": plan.selection,
        "aggs": _level(plan.dimensions, plan.query.top, order, dict(metric.rank_aggs)),
    }


def _level(
    dimensions: Sequence[Dimension], top: int, order: list[dict[str, str]], leaf: dict[str, Any]
) -> dict[str, Any]:
    first, rest = dimensions[0], dimensions[1:]
    sub = leaf | _level(rest, top, order, leaf) if rest else leaf
    return {"v": first.values(top, order, sub), "n": first.missing(sub)}


def top_groups(plan: Plan, aggregations: Mapping[str, Any]) -> list[Group]:
    """The `top` groups of the ranking answer, largest first (ties: by value, nulls last)."""
    ranked = _candidates(plan.dimensions, aggregations, (), plan.metrics[0], plan.query.top)
    return [group for group, _ in _best(ranked, plan.query.top)]


def _candidates(
    dimensions: Sequence[Dimension], node: Mapping[str, Any], prefix: Group, metric: Metric, top: int
) -> list[tuple[Group, Value]]:
    """Every candidate group under `node`. Each level's values are its top terms and the requests without one,
    which compete for the level's `top` places like any other value."""
    first, rest = dimensions[0], dimensions[1:]
    level = [((*prefix, first.value_of(bucket)), bucket) for bucket in node["v"]["buckets"]]
    if node["n"]["doc_count"]:
        level.append(((*prefix, None), node["n"]))
    scored = [(group, metric.rank_value(bucket), bucket) for group, bucket in level]
    if not rest:
        return [(group, value) for group, value, _ in scored]
    kept = _best([(group, value) for group, value, _ in scored], top)
    buckets = {group: bucket for group, _, bucket in scored}
    found: list[tuple[Group, Value]] = []
    for group, _ in kept:
        found.extend(_candidates(rest, buckets[group], group, metric, top))
    return found


def _best(ranked: list[tuple[Group, Value]], top: int) -> list[tuple[Group, Value]]:
    return sorted(ranked, key=lambda item: (descending(item[1]), group_order(item[0])))[:top]


def descending(value: Value) -> tuple[bool, float]:
    return (value is None, -(value or 0))


def group_order(group: Group) -> tuple[tuple[bool, Any], ...]:
    """Values in ascending order, a null after every value."""
    return tuple((value is None, value if value is not None else 0) for value in group)


def group_clause(dimensions: Sequence[Dimension], group: Group) -> dict[str, Any]:
    clauses = [dimension.clause(value) for dimension, value in zip(dimensions, group, strict=True)]
    return clauses[0] if len(clauses) == 1 else {"bool": {"filter": clauses}}
