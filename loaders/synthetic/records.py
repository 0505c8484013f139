"""One raw record: who sent what when, through which app, and how it went."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from loaders.synthetic.bodies import ENDPOINTS
from loaders.synthetic.constants import (
    BATCH_PRICED_RATE,
    CACHED_RATE,
    METADATA_RATE,
    MODEL_LISTING_RATE,
    RARE_PHRASE_RATE,
    REFERENCE_TIME,
    STREAMED_RATE,
    WINDOW_DAYS,
)
from loaders.synthetic.draw import between, uniform, zipf
from loaders.synthetic.record import Record
from loaders.synthetic.traffic import App

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_REFERENCE_MS = int((REFERENCE_TIME - _EPOCH).total_seconds() * 1000)
_DAY_MS = 86_400_000


def build(r: Record, seed: int, number: int) -> dict[str, Any]:
    rng = r.rng
    app = r.pools.apps.pick(rng)
    created_ms = _created_ms(rng)
    out: dict[str, Any] = {
        "id": f"req_{seed}_{number:09d}",
        "createdAt": _iso(created_ms),
        "updatedAt": None,
        "ip": None,
        "url": None,
        "method": "POST",
        "status": 200,
        "cached": False,
        "streamed": False,
        "user_id": None,
        "app_id": app.name if rng.random() > 0.02 else None,
        "completion": None,
        "model": None,
        "openai_id": None,
        "prompt_tokens": None,
        "completion_tokens": None,
        "request_headers": None,
        "request_body": None,
        "response_headers": None,
        "response_body": None,
        "streamed_response_body": None,
        "cost": None,
    }
    _identify(r, app, out)
    out["request_headers"] = _request_headers(r, app)
    listing = rng.random() < MODEL_LISTING_RATE
    latency_ms = _list_models(r, out) if listing else _exchange(r, app, out, created_ms // 1000)
    out["updatedAt"] = _iso(created_ms + latency_ms)
    out["response_headers"] = _response_headers(r, out, latency_ms)
    return out


def _created_ms(rng: random.Random) -> int:
    # More traffic in recent days (a growing product) and in working hours (a peak at 14:00 UTC).
    days_ago = int(WINDOW_DAYS * (1.0 - rng.random() ** 0.5))
    second_of_day = rng.triangular(0, 86_400, 50_400)
    return _REFERENCE_MS - (days_ago + 1) * _DAY_MS + int(second_of_day * 1000)


def _iso(epoch_ms: int) -> str:
    return (_EPOCH + timedelta(milliseconds=epoch_ms)).isoformat(timespec="milliseconds")[:-6] + "Z"


def _identify(r: Record, app: App, out: dict[str, Any]) -> None:
    rng = r.rng
    pools = r.pools
    if rng.random() >= app.anonymous_rate:
        r.user = zipf(rng, pools.users)
        out["user_id"] = r.user.id
    if app.name == "data-pipeline":
        out["ip"] = uniform(rng, pools.internal_ips)
    elif r.user is not None and rng.random() < 0.9:
        out["ip"] = r.user.ip
    else:
        out["ip"] = uniform(rng, pools.ips)


def _request_headers(r: Record, app: App) -> dict[str, str]:
    rng = r.rng
    headers = {"content-type": "application/json", "user-agent": app.user_agent}
    if rng.random() >= METADATA_RATE:
        return headers
    headers["x-metadata-env"] = r.pools.environments.pick(rng)
    if rng.random() < 0.9:
        headers["x-metadata-feature"] = uniform(rng, app.features)
    if rng.random() < 0.7:
        headers["x-metadata-team"] = app.team
    if r.user is not None and rng.random() < 0.6:
        headers["x-metadata-customer_tier"] = r.user.tier
    if rng.random() < 0.3:
        headers["x-metadata-session_id"] = f"sess_{rng.getrandbits(40):010x}"
    if rng.random() < 0.25:
        headers["x-metadata-prompt_version"] = f"v{between(rng, 1, 9)}"
    return headers


def _response_headers(r: Record, out: dict[str, Any], latency_ms: int) -> dict[str, str]:
    headers = {
        "content-type": "text/event-stream" if out["streamed"] else "application/json",
        "openai-processing-ms": str(latency_ms),
        "x-request-id": f"req_{r.rng.getrandbits(128):032x}",
    }
    if out["cached"]:
        headers["x-cache"] = "HIT"
    return headers


def _list_models(r: Record, out: dict[str, Any]) -> int:
    out["method"] = "GET"
    out["url"] = "/v1/models"
    out["response_body"] = r.pools.model_listing
    return 120


def _exchange(r: Record, app: App, out: dict[str, Any], created: int) -> int:
    """Fills in the request and its outcome; returns the latency in milliseconds."""
    rng = r.rng
    pools = r.pools
    endpoint = pools.app_endpoints[app.name].pick(rng)
    r.language = pools.languages.pick(rng)
    if r.language.bank.task is not None:
        r.task = r.language.bank.task
    else:
        r.task = pools.app_tasks[app.name].pick(rng)
    r.rare = rng.random() < RARE_PHRASE_RATE
    status = pools.errors.pick(rng)
    streamed = endpoint != "embeddings" and rng.random() < STREAMED_RATE
    fill_in = ENDPOINTS[endpoint]
    if status:
        fill_in(r, out, created, False)
        return _failure(r, status, out)
    out["streamed"] = streamed
    out["cached"] = rng.random() < CACHED_RATE
    fill_in(r, out, created, streamed)
    _explicit_cost(r, out)
    return _latency(r, out)


def _failure(r: Record, status: int, out: dict[str, Any]) -> int:
    """Turns a built exchange into the API's error: the request as sent, no completion, usage or provider id."""
    out["status"] = status
    out["completion"] = None
    out["openai_id"] = None
    out["prompt_tokens"] = None
    out["completion_tokens"] = None
    out["streamed_response_body"] = None
    body = uniform(r.rng, r.pools.traffic.error_bodies[status])
    out["response_body"] = body.replace("%s", out["model"]) if "%s" in body else body
    return between(r.rng, 20, 400) if status < 500 else between(r.rng, 1_000, 30_000)


def _explicit_cost(r: Record, out: dict[str, Any]) -> None:
    # Most records leave cost to the loader's pricing; a proxy's cache hits are free and batch jobs half price.
    if out["cached"]:
        out["cost"] = 0.0
    elif r.rng.random() < BATCH_PRICED_RATE:
        listed = r.pools.pricing.price(out["model"], out["prompt_tokens"], out["completion_tokens"])
        out["cost"] = None if listed is None else round(listed / 2, 8)


def _latency(r: Record, out: dict[str, Any]) -> int:
    rng = r.rng
    if out["cached"]:
        return between(rng, 5, 40)
    per_token_ms = 25 if out["model"] in r.pools.traffic.reasoning_models else 12
    generated = out["completion_tokens"] or 0
    return 150 + int(generated * per_token_ms * (0.5 + rng.random()))
