"""Hand-made requests for the analytics tests (no tests here), and the plain-Python answer the endpoint must give.

Everything the tests expect is computed below from the same records that are indexed, with no help from
OpenSearch: which requests fall in the range, which bucket each one is in (calendar buckets in the time zone,
with zoneinfo), which groups are kept by `top` and which fold into `__other__`, and every metric.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.documents import RawRequest, RequestDocument

# --- the records -------------------------------------------------------------------------------------------------

OTHER = "__other__"
TENANT_A = "acme-analytics"
TENANT_B = "globex-analytics"  # same ids, users and times as A, other values
TENANT_RECENT = "recent-analytics"  # requests of the last hours, for `now-1h`
TENANT_CROWD = "crowd-analytics"  # 2,500 distinct users

# The main range: four UTC days at the end of March 2026, over Europe/Berlin's spring-forward day (2026-03-29 is
# 23 hours long there). Both ends are inclusive.
MAIN_FROM = datetime(2026, 3, 27, tzinfo=UTC)
MAIN_TO = datetime(2026, 3, 31, tzinfo=UTC)
# The whole year: every request of tenant A.
YEAR_FROM = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_TO = datetime(2026, 11, 20, tzinfo=UTC)

# Deliberate ties: claude-3-5, o3-mini and "no model" have the same count, and so do llama-3 and mistral.
MODEL_COUNTS: dict[str | None, int] = {
    "gpt-4o": 30,
    "claude-3-5": 22,
    "o3-mini": 22,
    None: 22,
    "llama-3": 12,
    "mistral": 12,
    "gemini": 8,
    "qwen": 5,
}
USERS: list[str | None] = ["ann", "bob", "chen", "dana", "émile", "farah", "gus", None, None]
APPS: list[str | None] = ["web", "batch", "mobile", None]
STATUSES: list[int | None] = [200, 200, 200, 200, 200, 201, 204, 301, 400, 404, 429, 500, 503, 0, None]
TEAMS: list[str | None] = ["alpha", "beta", "gamma", "δέλτα", None]
EQUIPES: list[str | None] = ["rouge", "bleu", "vert", None, None]
ENVS: list[str | None] = ["prod", "prod", "dev", "a=b", None]  # "a=b": a value holding the separator
WORDS = ["lighthouse keeper", "refund policy", "weather report", "quarterly numbers", "東京の天気", "policy draft"]
# No random request lands in these UTC hours, so hourly buckets have empty ones in the middle of the data.
QUIET_HOURS = frozenset({3, 4, 5, 13, 14})

# Times that sit on an edge somewhere: 23:30 UTC is the next day in Asia/Tokyo (+09:00); around Berlin's switch
# (2026-03-29 01:00 UTC: 02:00 CET becomes 03:00 CEST); the exact ends of the main range.
MARCH_EDGES = [
    MAIN_FROM,  # == from: included
    datetime(2026, 3, 27, 23, 30, tzinfo=UTC),  # Tokyo 03-28 08:30
    datetime(2026, 3, 28, 23, 30, tzinfo=UTC),  # Tokyo 03-29 08:30
    datetime(2026, 3, 29, 23, 30, tzinfo=UTC),  # Tokyo 03-30 08:30; Berlin 03-30 01:30 CEST
    datetime(2026, 3, 30, 23, 30, tzinfo=UTC),  # Tokyo 03-31 08:30
    datetime(2026, 3, 28, 23, 10, tzinfo=UTC),  # Berlin 03-29 00:10 CET
    datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # Berlin 01:30 CET, the last hour before the switch
    datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # Berlin 03:30 CEST, the first hour after it
    datetime(2026, 3, 29, 21, 50, tzinfo=UTC),  # Berlin 03-29 23:50 CEST
    datetime(2026, 3, 29, 22, 10, tzinfo=UTC),  # Berlin 03-30 00:10 CEST
    datetime(2026, 3, 28, 10, 0, tzinfo=UTC),  # two requests at the same instant
    datetime(2026, 3, 28, 10, 0, tzinfo=UTC),
    MAIN_TO,  # == to: included, alone in the last daily bucket
]
# Just outside the main range (1 ms): never counted there.
OUTSIDE_MAIN = [MAIN_FROM - timedelta(milliseconds=1), MAIN_TO + timedelta(milliseconds=1)]
# Berlin's fall-back day, 2026-10-25, is 25 hours long: 02:00-03:00 local happens twice (00:00-01:00 UTC in CEST,
# 01:00-02:00 UTC in CET).
OCTOBER_EDGES = [
    datetime(2026, 10, 23, 22, 30, tzinfo=UTC),  # Berlin 10-24 00:30 CEST
    datetime(2026, 10, 24, 12, 0, tzinfo=UTC),
    datetime(2026, 10, 24, 21, 59, tzinfo=UTC),  # Berlin 10-24 23:59 CEST
    datetime(2026, 10, 24, 22, 30, tzinfo=UTC),  # Berlin 10-25 00:30 CEST (UTC says 10-24)
    datetime(2026, 10, 25, 0, 15, tzinfo=UTC),  # Berlin 02:15 CEST
    datetime(2026, 10, 25, 0, 45, tzinfo=UTC),  # Berlin 02:45 CEST
    datetime(2026, 10, 25, 1, 15, tzinfo=UTC),  # Berlin 02:15 CET, the second time
    datetime(2026, 10, 25, 1, 15, tzinfo=UTC),
    datetime(2026, 10, 25, 9, 0, tzinfo=UTC),
    datetime(2026, 10, 25, 22, 30, tzinfo=UTC),  # Berlin 10-25 23:30 CET: still the 25-hour day
    datetime(2026, 10, 25, 23, 30, tzinfo=UTC),  # Berlin 10-26 00:30 CET
    datetime(2026, 10, 26, 15, 0, tzinfo=UTC),
]
# A few requests elsewhere in the year, for monthly and weekly buckets (mostly empty).
SCATTERED = [
    datetime(2026, 1, 31, 23, 30, tzinfo=UTC),  # Tokyo: February
    datetime(2026, 2, 14, 8, 0, tzinfo=UTC),
    datetime(2026, 3, 1, 0, 30, tzinfo=UTC),  # Berlin 01:30, Sunday: the week of 02-23
    datetime(2026, 3, 2, 0, 30, tzinfo=UTC),  # Berlin Monday 01:30: the week of 03-02
    datetime(2026, 3, 1, 23, 30, tzinfo=UTC),  # Berlin Monday 00:30: the week of 03-02 (UTC: Sunday)
    datetime(2026, 5, 5, 5, 5, tzinfo=UTC),
    datetime(2026, 7, 31, 22, 0, tzinfo=UTC),  # Berlin August
    datetime(2026, 9, 9, 9, 9, tzinfo=UTC),
    datetime(2026, 11, 1, 0, 0, tzinfo=UTC),
]


@dataclass(frozen=True)
class Rec:
    """One request, with only what analytics looks at; `raw()` is the record that is indexed."""

    id: str
    created: datetime
    duration_ms: int | None
    status: int | None
    model: str | None
    user_id: str | None
    app_id: str | None
    cost: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    metadata: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    method: str | None = None
    cached: bool = False
    streamed: bool = False
    text: str = ""

    def raw(self) -> RawRequest:
        updated = None if self.duration_ms is None else self.created + timedelta(milliseconds=self.duration_ms)
        return RawRequest.model_validate(
            {
                "id": self.id,
                "createdAt": self.created,
                "updatedAt": updated,
                "status": self.status,
                "model": self.model,
                "user_id": self.user_id,
                "app_id": self.app_id,
                "cost": self.cost,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "metadata": self.metadata or None,
                "url": self.url,
                "method": self.method,
                "cached": self.cached,
                "streamed": self.streamed,
                "completion": self.text or None,
            }
        )

    def document(self, tenant: str) -> RequestDocument:
        return RequestDocument.from_raw(self.raw(), tenant)

    def value(self, dimension: str) -> Any:
        """The request's value for a `groupBy` dimension (None: missing)."""
        if dimension.startswith("metadata."):
            return self.metadata.get(dimension.removeprefix("metadata."))
        if dimension == "status_class":
            return f"{self.status // 100}xx" if self.status is not None and 100 <= self.status <= 599 else None
        value: Any = getattr(self, dimension)
        return value


