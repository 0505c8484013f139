"""The analytics mix A1-A5, declared once and rendered three ways: the query string of `GET /api/v1/analytics`
(which the service, and the benchmark's direct side, turn into OpenSearch bodies with `service.analytics`), SQL for
PostgreSQL and SQL for ClickHouse. Answers of every side are brought to one canonical form and compared.

Each SQL statement answers what the API answers, in one statement: the top `top` groups by the first metric (the
rest folded into `__other__`, a missing value a group of its own), then per-bucket metrics for each group, each
group's totals and the overall totals (`GROUPING SETS ((key, bucket), (key), ())`). Empty buckets are not
returned by SQL (the API returns them as zeros): the canonical form leaves out buckets without requests on every
side. Every query asks for `count` too, so that empty buckets can be told apart.

Percentiles differ by design, so they are not compared with each other but each with the exact answer: every
side's p95 of a bucket must lie between the bucket's exact values at ranks 93% and 97% (`PERCENTILE_RANKS`, the
values sorted by PostgreSQL: `percentile_bounds`). OpenSearch estimates percentiles with a TDigest (compression 100:
close to exact for small buckets, within a fraction of a percent of the rank for large ones), PostgreSQL's
`percentile_cont` is exact (interpolated between the two nearest values), ClickHouse's `quantile` keeps a reservoir
sample of at most 8,192 values per group (so it is exact, interpolated like `percentile_cont`, below that; a sampled
estimate above). In a bucket of 26 durations spread over seconds to minutes, the three can be 20% apart and all
right: p95 falls between the 25th and the 26th value, and each interpolates differently. Counts are exact
everywhere; sums of cost agree to floating-point rounding (each engine adds the doubles in its own order).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from bench import pgschema
from bench.clickhouse import TABLE as CH_TABLE
from bench.clickhouse import literal as ch_literal
from bench.clickhouse import search_condition as ch_search_condition
from bench.workload import pg_search_condition
from loaders.synthetic import COMMON_WORD, REFERENCE_TIME, WINDOW_DAYS

OTHER = "__other__"
# The synthetic data's span: WINDOW_DAYS days up to REFERENCE_TIME (records are drawn inside it).
SPAN_START = REFERENCE_TIME - timedelta(days=WINDOW_DAYS)
SPAN_END = REFERENCE_TIME - timedelta(milliseconds=1)
# Hourly buckets over the whole span would be 2,160, over the API's 2,000: A1 takes the last 80 days (1,921).
HOURLY_DAYS = 80
METADATA_KEY = "feature"  # x-metadata-feature: ~70% of records, 17 values (loaders/synthetic/records.py)
PERCENTILE_RANKS = 0.02  # a p95 must lie between the exact values at ranks 93% and 97% (module docstring)
COST_TOLERANCE = 1e-9  # relative
# PostgreSQL's full-text search (`to_tsvector('simple')` over the JSON text of the bodies, as bench.run's tuned side
# searches) finds a word where its own parser splits words, which is not where OpenSearch's analyzer does (a word
# right after an escaped `\n` in a JSON body is `nplease` to it, and it does not search the extracted prompt), so
# a query with a search counts a little differently there by design (as Q1 and Q4 do): its totals may differ by
# this share, and buckets are not compared.
TEXT_SEARCH_TOLERANCE = 0.05

Interval = Literal["hour", "day"]
ROW_METRICS_FROM = 4  # SQL rows are (key_rolled, b_rolled, key, start, *metrics)


@dataclass(frozen=True)
class MetricSql:
    postgres: str
    clickhouse: str
    # What groups are ranked by, when it is not the metric itself (service.analytics.metrics: rank_read).
    postgres_rank: str | None = None
    clickhouse_rank: str | None = None


# Over the columns each statement's inner query exposes: cost, status, duration_ms.
METRICS: dict[str, MetricSql] = {
    "count": MetricSql("count(*)", "count()"),
    "cost": MetricSql("coalesce(sum(cost), 0)", "ifNull(sum(cost), 0)"),
    "duration_p95": MetricSql(
        "percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)", "quantile(0.95)(duration_ms)"
    ),
    "error_rate": MetricSql(
        "(count(*) FILTER (WHERE status >= 400))::float8 / count(*)",
        "countIf(status >= 400) / count()",
        postgres_rank="count(*) FILTER (WHERE status >= 400)",
        clickhouse_rank="countIf(status >= 400)",
    ),
}
PERCENTILES = {"duration_p95": 0.95}
SORTED_DURATIONS = "array_agg(duration_ms ORDER BY duration_ms) FILTER (WHERE duration_ms IS NOT NULL)"
INTEGERS = frozenset({"count"})


def pg_dimension(name: str) -> str:
    """A `groupBy` name as a PostgreSQL expression over the original `"Request"` table (metadata lives in the
    `x-metadata-<key>` request headers there, which is where the loader takes it from)."""
    if name.startswith("metadata."):
        key = name.removeprefix("metadata.")
        return f"(request_headers->>'x-metadata-{key}')"
    return pgschema.quote(name)


def ch_dimension(name: str) -> str:
    if name.startswith("metadata."):
        key = ch_literal(name.removeprefix("metadata."))
        return f"if(mapContains(metadata, {key}), metadata[{key}], NULL)"
    return name


PG_DURATION = '(EXTRACT(EPOCH FROM ("updatedAt" - "createdAt")) * 1000)::float8'


@dataclass(frozen=True)
class Analytic:
    """One analytics question. `metrics[0]` ranks the groups, as the API's first metric does."""

    id: str
    title: str
    interval: Interval
    metrics: tuple[str, ...]
    start: datetime = SPAN_START
    end: datetime = SPAN_END
    group_by: str | None = None
    top: int = 10
    search: str | None = None

    def api_params(self) -> dict[str, str]:
        params = {"from": iso(self.start), "to": iso(self.end), "interval": self.interval, "timezone": "UTC"}
        params["metrics"] = ",".join(self.metrics)
        if self.group_by is not None:
            params["groupBy"] = self.group_by
            params["top"] = str(self.top)
        if self.search is not None:
            params["search"] = self.search
        return params

    # -- PostgreSQL --

    def pg_sql(self, tenant: str, sorted_durations: bool = False) -> tuple[str, dict[str, Any]]:
        """The statement and its parameters; `sorted_durations`: each percentile metric's column holds the
        bucket's durations, sorted (for `percentile_bounds`), instead of the percentile."""
        params: dict[str, Any] = {
            "tenant": tenant,
            "start": self.start.astimezone(UTC).replace(tzinfo=None),
            "end": self.end.astimezone(UTC).replace(tzinfo=None),
        }
        where = '"userId" = %(tenant)s AND "createdAt" >= %(start)s::timestamp AND "createdAt" <= %(end)s::timestamp'
        if self.search is not None:
            where += " AND " + pg_search_condition(self.search, "tuned", "fts", params)
        metrics = ", ".join(
            f"{SORTED_DURATIONS if sorted_durations and m in PERCENTILES else METRICS[m].postgres} AS {m}"
            for m in self.metrics
        )
        bucket = f"date_trunc('{self.interval}', \"createdAt\")"
        columns = f"cost, status, {PG_DURATION} AS duration_ms"
        if self.group_by is None:
            sql = (
                f"SELECT GROUPING(b) AS key_rolled, GROUPING(b) AS b_rolled, NULL AS key, "
                f"extract(epoch FROM b)::bigint AS start, {metrics} "
                f'FROM (SELECT {bucket} AS b, {columns} FROM "Request" WHERE {where}) s '
                "GROUP BY GROUPING SETS ((b), ())"
            )
            return sql, params
        dim = pg_dimension(self.group_by)
        first = METRICS[self.metrics[0]]
        rank = (first.postgres_rank or first.postgres).replace("duration_ms", PG_DURATION)
        params["top"] = self.top
        params["other"] = OTHER
        sql = (
            "WITH top AS ("
            f'SELECT g FROM (SELECT {dim} AS g, {rank} AS r FROM "Request" WHERE {where} GROUP BY 1) ranked '
            "ORDER BY r DESC NULLS LAST, g ASC NULLS LAST LIMIT %(top)s) "
            "SELECT GROUPING(key) AS key_rolled, GROUPING(b) AS b_rolled, key, "
            f"extract(epoch FROM b)::bigint AS start, {metrics} FROM ("
            "SELECT b, CASE WHEN g IN (SELECT g FROM top) THEN g "
            "WHEN g IS NULL AND EXISTS (SELECT 1 FROM top WHERE top.g IS NULL) THEN NULL "
            "ELSE %(other)s END AS key, cost, status, duration_ms "
            f'FROM (SELECT {bucket} AS b, {dim} AS g, {columns} FROM "Request" WHERE {where}) s) t '
            "GROUP BY GROUPING SETS ((key, b), (key), ())"
        )
        return sql, params

    # -- ClickHouse --

    def ch_sql(self, tenant: str) -> str:
        where = f"tenant_id = {ch_literal(tenant)} AND createdAt >= {ch_time(self.start)} AND createdAt <= {ch_time(self.end)}"
        if self.search is not None:
            where += " AND " + ch_search_condition(self.search)
        metrics = ", ".join(f"{METRICS[m].clickhouse} AS {m}" for m in self.metrics)
        bucket = "toStartOfHour(createdAt)" if self.interval == "hour" else "toStartOfDay(createdAt)"
        settings = "SETTINGS transform_null_in = 1, output_format_json_quote_64bit_integers = 0"
        if self.group_by is None:
            return (
                f"SELECT grouping(b) AS key_rolled, grouping(b) AS b_rolled, NULL AS key, toUnixTimestamp(b) AS start, "
                f"{metrics} "
                f"FROM (SELECT {bucket} AS b, cost, status, duration_ms FROM {CH_TABLE} WHERE {where}) "
                f"GROUP BY GROUPING SETS ((b), ()) {settings}"
            )
        dim = ch_dimension(self.group_by)
        first = METRICS[self.metrics[0]]
        rank = first.clickhouse_rank or first.clickhouse
        top = (
            f"SELECT g FROM (SELECT {dim} AS g, {rank} AS r FROM {CH_TABLE} WHERE {where} GROUP BY g "
            f"ORDER BY r DESC NULLS LAST, g ASC NULLS LAST LIMIT {self.top})"
        )
        return (
            "SELECT grouping(key) AS key_rolled, grouping(b) AS b_rolled, key, toUnixTimestamp(b) AS start, "
            f"{metrics} FROM (SELECT {bucket} AS b, if(g IN ({top}), g, {ch_literal(OTHER)}) AS key, "
            f"cost, status, duration_ms FROM (SELECT createdAt, {dim} AS g, cost, status, duration_ms "
            f"FROM {CH_TABLE} WHERE {where})) GROUP BY GROUPING SETS ((key, b), (key), ()) {settings}"
        )


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ch_time(moment: datetime) -> str:
    text = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    return f"toDateTime64({ch_literal(text)}, 3, 'UTC')"


