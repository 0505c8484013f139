"""Known requests for the page's tests, dated relative to now so every time range has some, with the payloads a
page must show as text: markup, template syntax, right-to-left overrides and zero-width characters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core.documents import RawRequest, RequestDocument

TENANT = "page-acme"
OTHER_TENANT = "page-globex"  # same words; the page must never show its requests
COUNT = 48

SCRIPT = "<script>window.__xss = 'script'</script>"
IMG = "<img src=x onerror=\"window.__xss = 'img'\">"
TEMPLATE = "{{constructor.constructor('window.__xss = \"template\"')()}}"
RTL = "\u202eevil\u202c"
ZERO_WIDTH = "zero\u200bwidth"
PAYLOADS = (SCRIPT, IMG, TEMPLATE, RTL, ZERO_WIDTH)

MODELS = ["gpt-4o", "gpt-4o", "claude-3-5", "o3-mini"]
USERS = ["alice", "bob", "carol", "dana", IMG]
APPS = ["web", "batch", "mobile"]
STATUSES = [200, 200, 200, 201, 429, 500]
WORDS = ["lighthouse keeper", "refund policy", "weather report", "quarterly numbers", "lighthouse lamp", "policy draft"]
# One id needs percent-encoding in a path (and has a non-ASCII letter).
ODD_ID = "req/ü-47"


def hours_ago(i: int) -> float:
    """Three requests in the last hour, nine more in the last day, eighteen more in the last week, the rest in the
    last 30 days."""
    if i < 3:
        return (5 + 15 * i) / 60
    if i < 12:
        return 2 + 2 * (i - 3)
    if i < 30:
        return 26 + 8 * (i - 12)
    return 24 * (8 + (i - 30))


@dataclass(frozen=True)
class Known:
    """One request as the tests reason about it."""

    id: str
    created: datetime
    model: str
    user_id: str
    app_id: str
    status: int
    cost: float
    prompt: str
    completion: str


def known(now: datetime) -> list[Known]:
    out = []
    for i in range(COUNT):
        prompt = f"{WORDS[i % len(WORDS)]} question {i}"
        completion = f"Answer {i}: {PAYLOADS[i % len(PAYLOADS)]} about {WORDS[(i + 1) % len(WORDS)]}"
        if i % 8 == 0:
            prompt = f"{SCRIPT} {prompt}"
        out.append(
            Known(
                id=ODD_ID if i == COUNT - 1 else f"req-{i:03d}",
                created=(now - timedelta(hours=hours_ago(i))).replace(microsecond=0),
                model=MODELS[i % len(MODELS)],
                user_id=USERS[i % len(USERS)],
                app_id=APPS[i % len(APPS)],
                status=STATUSES[i % len(STATUSES)],
                cost=round(0.001 + ((i * 37) % 50) / 1000, 4),
                prompt=prompt,
                completion=completion,
            )
        )
    return out


def raw(request: Known, i: int) -> RawRequest:
    body = {"model": request.model, "messages": [{"role": "user", "content": request.prompt}]}
    response = {"id": f"chatcmpl-{i}", "choices": [{"message": {"role": "assistant", "content": request.completion}}]}
    fields: dict[str, Any] = {
        "id": request.id,
        "createdAt": request.created,
        "updatedAt": request.created + timedelta(milliseconds=250 + 10 * i),
        "ip": f"203.0.113.{i + 1}",
        "url": "https://api.openai.com/v1/chat/completions",
        "method": "POST",
        "status": request.status,
        "streamed": i % 7 == 0,
        "user_id": request.user_id,
        "app_id": request.app_id,
        "model": request.model,
        "openai_id": f"chatcmpl-{i}",
        "prompt_tokens": 10 + i,
        "completion_tokens": 20 + 2 * i,
        "cost": request.cost,
        "completion": request.completion,
        "request_body": body,
        "response_body": response,
        "metadata": {"env": "prod" if i % 2 else "dev", "team": IMG if i % 5 == 0 else f"team-{i % 3}"},
    }
    if i % 7 == 0:
        fields["streamed_response_body"] = f'data: {{"delta": "{RTL}"}}\n\ndata: [DONE]'
    return RawRequest.model_validate(fields)


def documents(now: datetime) -> list[RequestDocument]:
    ours = [RequestDocument.from_raw(raw(request, i), TENANT) for i, request in enumerate(known(now))]
    theirs = [RequestDocument.from_raw(raw(request, i), OTHER_TENANT) for i, request in enumerate(known(now)[:5])]
    return ours + theirs


def count(now: datetime, where: Callable[[Known], bool] = lambda _: True, hours: float | None = None) -> int:
    since = None if hours is None else now - timedelta(hours=hours)
    return sum(1 for r in known(now) if where(r) and (since is None or r.created >= since))


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
