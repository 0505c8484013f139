"""PostgreSQL for the baselines: a server, the `"Request"` table loaded with the same synthetic records the
OpenSearch side indexes (COPY), the naive and tuned index sets, and the figures the report shows (sizes, version).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import subprocess
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench import pgschema
from core.pricing import PricingTable
from loaders import synthetic

META_TABLE = "bench_meta"
SETTINGS_SHOWN = (
    "shared_buffers",
    "work_mem",
    "maintenance_work_mem",
    "effective_cache_size",
    "random_page_cost",
    "max_parallel_workers_per_gather",
    "jit",
)


@contextlib.contextmanager
def server(dsn: str | None, settings: dict[str, str], log: Any = print) -> Iterator[str]:
    """`dsn` when given (used as it is configured); else a throwaway server from the Debian binaries
    (localnode.postgres), given `settings` (a restart, for shared_buffers) and removed afterwards."""
    if dsn:
        yield dsn
        return
    from localnode.postgres import postgres_server

    with postgres_server() as throwaway:
        if settings and not os.environ.get("POSTGRES_DSN"):
            configure(throwaway, settings, log)
        yield throwaway


def configure(dsn: str, settings: dict[str, str], log: Any = print) -> None:
    """ALTER SYSTEM the settings and restart the throwaway server (pg_ctl reuses its start options)."""
    from localnode.postgres import SERVER_USER, find_binaries

    with connect(dsn) as connection:
        for name, value in settings.items():
            connection.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
        row = connection.execute("SHOW data_directory").fetchone()
    data = Path(str(row[0])) if row else None
    if data is None:
        return
    _initdb, pg_ctl = find_binaries()
    user = pwd.getpwnam(SERVER_USER) if os.geteuid() == 0 else None
    command = [str(pg_ctl), "-D", str(data), "-l", str(data.parent / "server.log"), "-m", "fast", "-w", "restart"]
    completed = subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        user=user.pw_uid if user else None,
        group=user.pw_gid if user else None,
        extra_groups=[] if user else None,
        cwd="/",
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"restarting PostgreSQL with {settings} failed: {completed.stderr}")
    log(f"PostgreSQL: restarted with {', '.join(f'{k}={v}' for k, v in settings.items())}")


def connect(dsn: str) -> psycopg.Connection[Any]:
    """A connection whose unqualified names resolve in the benchmark's own schema first."""
    return psycopg.connect(dsn, autocommit=True, options=f"-c search_path={pgschema.SEARCH_PATH}")