def analytics_mix() -> list[Analytic]:
    return [
        Analytic(
            "A1",
            f"count by hour over the last {HOURLY_DAYS} days of the data ({HOURLY_DAYS * 24 + 1:,} buckets)",
            "hour",
            ("count",),
            start=SPAN_START + timedelta(days=WINDOW_DAYS - HOURLY_DAYS),
        ),
        Analytic("A2", "cost by day x model, top 10 by cost", "day", ("cost", "count"), group_by="model"),
        Analytic("A3", "p95 duration by day x app", "day", ("duration_p95", "count"), group_by="app_id"),
        Analytic(
            "A4", f"error rate by day, search `{COMMON_WORD}`", "day", ("error_rate", "count"), search=COMMON_WORD
        ),
        Analytic(
            "A5",
            f"count and cost by day x metadata key `{METADATA_KEY}`, top 10 by count",
            "day",
            ("count", "cost"),
            group_by=f"metadata.{METADATA_KEY}",
        ),
    ]


# -- one canonical form for every side's answer ------------------------------------------------------------------

Canonical = dict[str, Any]


def _value(metric: str, value: Any) -> Any:
    if value is None:
        return None
    number = float(value)
    if math.isnan(number):
        return None
    return int(number) if metric in INTEGERS else number


def _key(analytic: Analytic, value: Any) -> str:
    key = {} if analytic.group_by is None else {analytic.group_by: value}
    return json.dumps(key, ensure_ascii=False, sort_keys=True)


