"""An analytics call made concrete: the resolved time range and interval, the metric and dimension rows, and the
tenant's selection query with the time range added. Everything the engine bodies and the answer need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from service.analytics.dimensions import Dimension, dimension
from service.analytics.metrics import METRICS, Metric
from service.analytics.params import MAX_TOP, AnalyticsQuery
from service.analytics.timerange import (
    MAX_BUCKETS,
    Interval,
    auto_interval,
    bucket_count,
    epoch_millis,
    parse_interval,
    resolve_time,
    time_zone,
)
from service.params import ParameterError
from service.query import selection_query

# The engine refuses an answer of more than search.max_buckets (65,535) buckets; series x buckets stays below.
MAX_SERIES_BUCKETS = 60_000


@dataclass(frozen=True)
class Plan:
    query: AnalyticsQuery
    zone: ZoneInfo
    start: datetime
    end: datetime
    interval: Interval
    metrics: tuple[Metric, ...]
    dimensions: tuple[Dimension, ...]
    selection: dict[str, Any]
    """The tenant's requests in the range: service.query's selection with the time range beside it."""

    def histogram(self) -> dict[str, Any]:
        """Buckets over the whole range, empty ones included, so every series has the same starts."""
        return {
            "field": "createdAt",
            **self.interval.histogram(),
            "time_zone": self.zone.key,
            "min_doc_count": 0,
            "extended_bounds": {"min": epoch_millis(self.start), "max": epoch_millis(self.end)},
        }


def make_plan(query: AnalyticsQuery, tenant_id: str, now: datetime) -> Plan:
    """Resolve `query` at `now`; a range or interval that cannot be served is a ParameterError naming it."""
    zone = time_zone(query.timezone)
    start = _resolve("from", query.start, now, zone)
    end = _resolve("to", query.end, now, zone)
    if end < start:
        raise ParameterError(f"to: {query.end!r} ({end.isoformat()}) is before from ({start.isoformat()})")
    interval = parse_interval(query.interval) or auto_interval(start, end)
    buckets = bucket_count(start, end, interval)
    if buckets > MAX_BUCKETS:
        raise ParameterError(
            f"interval: {interval.name} splits this range into about {buckets:,} buckets; at most {MAX_BUCKETS:,} "
            "(use a longer interval or auto)"
        )
    series = (min(query.top, MAX_TOP) + 1) if query.groupBy else 1
    if (series + 1) * buckets > MAX_SERIES_BUCKETS:
        raise ParameterError(
            f"top: {series} series of {buckets:,} buckets each are more than this endpoint draws "
            f"({MAX_SERIES_BUCKETS:,} points); lower top or use a longer interval"
        )
    selection = selection_query(query, tenant_id)
    time_range = {"gte": epoch_millis(start), "lte": epoch_millis(end), "format": "epoch_millis"}
    selection["bool"]["filter"].append({"range": {"createdAt": time_range}})
    return Plan(
        query=query,
        zone=zone,
        start=start,
        end=end,
        interval=interval,
        metrics=tuple(METRICS[name] for name in query.metrics),
        dimensions=tuple(dimension(name) for name in query.groupBy),
        selection=selection,
    )


def _resolve(name: str, text: str, now: datetime, zone: ZoneInfo) -> datetime:
    try:
        return resolve_time(text, now, zone)
    except ValueError as error:
        raise ParameterError(f"{name}: {error}") from None