def row_of(record: dict[str, Any], tenant: str, pricing: PricingTable) -> tuple[Any, ...]:
    """A synthetic record as a `"Request"` row; the cost is filled in the way the loader does (loaders.prepare)."""
    values: list[Any] = []
    for column in pgschema.COPY_COLUMNS:
        if column == "userId":
            values.append(tenant)
        elif column == "cost":
            cost = record.get("cost")
            if cost is None:
                cost = pricing.price(record.get("model"), record.get("prompt_tokens"), record.get("completion_tokens"))
            values.append(cost)
        elif column in pgschema.JSONB_COLUMNS:
            values.append(_json_text(record.get(column)))
        elif column == "streamed_response_body":
            value = record.get(column)
            values.append(value if value is None or isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        elif column == "updatedAt":
            values.append(record.get("updatedAt") or record["createdAt"])
        else:
            values.append(record.get(column))
    return tuple(values)


def _json_text(value: Any) -> str | None:
    """JSON text for a jsonb column: bodies that are JSON text go in as they are, other text as a JSON string."""
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.lstrip()
        if stripped.startswith(("{", "[")):
            return value
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


def loaded(connection: psycopg.Connection[Any], docs: int, seed: int, tenant: str) -> bool:
    exists = connection.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{pgschema.SCHEMA}.{META_TABLE}",)).fetchone()
    if not exists or not exists[0]:
        return False
    row = connection.execute(f"SELECT docs, seed, tenant FROM {META_TABLE}").fetchone()
    return row == (docs, seed, tenant)


def load(dsn: str, docs: int, seed: int, tenant: str, reuse: bool, log: Any = print) -> dict[str, Any]:
    """The table with `docs` records of `seed`, naive indexes only; reused when it already holds exactly that."""
    with connect(dsn) as connection:
        if reuse and loaded(connection, docs, seed, tenant):
            drop_tuned(connection)
            log(f"PostgreSQL: reusing the loaded table ({docs:,} rows, seed {seed})")
            return {"reused": True}
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {pgschema.SCHEMA}")
        connection.execute(f'DROP TABLE IF EXISTS "Request", {META_TABLE}')
        connection.execute(pgschema.TABLE_DDL)
        pricing = PricingTable.default()
        started = time.perf_counter()
        copy_rows(connection, (row_of(r, tenant, pricing) for r in synthetic.generate(docs, seed=seed)))
        copied = time.perf_counter() - started
        index_started = time.perf_counter()
        for statement in pgschema.NAIVE_INDEXES:
            connection.execute(statement)
        indexed = time.perf_counter() - index_started
        connection.execute('VACUUM (ANALYZE) "Request"')
        connection.execute(f"CREATE TABLE {META_TABLE} (docs bigint, seed bigint, tenant text)")
        connection.execute(f"INSERT INTO {META_TABLE} VALUES (%s, %s, %s)", (docs, seed, tenant))
    log(f"PostgreSQL: copied {docs:,} rows in {copied:.1f}s, naive indexes in {indexed:.1f}s")
    return {"reused": False, "copy_seconds": round(copied, 2), "naive_index_seconds": round(indexed, 2)}


def copy_rows(connection: psycopg.Connection[Any], rows: Iterable[tuple[Any, ...]]) -> None:
    columns = ", ".join(pgschema.quote(c) for c in pgschema.COPY_COLUMNS)
    with connection.cursor() as cursor, cursor.copy(f'COPY "Request" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)


def apply_tuned(dsn: str, log: Any = print) -> dict[str, float]:
    """Build the tuned indexes (timed one by one) and refresh the statistics the planner uses for them."""
    seconds: dict[str, float] = {}
    with connect(dsn) as connection:
        connection.execute("SET maintenance_work_mem = '1GB'")
        for statement in pgschema.TUNED_SETUP:
            connection.execute(statement)
        for name, statement in pgschema.TUNED_INDEXES.items():
            started = time.perf_counter()
            connection.execute(statement)
            seconds[name] = round(time.perf_counter() - started, 2)
            log(f"PostgreSQL: built {name} in {seconds[name]:.1f}s")
        connection.execute('ANALYZE "Request"')
    return seconds


def drop_tuned(connection: psycopg.Connection[Any]) -> None:
    for name in pgschema.TUNED_INDEXES:
        connection.execute(f'DROP INDEX IF EXISTS "{name}"')


def sizes(dsn: str) -> dict[str, Any]:
    with connect(dsn) as connection:
        table = connection.execute("SELECT pg_table_size('\"Request\"')").fetchone()
        indexes = connection.execute(
            "SELECT c.relname, pg_relation_size(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = '\"Request\"'::regclass ORDER BY c.relname"
        ).fetchall()
        rows = connection.execute('SELECT count(*) FROM "Request"').fetchone()
    index_bytes = {str(name): int(size) for name, size in indexes}
    naive_names = {"Request_pkey", "Request_userId_idx"}
    return {
        "rows": int(rows[0]) if rows else 0,
        "table_bytes": int(table[0]) if table else 0,
        "index_bytes": index_bytes,
        "naive_index_bytes": sum(v for k, v in index_bytes.items() if k in naive_names),
        "tuned_index_bytes": sum(index_bytes.values()),
    }


def describe(dsn: str) -> dict[str, Any]:
    with connect(dsn) as connection:
        version = connection.execute("SHOW server_version").fetchone()
        settings = {name: connection.execute(f"SHOW {name}").fetchone() for name in SETTINGS_SHOWN}
    return {
        "version": str(version[0]) if version else None,
        "settings": {name: str(value[0]) for name, value in settings.items() if value},
    }


def explain(dsn: str, sql: str, params: dict[str, Any]) -> str:
    """The plan PostgreSQL picks (no ANALYZE: the report shows which indexes serve which query)."""
    with connect(dsn) as connection:
        rows = connection.execute(f"EXPLAIN (COSTS OFF) {sql}", params).fetchall()
    return "\n".join(str(r[0]) for r in rows)
