"""Loading the original system's PostgreSQL `"Request"` table (Prisma schema) from a real PostgreSQL server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from opensearchpy import AsyncOpenSearch
from psycopg.types.json import Jsonb

from core.documents import document_id
from core.pricing import PricingTable
from loaders.sources.base import Position, SourceSize
from loaders.sources.postgres import PostgresSource
from localnode.postgres import postgres_server
from tests.test_load_support import dead_letters, documents, fresh_index, options, run_cli, run_load

# The table as Prisma migrations create it (quoted camelCase columns, text ids, timestamp(3) without zone).
PRISMA_REQUEST_TABLE = """
CREATE TABLE {schema}."Request" (
    "id" TEXT NOT NULL,
    "userId" TEXT,
    "openai_id" TEXT,
    "ip" TEXT,
    "url" TEXT,
    "method" TEXT,
    "status" INTEGER,
    "cached" BOOLEAN NOT NULL DEFAULT false,
    "streamed" BOOLEAN NOT NULL DEFAULT false,
    "user_id" TEXT,
    "app_id" TEXT,
    "model" TEXT,
    "prompt_tokens" INTEGER,
    "completion_tokens" INTEGER,
    "request_headers" JSONB,
    "request_body" JSONB,
    "response_headers" JSONB,
    "response_body" JSONB,
    "streamed_response_body" TEXT,
    "completion" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "Request_pkey" PRIMARY KEY ("id")
)
"""


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    with postgres_server() as dsn:
        yield dsn


@pytest.fixture
def request_table(postgres_dsn: str) -> Iterator[str]:
    """A schema of the test's own holding an empty `"Request"` table; yields the schema name."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
        connection.execute(PRISMA_REQUEST_TABLE.format(schema=f'"{schema}"'))
    yield schema
    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def row(number: int, user: str | None, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": f"clx{number:08d}",
        "userId": user,
        "openai_id": f"chatcmpl-{number}",
        "ip": "203.0.113.7",
        "url": "https://api.openai.com/v1/chat/completions",
        "method": "POST",
        "status": 200,
        "cached": number % 3 == 0,
        "streamed": False,
        "user_id": f"end-user-{number % 4}",
        "app_id": None,
        "model": "gpt-4o-mini",
        "prompt_tokens": 120,
        "completion_tokens": 30,
        "request_headers": Jsonb(
            {"content-type": "application/json", "x-metadata-env": "prod", "x-metadata-n": number}
        ),
        "request_body": Jsonb(
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"postgres question {number}"}]}
        ),
        "response_headers": Jsonb({"openai-processing-ms": "321"}),
        "response_body": Jsonb({"choices": [{"message": {"content": f"postgres answer {number}"}}]}),
        "streamed_response_body": None,
        "completion": f"postgres answer {number}",
        "createdAt": datetime(2024, 3, 1, 12, 0, number % 60),
        "updatedAt": datetime(2024, 3, 1, 12, 1, number % 60),
    }
    values.update(overrides)
    return values


def insert(dsn: str, schema: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    names = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join(["%s"] * len(columns))
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.executemany(
            f'INSERT INTO "{schema}"."Request" ({names}) VALUES ({marks})', [[r[c] for c in columns] for r in rows]
        )


async def test_userid_is_the_tenant_and_headers_become_metadata(
    client: AsyncOpenSearch, postgres_dsn: str, request_table: str, tmp_path: Path
) -> None:
    rows = [row(n, "user-alpha" if n % 2 else "user-beta") for n in range(1, 21)]
    rows.append(row(99, None))  # neither --tenant nor "userId": rejected with a reason
    insert(postgres_dsn, request_table, rows)
    source = PostgresSource(postgres_dsn, schema=request_table, fetch_rows=7)  # several server-side fetches
    assert source.size(None) is not None and source.size(None).total == 21  # type: ignore[union-attr]
    dead = tmp_path / "dead.ndjson"
    async with fresh_index(client) as names:
        result = await run_load(source, client, names, None, options(tmp_path, dead_letter_path=dead))
        assert (result.counts.created, result.counts.rejected) == (20, 1)
        found = await documents(client, names)
        assert len(found) == 20
        tenants = {doc["tenant_id"] for doc in found.values()}
        assert tenants == {"user-alpha", "user-beta"}
        doc = found[document_id("user-alpha", "clx00000003")]
        assert doc["metadata"] == {"env": "prod", "n": "3"}
        assert doc["prompt"] == "postgres question 3"
        assert doc["cached"] is True
        assert doc["createdAt"].startswith("2024-03-01T12:00:03")
        assert doc["cost"] == PricingTable.default().price("gpt-4o-mini", 120, 30)
        assert json.loads(doc["response_body"])["choices"][0]["message"]["content"] == "postgres answer 3"
    (letter,) = dead_letters(dead)
    assert letter["position"] == {"kind": "key", "value": "clx00000099", "offset": None}
    assert letter["stage"] == "tenant" and "userId" in letter["reason"]


async def test_tenant_option_overrides_userid(
    client: AsyncOpenSearch, opensearch_url: str, postgres_dsn: str, request_table: str, tmp_path: Path
) -> None:
    insert(postgres_dsn, request_table, [row(n, "user-alpha" if n % 2 else None) for n in range(1, 11)])
    async with fresh_index(client) as names:
        args = [postgres_dsn, "--schema", request_table, "--tenant", "imported", "--index-prefix", names.prefix]
        args += ["--state-dir", str(tmp_path), "--progress", "none", "--json"]
        done = run_cli(opensearch_url, *args)  # the format comes from the postgresql:// DSN
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["counts"]["created"] == 10
        found = await documents(client, names)
        assert {doc["tenant_id"] for doc in found.values()} == {"imported"}
        assert set(found) == {document_id("imported", f"clx{n:08d}") for n in range(1, 11)}

        rerun = await run_load(
            PostgresSource(postgres_dsn, schema=request_table), client, names, "imported", options(tmp_path)
        )
        assert (rerun.counts.created, rerun.counts.updated) == (0, 10)

    # A resume reads only the rows after the checkpoint's key: the cursor runs in primary-key order.
    source = PostgresSource(postgres_dsn, schema=request_table)
    after = Position("key", "clx00000005")
    assert [record.position.value for record in source.records(after)] == [f"clx{n:08d}" for n in range(6, 11)]
    assert source.size(after) == SourceSize(total=5, unit="records")
