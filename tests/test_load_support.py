"""Helpers shared by the loader tests (no tests here): records, files, in-process and subprocess loads, the same
records through `POST /api/v1/ingest`, and reading back what the index holds."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch
from opensearchpy.helpers import async_scan

from core.templates import IndexNames, apply_templates, delete_all
from loaders.options import LoadOptions
from loaders.run import LoadResult, load
from loaders.sources.base import Source

REPO = Path(__file__).resolve().parent.parent


async def ingest(
    api: TestClient[web.Request, web.Application], key: str, records: list[dict[str, Any]]
) -> dict[str, Any]:
    response = await api.post(
        "/api/v1/ingest",
        data=orjson.dumps(records),
        params={"refresh": "wait_for"},
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert response.status == 200, await response.text()
    answer: dict[str, Any] = await response.json()
    return answer


def request(number: int, prefix: str = "req", **overrides: Any) -> dict[str, Any]:
    """A raw record as a log line holds it: chat body, x-metadata headers, a priced model."""
    record: dict[str, Any] = {
        "id": f"{prefix}-{number:06d}",
        "createdAt": f"2025-06-{1 + number % 28:02d}T10:00:{number % 60:02d}Z",
        "ip": f"10.0.{number % 250}.{1 + number % 200}",
        "url": "/v1/chat/completions",
        "method": "post",
        "status": 200,
        "cached": False,
        "streamed": number % 2 == 0,
        "user_id": f"user-{number % 7}",
        "model": "gpt-4o",
        "prompt_tokens": 1000 + number,
        "completion_tokens": 500,
        "request_headers": {
            "content-type": "application/json",
            "x-metadata-team": "search",
            "x-metadata-run": str(number),
        },
        "request_body": {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": f"question number {number} about lighthouses"}],
        },
        "response_body": {"choices": [{"message": {"content": f"answer {number}"}}]},
        "completion": f"answer {number}",
    }
    record.update(overrides)
    return record


def write_ndjson(path: Path, lines: Iterable[dict[str, Any] | str]) -> Path:
    """Records (dicts) or literal lines (str, written as they are) to NDJSON; gzip when the name ends in .gz."""
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def options(tmp_path: Path, **overrides: Any) -> LoadOptions:
    values: dict[str, Any] = {"state_dir": tmp_path / "state", "progress": "none", "backfill": "off"}
    values.update(overrides)
    return LoadOptions(**values)


async def run_load(
    source: Source, client: AsyncOpenSearch, names: IndexNames, tenant: str | None, opts: LoadOptions
) -> LoadResult:
    return await load(source, client=client, names=names, tenant=tenant, options=opts, log=lambda _line: None)


@asynccontextmanager
async def fresh_index(client: AsyncOpenSearch, label: str = "load") -> AsyncIterator[IndexNames]:
    """A prefix of its own, `test-<label>-...`, with templates applied; everything under it is removed afterwards."""
    names = IndexNames(prefix=f"test-{label}-{uuid.uuid4().hex[:10]}")
    await apply_templates(client, names)
    try:
        yield names
    finally:
        await delete_all(client, names)


async def documents(client: AsyncOpenSearch, names: IndexNames) -> dict[str, dict[str, Any]]:
    """Every document of the index by `_id` (refreshing first, since a load may have had refresh off)."""
    await client.indices.refresh(index=names.read_alias)
    found: dict[str, dict[str, Any]] = {}
    async for hit in async_scan(client, index=names.read_alias, query={"query": {"match_all": {}}}, size=1000):
        assert hit["_id"] not in found, f"{hit['_id']} is in the index twice"
        found[hit["_id"]] = hit["_source"]
    return found


async def count(client: AsyncOpenSearch, names: IndexNames) -> int:
    await client.indices.refresh(index=names.read_alias)
    response = await client.count(index=names.read_alias)
    return int(response["count"])


def dead_letters(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def cli_command(*args: str) -> list[str]:
    """`llmsearch load …` as a subprocess (`python -m cli.main`, which works from the repository root)."""
    return [sys.executable, "-m", "cli.main", "load", *args]


def cli_env(opensearch_url: str) -> dict[str, str]:
    return {**os.environ, "OPENSEARCH_URL": opensearch_url, "PYTHONUNBUFFERED": "1"}


def run_cli(opensearch_url: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(*args), cwd=REPO, env=cli_env(opensearch_url), capture_output=True, text=True, timeout=timeout
    )