def from_api(analytic: Analytic, answer: dict[str, Any]) -> Canonical:
    """The API's answer (service or direct) in canonical form: buckets without requests left out."""
    series: dict[str, Any] = {}
    for one in answer["series"]:
        buckets = {
            int(datetime.fromisoformat(b["start"]).timestamp()): {m: _value(m, b[m]) for m in analytic.metrics}
            for b in one["buckets"]
            if b["count"]
        }
        totals = {m: _value(m, one["totals"][m]) for m in analytic.metrics}
        series[json.dumps(one["key"], ensure_ascii=False, sort_keys=True)] = {"totals": totals, "buckets": buckets}
    return {"totals": {m: _value(m, answer["totals"][m]) for m in analytic.metrics}, "series": series}


def _rows(analytic: Analytic, rows: Sequence[Sequence[Any]], read: Callable[[str, Any], Any]) -> Canonical:
    """SQL rows `(key_rolled, b_rolled, key, start, *metrics)` in canonical form, each value through `read`.

    Both rolled: the overall totals (and, without groupBy, the one series'); only the bucket rolled: a series'
    totals; neither: a bucket (left out when it has no requests)."""
    totals: dict[str, Any] = {}
    series: dict[str, Any] = {}
    for row in rows:
        key_rolled, b_rolled, key, start, *values = row
        metrics = {m: read(m, v) for m, v in zip(analytic.metrics, values, strict=True)}
        if int(key_rolled) and int(b_rolled):
            totals = metrics
            if analytic.group_by is None:
                series.setdefault(_key(analytic, None), {"totals": {}, "buckets": {}})["totals"] = metrics
            continue
        one = series.setdefault(_key(analytic, key), {"totals": {}, "buckets": {}})
        if int(b_rolled):
            one["totals"] = metrics
        elif metrics.get("count", 1):
            one["buckets"][int(start)] = metrics
    return {"totals": totals, "series": series}