def _maybe(rng: random.Random, value: Any, none_share: float) -> Any:
    return None if rng.random() < none_share else value


def _random_rec(rng: random.Random, request_id: str, created: datetime, model: str | None) -> Rec:
    metadata: dict[str, str] = {}
    for key, choices in (("team.name", TEAMS), ("équipe", EQUIPES), ("env", ENVS)):
        chosen = rng.choice(choices)
        if chosen is not None:
            metadata[key] = chosen
    if rng.random() < 0.3:
        metadata["teamXname"] = "decoy"  # `team.name` read as a regular expression would match this key
    if rng.random() < 0.3:
        metadata["team"] = "core"  # a key that is a prefix of `team.name`
    return Rec(
        id=request_id,
        created=created,
        duration_ms=_maybe(rng, rng.randint(20, 9000), 0.12),
        status=rng.choice(STATUSES),
        model=model,
        user_id=rng.choice(USERS),
        app_id=rng.choice(APPS),
        cost=_maybe(rng, 0.0 if rng.random() < 0.05 else round(rng.uniform(0.0001, 0.08), 6), 0.1),
        prompt_tokens=_maybe(rng, rng.randint(0, 4000), 0.1),
        completion_tokens=_maybe(rng, rng.randint(0, 2000), 0.1),
        metadata=metadata,
        url=rng.choice(["https://api.openai.com/v1/chat/completions", "https://api.anthropic.com/v1/messages", None]),
        method=rng.choice(["POST", "POST", "GET"]),
        cached=rng.random() < 0.3,
        streamed=rng.random() < 0.5,
        text=rng.choice(WORDS),
    )


