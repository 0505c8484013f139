"""Requests for the export tests (no tests here): values a CSV and a spreadsheet find hard, missing values for
every sortable field, and bulk requests; plus reading a tenant's documents back for round-trip comparisons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.helpers import async_scan

from core.documents import RequestDocument
from core.fields import TENANT_FIELD
from core.templates import IndexNames
from tests.dataset import BASE, make_raw

# Cell starts a spreadsheet runs as formulas, the escape's own quote, and what CSV itself must quote.
TRICKY_TEXTS = [
    "=1+1",
    "-2 minus",
    "+3 plus",
    "@SUM(A1:A2)",
    "\tstarts with a tab",
    "\rstarts with a carriage return",
    "'quoted already",
    "'=quote then formula",
    "''",
    "'",
    "a, b, and c",
    'say "hi", twice ""',
    "line one\nline two\r\nline three\rend",
    "東京の天気 ü é 🙂 שלום",
    '=HYPERLINK("http://evil.example","click")',
    "plain text",
]


def tricky_documents(tenant: str) -> list[RequestDocument]:
    """One request per tricky text, the text in every kind of string field, with nulls and odd timestamps."""
    documents = []
    for n, text in enumerate(TRICKY_TEXTS):
        overrides: dict[str, Any] = {
            "id": f"{text[:1] if n < 9 else ''}tricky-{n:02d}",
            "app_id": "tricky",
            "completion": text,
            "user_id": text,
            "model": text if n % 2 else "gpt-4o",
            "url": text,
            "method": text,
            "openai_id": text,
            "request_body": {"messages": [{"role": "user", "content": text}]},
            "response_body": text,  # not JSON: stored and exported as the text it is
            "streamed_response_body": None if n % 3 else f"data: {text}",
            "metadata": {"note": text, "n": n, "flag": n % 2 == 0},
        }
        if n % 4 == 0:
            overrides.update(ip=None, status=None, cost=None, prompt_tokens=None, completion_tokens=None)
        if n % 4 == 1:
            overrides["updatedAt"] = None  # no updatedAt: duration_ms null, updatedAt = createdAt
        if n % 4 == 2:
            overrides["updatedAt"] = BASE + timedelta(minutes=7 * (n + 200))  # equal to createdAt: duration 0
        if n % 4 == 3:
            overrides["updatedAt"] = BASE  # before createdAt: duration_ms null
        documents.append(RequestDocument.from_raw(make_raw(n + 200, **overrides), tenant))
    return documents


def varied_documents(tenant: str, count: int = 60) -> list[RequestDocument]:
    """Requests where every sortable field is missing in some (sorted last either way) and tied in others."""
    documents = []
    for n in range(count):
        overrides: dict[str, Any] = {"id": f"varied-{n:03d}", "app_id": "varied"}
        if n % 5 == 0:
            overrides.update(ip=None, url=None, status=None, user_id=None, model=None, cost=None)
        if n % 7 == 0:
            overrides.update(prompt_tokens=None, completion_tokens=None, updatedAt=None, method=None)
        documents.append(RequestDocument.from_raw(make_raw(n, **overrides), tenant))
    return documents


def bulk_documents(tenant: str, count: int, app_id: str, body_chars: int, start: int = 0) -> list[RequestDocument]:
    """Many requests with a completion of `body_chars` characters (varied, so nothing compresses away)."""
    documents = []
    for n in range(start, start + count):
        text = (f"{app_id} answer {n} " * (body_chars // 12 + 1))[:body_chars]
        overrides = {
            "id": f"{app_id}-{n:06d}",
            "app_id": app_id,
            "completion": text,
            "createdAt": BASE + timedelta(seconds=n),
        }
        overrides["updatedAt"] = overrides["createdAt"]
        documents.append(RequestDocument.from_raw(make_raw(n % 500, **overrides), tenant))
    return documents


async def tenant_sources(client: AsyncOpenSearch, names: IndexNames, tenant: str) -> dict[str, dict[str, Any]]:
    """Every document of `tenant` by request id, without the tenant (to compare across tenants)."""
    await client.indices.refresh(index=names.read_alias)
    found: dict[str, dict[str, Any]] = {}
    query = {"query": {"term": {TENANT_FIELD: tenant}}}
    async for hit in async_scan(client, index=names.read_alias, query=query, size=1000):
        source = dict(hit["_source"])
        del source[TENANT_FIELD]
        assert source["id"] not in found, f"{source['id']} is in the index twice"
        found[source["id"]] = source
    return found
