"""The second engine call and the answer: per-bucket metrics over the whole selection and for each chosen group,
and `__other__` for the rest (the engine's `filters` other-bucket, so totals add up exactly)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from service.analytics.groups import OTHER, Group, descending, group_clause, group_order
from service.analytics.metrics import aggregations, read_all
from service.analytics.plan import Plan
from service.analytics.timerange import iso

GROUPS = "g"  # no metric's aggregation has this name


def series_body(plan: Plan, groups: Sequence[Group]) -> dict[str, Any]:
    metric_aggs = aggregations(plan.metrics)
    histogram: dict[str, Any] = {"date_histogram": plan.histogram()}
    if metric_aggs:
        histogram["aggs"] = metric_aggs
    per_series = metric_aggs | {"h": histogram}
    # The overall figures are aggregations of the whole query (no wrapping filter to evaluate per request), its
    # count the exact hit count; grouped, the answer has only the overall totals, so no overall histogram either.
    aggs: dict[str, Any] = dict(metric_aggs if plan.dimensions else per_series)
    if groups:
        filters = {str(i): group_clause(plan.dimensions, group) for i, group in enumerate(groups)}
        aggs[GROUPS] = {"filters": {"filters": filters, "other_bucket_key": OTHER}, "aggs": per_series}
    return {"size": 0, "track_total_hits": True, "query": plan.selection, "aggs": aggs}


def answer(plan: Plan, groups: Sequence[Group], result: Mapping[str, Any]) -> dict[str, Any]:
    """The API's answer from the series call's `result` (the engine's whole answer)."""
    everything = {**result.get("aggregations", {}), "doc_count": result["hits"]["total"]["value"]}
    series: list[dict[str, Any]] = []
    if not plan.dimensions:
        series.append(_series(plan, {}, everything))
    elif groups:
        named = everything[GROUPS]["buckets"]
        drawn = [(group, named[str(i)]) for i, group in enumerate(groups) if named[str(i)]["doc_count"]]
        drawn.sort(key=lambda item: (descending(plan.metrics[0].read(item[1])), group_order(item[0])))
        series.extend(_series(plan, _key(plan, group), node) for group, node in drawn)
        if named[OTHER]["doc_count"]:
            series.append(_series(plan, {d.name: OTHER for d in plan.dimensions}, named[OTHER]))
    return {
        "from": iso(plan.start.astimezone(plan.zone)),
        "to": iso(plan.end.astimezone(plan.zone)),
        "interval": plan.interval.name,
        "timezone": plan.zone.key,
        "metrics": list(plan.query.metrics),
        "groupBy": list(plan.query.groupBy),
        "totals": read_all(plan.metrics, everything),
        "series": series,
    }


def _key(plan: Plan, group: Group) -> dict[str, Any]:
    return {dimension.name: value for dimension, value in zip(plan.dimensions, group, strict=True)}


def _series(plan: Plan, key: dict[str, Any], node: Mapping[str, Any]) -> dict[str, Any]:
    buckets = [
        {"start": iso(datetime.fromtimestamp(bucket["key"] / 1000, plan.zone)), **read_all(plan.metrics, bucket)}
        for bucket in node["h"]["buckets"]
    ]
    return {"key": key, "totals": read_all(plan.metrics, node), "buckets": buckets}