def _random_time(rng: random.Random, start: datetime, days: int) -> datetime:
    while True:
        moment = start + timedelta(seconds=rng.randrange(days * 86400), milliseconds=rng.randrange(1000))
        if moment.hour not in QUIET_HOURS:
            return moment


def tenant_a_records() -> list[Rec]:
    rng = random.Random(20260329)
    models = [model for model, count in MODEL_COUNTS.items() for _ in range(count)]
    rng.shuffle(models)
    times = list(MARCH_EDGES)
    while len(times) < len(models):
        times.append(_random_time(rng, MAIN_FROM, 4))
    records = [
        _random_rec(rng, f"m-{n:03d}", created, model)
        for n, (created, model) in enumerate(zip(times, models, strict=True))
    ]
    others = [*OUTSIDE_MAIN, *OCTOBER_EDGES, *SCATTERED]
    others += [_random_time(rng, datetime(2026, 10, 24, tzinfo=UTC), 3) for _ in range(14)]
    records += [
        _random_rec(rng, f"o-{n:03d}", created, rng.choice(list(MODEL_COUNTS))) for n, created in enumerate(others)
    ]
    return records


def tenant_b_records(a_records: Sequence[Rec], round_number: int) -> list[Rec]:
    """Tenant B logs the same ids, users and times as A, with other models, costs and statuses; each round changes
    them again and adds requests of its own at A's times."""
    rng = random.Random(round_number)
    changed = [
        replace(
            rec,
            model=f"b-model-{rng.randrange(3)}",
            cost=round(rng.uniform(0.5, 2.0), 6),
            status=rng.choice([200, 500]),
            prompt_tokens=rng.randint(10_000, 20_000),
            duration_ms=rng.randint(10_000, 20_000),
        )
        for rec in a_records
    ]
    extra = [replace(rec, id=f"b{round_number}-{rec.id}", user_id=f"b-user-{round_number}") for rec in a_records]
    return changed + (extra if round_number > 0 else [])


def recent_records(now: datetime) -> list[Rec]:
    """Minutes and days before `now`: three in the last hour (well inside it), the rest outside."""
    ago = [timedelta(minutes=5), timedelta(minutes=20), timedelta(minutes=45), timedelta(hours=2), timedelta(days=3)]
    ago.append(timedelta(days=8))
    return [
        Rec(f"r-{n}", now - delta, 100 * (n + 1), 200, "gpt-4o", f"user-{n}", "web", 0.01 * (n + 1), n, n)
        for n, delta in enumerate(ago)
    ]


CROWD_USERS = 2500
CROWD_DAY = datetime(2026, 5, 10, tzinfo=UTC)


def crowd_records() -> list[Rec]:
    """2,500 requests, each from a distinct user, over two days; every tenth user has a second request."""
    rng = random.Random(2500)
    records = []
    for n in range(CROWD_USERS):
        for repeat in range(2 if n % 10 == 0 else 1):
            created = CROWD_DAY + timedelta(seconds=rng.randrange(2 * 86400))
            records.append(
                Rec(f"c-{n:04d}-{repeat}", created, None, 200, "gpt-4o", f"crowd-user-{n:04d}", None, None, None, None)
            )
    return records


# --- the expected answer -------------------------------------------------------------------------------------------

