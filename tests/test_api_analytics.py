"""`GET /api/v1/analytics` end to end, through the real app and a real OpenSearch, against answers computed in plain
Python (tests/analytics_data.py) from the same hand-made requests: every series, every bucket, every metric.

How close a number must be:
- count, token sums and users: exactly equal, and JSON integers.
- cost and cost_avg: pytest.approx(rel=1e-9): the engine adds doubles in another order than math.fsum.
- error_rate: a ratio of two exact counts, pytest.approx(rel=1e-12).
- duration percentiles: OpenSearch's TDigest (compression 100). Measured on this engine (3.8) with 600 random sets:
  below 40 values every centroid is one sample and the answer is the sample at rank floor(q*n), which is always one
  of the two samples around Python's linear interpolation at (n-1)*q. We allow one neighbouring sample more on each
  side of that pair, so the test pins the bucket's samples, not TDigest's interpolation rule. From about 40 values
  on, TDigest merges samples into centroids and interpolates between them: we measured answers up to 3 ranks away
  at 40-59 values, 8 at 100-119 and 18 at 260-279 (about n/15), so there the allowance is ceil(n/10) ranks. Nearly every bucket here has under 40 durations;
  the larger sets are the whole-range totals.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from core.templates import IndexNames
from service.keys import KeyStore
from tests.analytics_data import (
    ALL_METRICS,
    CROWD_DAY,
    CROWD_USERS,
    MAIN_FROM,
    MAIN_TO,
    MODEL_COUNTS,
    OTHER,
    PERCENTILES,
    TENANT_A,
    TENANT_B,
    TENANT_CROWD,
    TENANT_RECENT,
    YEAR_FROM,
    YEAR_TO,
    Expected,
    Rec,
    Samples,
    crowd_records,
    expected_answer,
    recent_records,
    records_between,
    tenant_a_records,
    tenant_b_records,
)
from tests.dataset import index_documents

Api = TestClient[web.Request, web.Application]
URL = "/api/v1/analytics"
REQUESTS_URL = "/api/v1/requests"
A = tenant_a_records()
INTEGER_METRICS = ("count", "prompt_tokens", "completion_tokens", "total_tokens", "users")
ADDITIVE = ("count", "cost", "prompt_tokens", "completion_tokens", "total_tokens")
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class World:
    key_a: str
    key_b: str
    key_recent: str
    key_crowd: str
    recent: list[Rec]
    now: datetime


@pytest.fixture(scope="module")
async def world(client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore) -> World:
    now = datetime.now(UTC)
    recent = recent_records(now)
    documents = [r.document(TENANT_A) for r in A]
    documents += [r.document(TENANT_B) for r in tenant_b_records(A, 0)]
    documents += [r.document(TENANT_RECENT) for r in recent]
    documents += [r.document(TENANT_CROWD) for r in crowd_records()]
    await index_documents(client, index_names, documents)
    made = [(await keys.create(tenant))[0] for tenant in (TENANT_A, TENANT_B, TENANT_RECENT, TENANT_CROWD)]
    return World(made[0], made[1], made[2], made[3], recent, now)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def call(api: Api, key: str | None, params: dict[str, Any] | str) -> tuple[int, Any]:
    """The status and JSON body; `params` as a dict, or as a raw query string sent as is."""
    headers = {"Authorization": key} if key is not None else {}
    if isinstance(params, str):
        response = await api.get(f"{URL}?{params}", headers=headers)
    else:
        response = await api.get(URL, params={k: str(v) for k, v in params.items()}, headers=headers)
    assert response.content_type == "application/json", await response.text()
    return response.status, await response.json()


async def analytics(api: Api, key: str, **params: Any) -> dict[str, Any]:
    status, body = await call(api, key, params)
    assert status == 200, body
    assert isinstance(body, dict)
    return body


def params_of(
    start: datetime = MAIN_FROM,
    end: datetime = MAIN_TO,
    interval: str = "day",
    timezone: str = "UTC",
    group_by: Sequence[str] = (),
    metrics: Sequence[str] = ("count", "cost"),
    top: int = 10,
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "from": iso(start),
        "to": iso(end),
        "interval": interval,
        "timezone": timezone,
        "metrics": ",".join(metrics),
        "top": top,
    }
    if group_by:
        params["groupBy"] = ",".join(group_by)
    return params


# --- comparing an answer with the expected one ---------------------------------------------------------------------


def percentile_range(samples: Samples) -> tuple[float, float]:
    """What the engine may answer for a percentile of these samples (see the module docstring)."""
    values, n = samples.values, len(samples.values)
    position = (n - 1) * samples.q
    slack = 1 if n < 40 else math.ceil(n / 10)
    return values[max(math.floor(position) - slack, 0)], values[min(math.ceil(position) + slack, n - 1)]


def value_problem(metric: str, got: Any, want: Any) -> str | None:
    if metric in INTEGER_METRICS:
        ok = type(got) is int and got == want
    elif want is None:
        ok = got is None
    elif metric in PERCENTILES:
        low, high = percentile_range(want)
        ok = isinstance(got, int | float) and not isinstance(got, bool) and low <= got <= high
        want = f"{low}..{high} (of {len(want.values)} durations)"
    elif metric == "cost":
        ok = type(got) is float and got == pytest.approx(want, rel=1e-9)
    elif metric == "cost_avg":
        ok = isinstance(got, float) and got == pytest.approx(want, rel=1e-9)
    else:  # error_rate
        ok = isinstance(got, int | float) and not isinstance(got, bool) and got == pytest.approx(want, rel=1e-12)
    return None if ok else f"{metric}: got {got!r}, expected {want!r}"


def values_problems(where: str, got: dict[str, Any], want: dict[str, Any], metrics: Sequence[str]) -> list[str]:
    found = []
    if set(got) != set(metrics):
        found.append(f"{where}: has {sorted(got)}, expected the metrics {list(metrics)}")
    for metric in metrics:
        problem = value_problem(metric, got.get(metric), want[metric])
        if problem:
            found.append(f"{where}: {problem}")
    return found


def time_problem(where: str, text: Any, want: datetime, zone: ZoneInfo) -> str | None:
    if not isinstance(text, str) or not ISO.match(text):
        return f"{where}: {text!r} is not ISO 8601 with an offset"
    got = datetime.fromisoformat(text)
    offset = want.astimezone(zone).utcoffset()
    if got != want or got.utcoffset() != offset:
        return f"{where}: got {text}, expected {want.astimezone(zone).isoformat()}"
    if offset == timedelta(0) and zone.key == "UTC" and not text.endswith("Z"):
        return f"{where}: {text} should end in Z"
    return None


def problems(got: dict[str, Any], want: Expected) -> list[str]:
    """Every difference between an answer and the expected one, as readable lines."""
    zone = ZoneInfo(want.timezone)
    found: list[str] = []
    for name, value in (("interval", want.interval), ("timezone", want.timezone)):
        if got.get(name) != value:
            found.append(f"{name}: got {got.get(name)!r}, expected {value!r}")
    if got.get("metrics") != want.metrics:
        found.append(f"metrics: got {got.get('metrics')!r}, expected {want.metrics!r}")
    if got.get("groupBy") != want.group_by:
        found.append(f"groupBy: got {got.get('groupBy')!r}, expected {want.group_by!r}")
    for name, moment in (("from", want.start), ("to", want.end)):
        # The instant only: the offset they are written with has a test of its own.
        text = got.get(name)
        if not isinstance(text, str) or not ISO.match(text) or datetime.fromisoformat(text) != moment:
            found.append(f"{name}: got {text!r}, expected {moment.astimezone(zone).isoformat()}")
    found += values_problems("totals", got.get("totals") or {}, want.totals, want.metrics)
    got_series = got.get("series") or []
    got_keys = [s.get("key") for s in got_series]
    want_keys = [s.key for s in want.series]
    if want.ordered and got_keys != want_keys:
        found.append(f"series keys/order: got {got_keys}, expected {want_keys}")
    elif not want.ordered and (
        sorted(map(json.dumps, got_keys)) != sorted(map(json.dumps, want_keys))
        or (OTHER in json.dumps(want_keys) and got_keys and got_keys[-1] != want_keys[-1])
    ):
        found.append(f"series keys: got {got_keys}, expected {want_keys} (any order, {OTHER} last)")
    by_key = {json.dumps(s.get("key"), sort_keys=True): s for s in got_series}
    for series in want.series:
        label = json.dumps(series.key, ensure_ascii=False)
        got_one = by_key.get(json.dumps(series.key, sort_keys=True))
        if got_one is None:
            continue
        found += values_problems(f"{label} totals", got_one.get("totals") or {}, series.totals, want.metrics)
        buckets = got_one.get("buckets") or []
        if len(buckets) != len(series.buckets):
            starts = [b.get("start") for b in buckets]
            found.append(f"{label}: {len(buckets)} buckets {starts[:3]}..., expected {len(series.buckets)}")
            continue
        for got_bucket, want_bucket in zip(buckets, series.buckets, strict=True):
            where = f"{label} bucket {want_bucket['start'].isoformat()}"
            problem = time_problem(where, got_bucket.get("start"), want_bucket["start"], zone)
            if problem:
                found.append(problem)
            values = {k: v for k, v in got_bucket.items() if k != "start"}
            found += values_problems(where, values, want_bucket, want.metrics)
    return found


def assert_matches(got: dict[str, Any], want: Expected) -> None:
    found = problems(got, want)
    assert not found, f"{len(found)} differences:\n" + "\n".join(found[:25])


async def check(api: Api, key: str, records: Sequence[Rec] = A, **kwargs: Any) -> dict[str, Any]:
    """Ask with these parameters and compare with the answer computed from `records`."""
    kwargs = {"start": MAIN_FROM, "end": MAIN_TO, "interval": "day", **kwargs}
    answer = await analytics(api, key, **params_of(**kwargs))
    assert_matches(answer, expected_answer(records, **kwargs))
    return answer


# --- metrics, grouping, top ----------------------------------------------------------------------------------------


async def test_without_group_by_one_series_holds_every_metric(api: Api, world: World) -> None:
    answer = await check(api, world.key_a, interval="hour", metrics=ALL_METRICS)
    assert [s["key"] for s in answer["series"]] == [{}]
    assert len(answer["series"][0]["buckets"]) == 4 * 24 + 1  # `to` is 00:00 on the fifth day: its bucket too


async def test_defaults_and_echoed_parameters(api: Api, world: World) -> None:
    answer = await analytics(api, world.key_a, **{"from": iso(MAIN_FROM), "to": iso(MAIN_TO)})
    assert_matches(answer, expected_answer(A, start=MAIN_FROM, end=MAIN_TO, interval="auto"))
    assert (answer["metrics"], answer["groupBy"], answer["timezone"]) == (["count", "cost"], [], "UTC")
    assert answer["interval"] == "30m"  # 96 hours: 15m would be 385 buckets, 30m is 193
    assert (answer["from"], answer["to"]) == ("2026-03-27T00:00:00Z", "2026-03-31T00:00:00Z")


GROUP_DIMENSIONS = [
    "model",
    "user_id",
    "app_id",
    "status",
    "status_class",
    "url",
    "method",
    "cached",
    "streamed",
    "metadata.team.name",
    "metadata.équipe",
    "metadata.env",
    "metadata.team",
    "metadata.nowhere",
]


@pytest.mark.parametrize("dimension", GROUP_DIMENSIONS)
async def test_group_by_one_dimension(api: Api, world: World, dimension: str) -> None:
    await check(api, world.key_a, group_by=[dimension], metrics=["count", "cost", "users", "error_rate"], top=100)


async def test_keys_have_their_json_types(api: Api, world: World) -> None:
    status = await check(api, world.key_a, group_by=["status", "cached"], top=100, metrics=["count"])
    values = {(s["key"]["status"], s["key"]["cached"]) for s in status["series"]}
    assert values == {(r.status, r.cached) for r in in_main()}
    assert (None, False) in values and (0, False) in values
    assert all(type(k) is int or k is None for k, _ in values) and all(type(c) is bool for _, c in values)


async def test_metadata_keys_with_dots_and_unicode_are_exact_keys(api: Api, world: World) -> None:
    team = await check(api, world.key_a, group_by=["metadata.team.name"], top=100, metrics=["count"])
    # `teamXname` (a regular-expression reading of the dot) and `team` (a prefix) hold other values.
    assert {s["key"]["metadata.team.name"] for s in team["series"]} == {"alpha", "beta", "gamma", "δέλτα", None}
    env = await check(api, world.key_a, group_by=["metadata.env"], top=100, metrics=["count"])
    assert {s["key"]["metadata.env"] for s in env["series"]} == {"prod", "dev", "a=b", None}
    nowhere = await check(api, world.key_a, group_by=["metadata.nowhere"], top=100, metrics=["count"])
    assert [s["key"] for s in nowhere["series"]] == [{"metadata.nowhere": None}]


@pytest.mark.parametrize("metric", ALL_METRICS)
async def test_each_metric_first_ranks_and_folds(api: Api, world: World, metric: str) -> None:
    # Groups are not ranked by a percentile here (the engine's value is approximate): then all are kept.
    top = 100 if metric in PERCENTILES else 3
    metrics = [metric] if metric == "count" else [metric, "count"]
    answer = await check(api, world.key_a, group_by=["model"], metrics=metrics, top=top, timezone="Asia/Tokyo")
    assert (answer["series"][-1]["key"] == {"model": OTHER}) == (top == 3)


def in_main(records: Sequence[Rec] = A) -> list[Rec]:
    return records_between(records, MAIN_FROM, MAIN_TO)


async def test_top_keeps_the_largest_with_ties_by_key_and_null_last(api: Api, world: World) -> None:
    counts = {m: sum(1 for r in in_main() if r.model == m) for m in MODEL_COUNTS}
    assert counts == MODEL_COUNTS  # the data's ties: claude-3-5 = o3-mini = no model; llama-3 = mistral
    keys = [
        [
            s["key"]["model"]
            for s in (await check(api, world.key_a, group_by=["model"], top=top, metrics=["count"]))["series"]
        ]
        for top in (2, 3, 4, 6, 8)
    ]
    assert keys == [
        ["gpt-4o", "claude-3-5", OTHER],
        ["gpt-4o", "claude-3-5", "o3-mini", OTHER],
        ["gpt-4o", "claude-3-5", "o3-mini", None, OTHER],
        ["gpt-4o", "claude-3-5", "o3-mini", None, "llama-3", "mistral", OTHER],
        ["gpt-4o", "claude-3-5", "o3-mini", None, "llama-3", "mistral", "gemini", "qwen"],  # nothing folded
    ]


async def test_top_one_folds_everything_else(api: Api, world: World) -> None:
    answer = await check(api, world.key_a, group_by=["user_id"], top=1, metrics=["cost", "count", "users"])
    assert len(answer["series"]) == 2 and answer["series"][1]["key"] == {"user_id": OTHER}


TWO_DIMENSIONS = [
    (["model", "status_class"], ["count", "cost"], 5),
    (["model", "status_class"], ["count"], 100),
    (["app_id", "metadata.équipe"], ["cost", "count", "total_tokens"], 4),
    (["metadata.team.name", "user_id"], ["users", "count"], 3),
    (["status", "model"], ["error_rate", "count", "duration_p95"], 6),
    (["cached", "streamed"], ["total_tokens", "prompt_tokens", "completion_tokens", "cost_avg"], 2),
    (["user_id", "metadata.env"], ["count", *ALL_METRICS[1:]], 7),
]


@pytest.mark.parametrize(("group_by", "metrics", "top"), TWO_DIMENSIONS, ids=lambda v: str(v))
async def test_group_by_two_dimensions(
    api: Api, world: World, group_by: list[str], metrics: list[str], top: int
) -> None:
    answer = await check(api, world.key_a, group_by=group_by, metrics=metrics, top=top, interval="12h")
    assert all(list(s["key"]) == group_by for s in answer["series"])


async def test_two_dimensions_choose_candidates_within_the_top_first_values(api: Api, world: World) -> None:
    # The top 2 models, within each its top 2 status classes; of those 4 pairs the top 2. A pair of a third model
    # never competes, however large.
    answer = await check(api, world.key_a, group_by=["model", "status_class"], top=2, metrics=["count"])
    assert {s["key"]["model"] for s in answer["series"][:-1]} <= {"gpt-4o", "claude-3-5"}


@pytest.mark.parametrize(
    ("group_by", "top"), [([], 10), (["model"], 2), (["model", "user_id"], 3), (["metadata.équipe"], 1)]
)
async def test_series_and_buckets_add_up_to_the_totals(api: Api, world: World, group_by: list[str], top: int) -> None:
    metrics = ["cost", "count", "prompt_tokens", "completion_tokens", "total_tokens"]
    answer = await check(api, world.key_a, group_by=group_by, metrics=metrics, top=top, interval="6h")
    for metric in ADDITIVE:
        overall = answer["totals"][metric]
        assert sum(s["totals"][metric] for s in answer["series"]) == pytest.approx(overall, rel=1e-9)
        for series in answer["series"]:
            assert sum(b[metric] for b in series["buckets"]) == pytest.approx(series["totals"][metric], rel=1e-9)
    assert answer["totals"]["count"] == len(in_main())


async def test_empty_buckets_are_zeros(api: Api, world: World) -> None:
    answer = await check(api, world.key_a, interval="hour", metrics=ALL_METRICS, group_by=["model"], top=3)
    zero = {
        "count": 0,
        "cost": 0.0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
        "cost_avg": None,
        "duration_p50": None,
        "duration_p95": None,
        "duration_p99": None,
        "error_rate": None,
        "users": 0,
    }
    empty = 0
    for series in answer["series"]:
        for bucket in series["buckets"]:
            if bucket["count"] == 0:
                empty += 1
                assert {k: v for k, v in bucket.items() if k != "start"} == zero
                assert type(bucket["cost"]) is float
    # Quiet hours (03:00-06:00 UTC) are empty in every series; most hours are empty in some series.
    assert empty > 4 * 3 * len(answer["series"])


async def test_groups_without_requests_in_the_range_never_appear(api: Api, world: World) -> None:
    # 2026-03-28 10:00 UTC: only the two requests logged at that very instant.
    at = datetime(2026, 3, 28, 10, tzinfo=UTC)
    answer = await check(api, world.key_a, start=at, end=at, interval="minute", group_by=["model"], top=100)
    assert 1 <= len(answer["series"]) <= 2 and answer["totals"]["count"] == 2


# --- time: bounds, zones, intervals -----------------------------------------------------------------------------


async def test_bounds_are_inclusive_to_the_millisecond(api: Api, world: World) -> None:
    assert (A[0].created, A[12].created) == (MAIN_FROM, MAIN_TO)
    await check(api, world.key_a, interval="day", metrics=["count"])
    edges = await analytics(
        api,
        world.key_a,
        **params_of(interval="day", metrics=["count"]),
        filter=json.dumps({"id": [A[0].id, A[12].id]}),
    )
    assert edges["totals"]["count"] == 2
    assert [b["count"] for b in edges["series"][0]["buckets"]] == [1, 0, 0, 0, 1]
    # One millisecond less on either side drops them.
    narrower = await check(
        api, world.key_a, start=MAIN_FROM + timedelta(milliseconds=1), end=MAIN_TO - timedelta(milliseconds=1)
    )
    assert narrower["totals"]["count"] == len(in_main()) - 2


@pytest.mark.parametrize(
    ("timezone", "start", "end"),
    [
        ("Asia/Tokyo", "2026-03-27T09:00:00+09:00", "2026-03-31T09:00:00+09:00"),
        ("Europe/Berlin", "2026-03-27T01:00:00+01:00", "2026-03-31T02:00:00+02:00"),
        ("UTC", "2026-03-27T00:00:00Z", "2026-03-31T00:00:00Z"),
    ],
)
async def test_resolved_bounds_carry_the_time_zone_offset(
    api: Api, world: World, timezone: str, start: str, end: str
) -> None:
    # Asked in UTC; answered with the offset `timezone` has at each bound ("Z" for UTC), like the bucket starts.
    answer = await analytics(api, world.key_a, **params_of(timezone=timezone))
    assert (answer["from"], answer["to"]) == (start, end)


async def test_tokyo_days_take_23_30_utc_into_the_next_day(api: Api, world: World) -> None:
    answer = await check(api, world.key_a, timezone="Asia/Tokyo", metrics=["count", "cost", "duration_p50"])
    starts = [b["start"] for b in answer["series"][0]["buckets"]]
    # From 2026-03-27 09:00 Tokyo (00:00 UTC) to 03-31 09:00: five local days.
    assert starts == [f"2026-03-{d}T00:00:00+09:00" for d in range(27, 32)]
    utc = await check(api, world.key_a, metrics=["count", "cost", "duration_p50"])
    assert [b["count"] for b in answer["series"][0]["buckets"]] != [b["count"] for b in utc["series"][0]["buckets"]]


async def test_berlin_spring_forward_day_has_23_hours(api: Api, world: World) -> None:
    # Naive bounds are read in the time zone: local midnight of 03-27 to local midnight of 03-31.
    start, end = datetime(2026, 3, 27, tzinfo=BERLIN), datetime(2026, 3, 31, tzinfo=BERLIN)
    params = {**params_of(timezone="Europe/Berlin"), "from": "2026-03-27T00:00:00", "to": "2026-03-31T00:00:00"}
    answer = await analytics(api, world.key_a, **params)
    assert_matches(answer, expected_answer(A, start=start, end=end, interval="day", timezone="Europe/Berlin"))
    starts = [datetime.fromisoformat(b["start"]) for b in answer["series"][0]["buckets"]]
    assert [(b - a) / timedelta(hours=1) for a, b in itertools.pairwise(starts)] == [24, 24, 23, 24]
    assert answer["series"][0]["buckets"][2]["start"] == "2026-03-29T00:00:00+01:00"
    assert answer["series"][0]["buckets"][3]["start"] == "2026-03-30T00:00:00+02:00"
    hours = await check(
        api,
        world.key_a,
        start=datetime(2026, 3, 29, tzinfo=BERLIN),
        end=datetime(2026, 3, 29, 23, 59, 59, tzinfo=BERLIN),
        interval="hour",
        timezone="Europe/Berlin",
        metrics=["count", "users"],
    )
    assert len(hours["series"][0]["buckets"]) == 23


async def test_berlin_fall_back_day_has_25_hours(api: Api, world: World) -> None:
    start, end = datetime(2026, 10, 24, tzinfo=BERLIN), datetime(2026, 10, 26, 23, 59, 59, tzinfo=BERLIN)
    answer = await check(api, world.key_a, start=start, end=end, timezone="Europe/Berlin", metrics=ALL_METRICS)
    starts = [datetime.fromisoformat(b["start"]) for b in answer["series"][0]["buckets"]]
    assert [(b - a) / timedelta(hours=1) for a, b in itertools.pairwise(starts)] == [24, 25]
    hours = await check(
        api,
        world.key_a,
        start=datetime(2026, 10, 25, tzinfo=BERLIN),
        end=datetime(2026, 10, 25, 23, 59, 59, tzinfo=BERLIN),
        interval="hour",
        timezone="Europe/Berlin",
        metrics=["count", "cost"],
    )
    starts_text = [b["start"] for b in hours["series"][0]["buckets"]]
    assert len(starts_text) == 25
    assert starts_text[2:4] == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"]


INTERVAL_CASES = [
    # (from, to, interval, timezone). Fixed sub-day intervals only in zones of one offset: where such buckets start
    # across a DST change is not in the contract.
    (datetime(2026, 3, 28, 10, tzinfo=UTC), datetime(2026, 3, 28, 11, tzinfo=UTC), "minute", "UTC"),
    (datetime(2026, 3, 28, 10, tzinfo=UTC), datetime(2026, 3, 28, 11, tzinfo=UTC), "5m", "UTC"),
    (MAIN_FROM, MAIN_TO, "15m", "UTC"),
    (MAIN_FROM, MAIN_TO, "1h", "UTC"),
    (MAIN_FROM, MAIN_TO, "hour", "Asia/Tokyo"),
    (MAIN_FROM, MAIN_TO, "6h", "Asia/Tokyo"),
    (MAIN_FROM, MAIN_TO, "2d", "UTC"),
    (datetime(2026, 3, 1, tzinfo=BERLIN), datetime(2026, 3, 31, 23, 59, 59, tzinfo=BERLIN), "week", "Europe/Berlin"),
    (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC), "month", "UTC"),
    (datetime(2026, 1, 1, tzinfo=TOKYO), datetime(2026, 11, 1, tzinfo=TOKYO), "month", "Asia/Tokyo"),
    (datetime(2026, 3, 28, 10, tzinfo=UTC), datetime(2026, 3, 28, 11, tzinfo=UTC), "auto", "UTC"),  # 1m
    (datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 29, 23, 59, tzinfo=UTC), "auto", "UTC"),  # 15m
    (datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC), "auto", "Asia/Tokyo"),  # 3h
    (MAIN_FROM - timedelta(days=30), MAIN_FROM + timedelta(days=120), "auto", "Asia/Tokyo"),  # day
    (YEAR_FROM, YEAR_TO, "auto", "UTC"),  # week
]


@pytest.mark.parametrize(("start", "end", "interval", "timezone"), INTERVAL_CASES, ids=lambda v: str(v))
async def test_intervals(api: Api, world: World, start: datetime, end: datetime, interval: str, timezone: str) -> None:
    answer = await check(
        api, world.key_a, start=start, end=end, interval=interval, timezone=timezone, metrics=["count", "cost"]
    )
    if interval == "auto":
        assert len(answer["series"][0]["buckets"]) <= 200


async def test_auto_picks_the_smallest_interval_within_200_buckets(api: Api, world: World) -> None:
    chosen = []
    for start, end, interval, timezone in INTERVAL_CASES:
        if interval == "auto":
            answer = await analytics(api, world.key_a, **params_of(start, end, interval, timezone))
            chosen.append(answer["interval"])
    assert chosen == ["1m", "15m", "3h", "day", "week"]


async def test_relative_times(api: Api, world: World) -> None:
    last_hour = await analytics(api, world.key_recent, **{"from": "now-1h", "to": "now", "metrics": "count,users"})
    assert last_hour["totals"] == {"count": 3, "users": 3}
    assert abs(datetime.fromisoformat(last_hour["to"]) - datetime.now(UTC)) < timedelta(minutes=2)
    span = datetime.fromisoformat(last_hour["to"]) - datetime.fromisoformat(last_hour["from"])
    assert span == timedelta(hours=1)
    default = await analytics(api, world.key_recent)  # now-7d to now
    assert default["totals"]["count"] == 5
    assert default["totals"]["cost"] == pytest.approx(0.01 + 0.02 + 0.03 + 0.04 + 0.05, rel=1e-9)
    before = datetime.now(TOKYO)
    rounded = await analytics(api, world.key_recent, **{"from": "now-1d/d", "timezone": "Asia/Tokyo"})
    after = datetime.now(TOKYO)
    midnights = {datetime.combine((t - timedelta(days=1)).date(), datetime.min.time(), TOKYO) for t in (before, after)}
    assert datetime.fromisoformat(rounded["from"]) in midnights
    assert rounded["from"].endswith("+09:00")


# --- selection: search, filter, user_id, app_id -----------------------------------------------------------------------

SELECTIONS: list[tuple[dict[str, str], Callable[[Rec], bool]]] = [
    ({"search": "lighthouse"}, lambda r: "lighthouse" in r.text),
    ({"search": '"refund policy"'}, lambda r: "refund policy" in r.text),
    ({"search": "policy -refund"}, lambda r: "policy" in r.text and "refund" not in r.text),
    ({"filter": '{"model": "gpt-4o"}'}, lambda r: r.model == "gpt-4o"),
    ({"filter": '{"status": {"gte": 400}}'}, lambda r: r.status is not None and r.status >= 400),
    ({"filter": '{"metadata.env": "prod"}'}, lambda r: r.metadata.get("env") == "prod"),
    (
        {"filter": '{"combinator": "and", "rules": [{"field": "model", "operator": "null", "value": ""}]}'},
        lambda r: r.model is None,
    ),
    ({"user_id": "émile"}, lambda r: r.user_id == "émile"),
    ({"app_id": "web", "filter": '{"cached": true}'}, lambda r: r.app_id == "web" and r.cached),
    (
        {"search": "policy", "user_id": "ann", "filter": '{"cost": {"gt": 0.02}}'},
        lambda r: "policy" in r.text and r.user_id == "ann" and r.cost is not None and r.cost > 0.02,
    ),
]


@pytest.mark.parametrize(("selection", "predicate"), SELECTIONS, ids=lambda v: str(v)[:40])
async def test_selection_narrows_like_the_request_list(
    api: Api, world: World, selection: dict[str, str], predicate: Callable[[Rec], bool]
) -> None:
    chosen = [r for r in A if predicate(r)]
    assert chosen  # the data has some
    answer = await analytics(
        api,
        world.key_a,
        **params_of(YEAR_FROM, YEAR_TO, "month", metrics=["count", "cost", "users"], group_by=["model"]),
        **selection,
    )
    want = expected_answer(
        chosen, start=YEAR_FROM, end=YEAR_TO, interval="month", metrics=["count", "cost", "users"], group_by=["model"]
    )
    assert_matches(answer, want)
    listed = await api.get(REQUESTS_URL, params={**selection, "pageSize": "1"}, headers={"Authorization": world.key_a})
    assert listed.status == 200
    assert answer["totals"]["count"] == (await listed.json())["totalCount"] == len(chosen)


async def test_users_is_exact_below_3000(api: Api, world: World) -> None:
    crowd = crowd_records()
    answer = await check(
        api,
        world.key_crowd,
        crowd,
        start=CROWD_DAY,
        end=CROWD_DAY + timedelta(days=2),
        interval="6h",
        metrics=["users", "count"],
    )
    assert answer["totals"] == {"users": CROWD_USERS, "count": CROWD_USERS + CROWD_USERS // 10}


# --- tenants --------------------------------------------------------------------------------------------------------

ISOLATION_QUERIES: list[dict[str, Any]] = [
    {"metrics": ALL_METRICS, "interval": "hour"},
    {"metrics": ["cost", "count", "users"], "group_by": ["user_id"], "top": 3},
    {"metrics": ["count", "duration_p99"], "group_by": ["model", "status_class"], "top": 4, "timezone": "Asia/Tokyo"},
]


async def test_tenant_a_does_not_move_when_tenant_b_changes(
    api: Api, world: World, client: AsyncOpenSearch, index_names: IndexNames
) -> None:
    before = [await check(api, world.key_a, **query) for query in ISOLATION_QUERIES]
    b_before = await check(api, world.key_b, tenant_b_records(A, 0), **ISOLATION_QUERIES[0])
    # B changes its requests (same ids as A's) and adds more at A's times, from A's users' ids and its own.
    await index_documents(client, index_names, [r.document(TENANT_B) for r in tenant_b_records(A, 1)])
    b_after = await check(api, world.key_b, tenant_b_records(A, 1), **ISOLATION_QUERIES[0])
    assert b_after["totals"] != b_before["totals"]
    after = [await check(api, world.key_a, **query) for query in ISOLATION_QUERIES]
    assert after == before


# --- errors ---------------------------------------------------------------------------------------------------------

MAIN = {"from": iso(MAIN_FROM), "to": iso(MAIN_TO)}
BAD = [
    ({"metrics": "count,bogus"}, "metrics"),
    ({"metrics": "count,cost,count"}, "metrics"),
    ({"groupBy": "model,user_id,app_id"}, "groupBy"),
    ({"groupBy": "bogus"}, "groupBy"),
    ({"groupBy": "tenant_id"}, "groupBy"),
    ({"groupBy": "metadata.a=b"}, "groupBy"),
    ({"top": "0"}, "top"),
    ({"top": "101"}, "top"),
    ({"top": "ten"}, "top"),
    ({"from": iso(MAIN_TO), "to": iso(MAIN_FROM)}, "to"),
    ({"from": "yesterday"}, "from"),
    ({"to": "2026-13-01"}, "to"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"from": "2016-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "interval": "minute"}, "interval"),
    ({"interval": "fortnight"}, "interval"),
    ({"interval": "0m"}, "interval"),
    ({"filter": '{"model": '}, "filter"),
    ({"filter": '{"nosuchfield": 1}'}, "filter"),
    ({"pageSize": "10"}, "pageSize"),
    ({"sortBy": "cost"}, "sortBy"),
    ({"bogus": "1"}, "bogus"),
]


@pytest.mark.parametrize(("params", "name"), BAD, ids=lambda v: str(v)[:50])
async def test_bad_parameters_are_400_naming_them(api: Api, world: World, params: dict[str, str], name: str) -> None:
    status, body = await call(api, world.key_a, {**MAIN, **params})
    assert status == 400 and body["error"].startswith(f"{name}:"), body


@pytest.mark.parametrize("name", ["metrics", "from", "groupBy", "top"])
async def test_a_repeated_parameter_is_400(api: Api, world: World, name: str) -> None:
    value = {"metrics": "count", "from": "now-1h", "groupBy": "model", "top": "5"}[name]
    status, body = await call(api, world.key_a, f"{name}={value}&{name}={value}")
    assert status == 400 and body["error"].startswith(f"{name}:"), body


@pytest.mark.parametrize(
    ("key", "message"),
    [(None, "You must be logged in or provide an API key."), ("lrs_nope", "Invalid API key.")],
)
async def test_the_key_is_required(api: Api, world: World, key: str | None, message: str) -> None:
    assert await call(api, key, MAIN) == (401, {"error": message})


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_other_methods_are_405(api: Api, world: World, method: str) -> None:
    for headers in ({}, {"Authorization": world.key_a}):
        response = await api.request(method, URL, headers=headers)
        assert response.status == 405
        assert await response.json() == {"error": "Method not allowed"}
        assert response.headers["Allow"] == "GET, HEAD"