def from_rows(analytic: Analytic, rows: Sequence[Sequence[Any]]) -> Canonical:
    """SQL rows `(key_rolled, b_rolled, key, start, *metrics)` (`Analytic.pg_sql`, `ch_sql`) in canonical form."""
    return _rows(analytic, rows, _value)


def percentile_bounds(analytic: Analytic, rows: Sequence[Sequence[Any]]) -> Canonical:
    """From `pg_sql(sorted_durations=True)`'s rows: for each percentile metric of each total and bucket, the exact
    values at its rank minus and plus PERCENTILE_RANKS (`[low, high]`; None when there are no durations)."""

    def read(metric: str, value: Any) -> Any:
        if metric not in PERCENTILES:
            return _value(metric, value)
        if not value:
            return None
        values = sorted(float(v) for v in value)
        last = len(values) - 1
        rank = PERCENTILES[metric]
        low = values[max(0, math.floor((rank - PERCENTILE_RANKS) * last))]
        high = values[min(last, math.ceil((rank + PERCENTILE_RANKS) * last))]
        return [low, high]

    return _rows(analytic, rows, read)


def percentile_misses(analytic: Analytic, answer: Canonical, bounds: Canonical, limit: int = 10) -> list[str]:
    """The percentiles of `answer` outside their exact rank bounds (empty: all within)."""
    found: list[str] = []

    def check(where: str, got: dict[str, Any], expected: dict[str, Any]) -> None:
        for metric in PERCENTILES:
            if metric not in analytic.metrics:
                continue
            value, span = got.get(metric), expected.get(metric)
            if span is None or value is None:
                if (span is None) != (value is None):
                    found.append(f"{where} {metric}: {value!r}, exact bounds {span!r}")
            elif not span[0] - 1e-9 <= value <= span[1] + 1e-9:
                found.append(f"{where} {metric}: {value!r} outside the exact bounds {span!r}")

    check("totals", answer["totals"], bounds["totals"])
    for key, one in answer["series"].items():
        expected = bounds["series"].get(key)
        if expected is None:
            continue  # a series missing on one side is reported by `differences`
        check(f"{key} totals", one["totals"], expected["totals"])
        for start, bucket in one["buckets"].items():
            if start in expected["buckets"]:
                check(f"{key} @{start}", bucket, expected["buckets"][start])
        if len(found) >= limit:
            break
    return found[:limit]


def differences(analytic: Analytic, a: Canonical, b: Canonical, limit: int = 10) -> list[str]:
    """Where two canonical answers disagree (empty: they agree), at most `limit` items."""
    found: list[str] = []
    found += _metric_differences(analytic, "totals", a["totals"], b["totals"])
    if set(a["series"]) != set(b["series"]):
        found.append(f"series keys: {sorted(a['series'])} against {sorted(b['series'])}")
    for key in sorted(set(a["series"]) & set(b["series"])):
        one, other = a["series"][key], b["series"][key]
        found += _metric_differences(analytic, f"{key} totals", one["totals"], other["totals"])
        if set(one["buckets"]) != set(other["buckets"]):
            missing = sorted(set(one["buckets"]) ^ set(other["buckets"]))[:3]
            found.append(f"{key}: bucket starts differ (e.g. {missing})")
        for start in sorted(set(one["buckets"]) & set(other["buckets"])):
            found += _metric_differences(analytic, f"{key} @{start}", one["buckets"][start], other["buckets"][start])
        if len(found) >= limit:
            break
    return found[:limit]


def count_difference(a: Canonical, b: Canonical) -> float:
    """How far apart two answers' total counts are, as a share of the larger."""
    one, other = a["totals"].get("count") or 0, b["totals"].get("count") or 0
    return float(abs(one - other) / max(one, other, 1))


def _metric_differences(analytic: Analytic, where: str, a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    out = []
    for metric in analytic.metrics:
        if not close(metric, a.get(metric), b.get(metric)):
            out.append(f"{where} {metric}: {a.get(metric)!r} against {b.get(metric)!r}")
    return out


def close(metric: str, a: Any, b: Any) -> bool:
    """Whether two values of `metric` agree: counts exactly, sums to rounding; percentiles only in being present
    or not (their values are checked against the exact ones by `percentile_misses`)."""
    if a is None or b is None:
        return a is None and b is None
    if metric in INTEGERS:
        return bool(a == b)
    if metric in PERCENTILES:
        return True
    return bool(abs(a - b) <= COST_TOLERANCE * max(abs(a), abs(b)) + 1e-12)