ALL_METRICS = (
    "count",
    "cost",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost_avg",
    "duration_p50",
    "duration_p95",
    "duration_p99",
    "error_rate",
    "users",
)
PERCENTILES = {"duration_p50": 0.50, "duration_p95": 0.95, "duration_p99": 0.99}
CALENDAR = ("minute", "hour", "day", "week", "month")
AUTO_CANDIDATES = ("1m", "5m", "15m", "30m", "hour", "3h", "6h", "12h", "day", "week", "month")
MAX_AUTO_BUCKETS = 200


@dataclass(frozen=True)
class Samples:
    """The durations of a bucket, sorted: a percentile is checked against them with a tolerance."""

    values: tuple[int, ...]
    q: float


def _fixed_step(interval: str) -> timedelta:
    units = {"m": "minutes", "h": "hours", "d": "days"}
    return timedelta(**{units[interval[-1]]: int(interval[:-1])})


def bucket_start(moment: datetime, interval: str, zone: ZoneInfo) -> datetime:
    """The start of the bucket holding `moment`, in UTC (aware datetimes in one zoneinfo zone compare by wall
    time, which would make Berlin's two 02:00 hours of 2026-10-25 equal)."""
    local = moment.astimezone(zone)
    if interval == "minute":
        return local.replace(second=0, microsecond=0).astimezone(UTC)
    if interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    if interval in ("day", "week", "month"):
        day = local.date()
        if interval == "week":
            day -= timedelta(days=day.weekday())  # weeks start on Monday
        if interval == "month":
            day = day.replace(day=1)
        return _midnight(day, zone)
    # Fixed intervals are counted from the epoch in local time. Only used with zones of one offset (UTC, Tokyo):
    # the contract does not say where fixed buckets start across a DST change.
    step = _fixed_step(interval)
    offset = local.utcoffset() or timedelta(0)
    since_epoch = moment - EPOCH + offset
    return EPOCH + (since_epoch // step) * step - offset


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def next_start(start: datetime, interval: str, zone: ZoneInfo) -> datetime:
    """The start of the bucket after the one starting at `start` (UTC in, UTC out)."""
    if interval == "minute":
        return start + timedelta(minutes=1)
    if interval == "hour":
        return start + timedelta(hours=1)  # every zone here has whole-hour offsets
    local = start.astimezone(zone).date()
    if interval in ("day", "week"):
        return _midnight(local + timedelta(days=1 if interval == "day" else 7), zone)
    if interval == "month":
        return _midnight(date(local.year + local.month // 12, local.month % 12 + 1, 1), zone)
    return start + _fixed_step(interval)


def bucket_starts(start: datetime, end: datetime, interval: str, zone: ZoneInfo) -> list[datetime]:
    """One bucket per interval from the one holding `start` to the one holding `end` (UTC)."""
    starts = [bucket_start(start, interval, zone)]
    last = bucket_start(end, interval, zone)
    while starts[-1] < last:
        starts.append(next_start(starts[-1], interval, zone))
    assert starts[-1] == last, (interval, zone, starts[-2:], last)
    return starts


def auto_interval(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    for interval in AUTO_CANDIDATES:
        if len(bucket_starts(start, end, interval, zone)) <= MAX_AUTO_BUCKETS:
            return interval
    return "month"


def metric_values(records: Sequence[Rec], metrics: Sequence[str]) -> dict[str, Any]:
    costs = [r.cost for r in records if r.cost is not None]
    prompt = sum(r.prompt_tokens for r in records if r.prompt_tokens is not None)
    completion = sum(r.completion_tokens for r in records if r.completion_tokens is not None)
    durations = tuple(sorted(r.duration_ms for r in records if r.duration_ms is not None))
    failed = sum(1 for r in records if r.status is not None and r.status >= 400)
    every: dict[str, Any] = {
        "count": len(records),
        "cost": math.fsum(costs),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "cost_avg": math.fsum(costs) / len(costs) if costs else None,
        "error_rate": failed / len(records) if records else None,
        "users": len({r.user_id for r in records if r.user_id is not None}),
    }
    for name, q in PERCENTILES.items():
        every[name] = Samples(durations, q) if durations else None
    return {name: every[name] for name in metrics}


def rank_value(records: Sequence[Rec], metric: str) -> float:
    """What `top` ranks groups by: the first metric, with error_rate ranked by the number of failed requests."""
    if metric == "error_rate":
        return sum(1 for r in records if r.status is not None and r.status >= 400)
    if metric in PERCENTILES:
        raise ValueError("groups are not ranked by a percentile in these tests: the engine's value is approximate")
    value = metric_values(records, [metric])[metric]
    return -math.inf if value is None else float(value)


def key_order(key: tuple[Any, ...]) -> tuple[tuple[bool, Any], ...]:
    """Ascending by value, a missing value last."""
    return tuple((value is None, value if value is not None else 0) for value in key)


Key = tuple[Any, ...]


def _ranked(groups: dict[Key, list[Rec]], metric: str, top: int) -> list[Key]:
    """The best `top` keys; all of them, unranked, when there are no more than `top` (so a percentile, which is
    not ranked here, can be the first metric as long as nothing folds)."""
    if len(groups) <= top:
        return sorted(groups, key=key_order)
    return sorted(groups, key=lambda k: (-rank_value(groups[k], metric), key_order(k)))[:top]


def kept_groups(records: Sequence[Rec], group_by: Sequence[str], metric: str, top: int) -> list[Key]:
    """The keys `top` keeps, best first (before the series are put in order)."""
    groups: dict[Key, list[Rec]] = defaultdict(list)
    for rec in records:
        groups[tuple(rec.value(d) for d in group_by)].append(rec)
    if len(group_by) == 1:
        return _ranked(groups, metric, top)
    firsts: dict[Key, list[Rec]] = defaultdict(list)
    for rec in records:
        firsts[(rec.value(group_by[0]),)].append(rec)
    candidates: dict[Key, list[Rec]] = {}
    for (first,) in _ranked(firsts, metric, top):
        within = {k: v for k, v in groups.items() if k[0] == first}
        for k in _ranked(within, metric, top):
            candidates[k] = within[k]
    return _ranked(candidates, metric, top)


@dataclass
class Series:
    key: dict[str, Any]
    totals: dict[str, Any]
    buckets: list[dict[str, Any]]


@dataclass
class Expected:
    start: datetime
    end: datetime
    interval: str
    timezone: str
    metrics: list[str]
    group_by: list[str]
    totals: dict[str, Any]
    series: list[Series]
    ordered: bool  # whether the series order is determined (not when the first metric is approximate)


ORDERABLE = ("count", "cost", "prompt_tokens", "completion_tokens", "total_tokens", "users", "cost_avg")


def expected_answer(
    records: Iterable[Rec],
    *,
    start: datetime,
    end: datetime,
    interval: str,
    timezone: str = "UTC",
    group_by: Sequence[str] = (),
    metrics: Sequence[str] = ("count", "cost"),
    top: int = 10,
) -> Expected:
    zone = ZoneInfo(timezone)
    chosen = records_between(records, start, end)
    name = auto_interval(start, end, zone) if interval == "auto" else interval
    starts = bucket_starts(start, end, name, zone)

    def series_of(key: dict[str, Any], members: Sequence[Rec]) -> Series:
        by_bucket: dict[datetime, list[Rec]] = defaultdict(list)
        for rec in members:
            by_bucket[bucket_start(rec.created, name, zone)].append(rec)
        buckets = [{"start": s, **metric_values(by_bucket.get(s, []), metrics)} for s in starts]
        return Series(key, metric_values(members, metrics), buckets)

    if not group_by:
        series = [series_of({}, chosen)]
    else:
        kept = kept_groups(chosen, group_by, metrics[0], top)
        members: dict[Key, list[Rec]] = {k: [] for k in kept}
        folded: list[Rec] = []
        for rec in chosen:
            k = tuple(rec.value(d) for d in group_by)
            members.get(k, folded).append(rec)
        first = metrics[0]
        if first in ORDERABLE:
            kept = sorted(kept, key=lambda k: (-rank_value(members[k], first), key_order(k)))
        series = [series_of(dict(zip(group_by, k, strict=True)), members[k]) for k in kept]
        if folded:
            series.append(series_of(dict.fromkeys(group_by, OTHER), folded))
    return Expected(
        start=start,
        end=end,
        interval=name,
        timezone=timezone,
        metrics=list(metrics),
        group_by=list(group_by),
        totals=metric_values(chosen, metrics),
        series=series,
        ordered=metrics[0] in ORDERABLE,
    )


def records_between(records: Iterable[Rec], start: datetime, end: datetime) -> list[Rec]:
    return [r for r in records if start <= r.created <= end]


def matching(records: Iterable[Rec], predicate: Callable[[Rec], bool]) -> list[Rec]:
    return [r for r in records if predicate(r)]
