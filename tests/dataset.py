"""A small, fully known set of requests for two tenants that share ids, users, models and words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.helpers import async_bulk

from core.documents import RawRequest, RequestDocument
from core.templates import IndexNames

BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TENANT_A = "acme"
TENANT_B = "globex"

MODELS = ["gpt-4o", "gpt-4o-mini", "gpt-3.5-turbo", "o3-mini"]
USERS = ["alice", "bob", "carol"]
APPS = ["web", "batch"]
WORDS = [
    "lighthouse keeper",
    "discount code SPRING25",
    "refund policy",
    "quarterly report",
    "東京の天気",
    "weather in Paris",
]


def chat_body(model: str, text: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]}


def make_raw(i: int, **overrides: Any) -> RawRequest:
    """Request number i; every sortable field is set and varies, with deliberate ties (cached, method, model)."""
    model = MODELS[i % len(MODELS)]
    text = WORDS[i % len(WORDS)]
    fields: dict[str, Any] = {
        "id": f"req-{i:03d}",
        "createdAt": BASE + timedelta(minutes=7 * i),
        "updatedAt": BASE + timedelta(minutes=7 * i, seconds=(i * 37) % 50),
        "ip": f"10.0.{i % 3}.{(i * 13) % 250 + 1}" if i % 4 else f"2001:db8::{i:x}",
        "url": f"https://api.openai.com/v1/{'chat/completions' if i % 5 else 'completions'}",
        "method": "POST" if i % 6 else "GET",
        "status": [200, 200, 201, 400, 429, 500][i % 6],
        "cached": i % 3 == 0,
        "streamed": i % 2 == 0,
        "user_id": USERS[i % len(USERS)],
        "app_id": APPS[i % len(APPS)],
        "completion": f"Answer {i} about {text}",
        "model": model,
        "openai_id": f"chatcmpl-{i:04d}",
        "prompt_tokens": (i * 17) % 101,
        "completion_tokens": (i * 29) % 97,
        "request_body": chat_body(model, f"Tell me about {text}"),
        "response_body": {"id": f"chatcmpl-{i:04d}", "choices": [{"message": {"content": f"Answer {i}"}}]},
        "request_headers": {"x-metadata-env": "prod" if i % 2 else "staging", "x-metadata-team": f"t{i % 3}"},
        "cost": round(((i * 7919) % 1000) / 10000, 4),
    }
    fields.update(overrides)
    return RawRequest.model_validate(fields)


def tenant_documents(tenant: str, count: int = 12) -> list[RequestDocument]:
    return [RequestDocument.from_raw(make_raw(i), tenant) for i in range(count)]


async def index_documents(client: AsyncOpenSearch, names: IndexNames, documents: list[RequestDocument]) -> None:
    actions = (
        {"_op_type": "index", "_index": names.write_alias, "_id": d.doc_id, "_source": d.source()} for d in documents
    )
    await async_bulk(client, actions, chunk_size=2000)
    await client.indices.refresh(index=names.read_alias)
