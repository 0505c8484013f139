"""The load generator: a closed-loop client, run as its own process (`python -m bench.loadgen SPEC OUT`).

Every timed request of the benchmark goes through here, whatever answers it: the service's HTTP API, the same search
sent straight to OpenSearch, or PostgreSQL, so each side pays the same client cost. A run is a list of steps; each
step sends one target's request from `concurrency` workers, each worker issuing its next request as soon as the
previous one is answered, until the step's request count or time budget is spent. Steps that name the same cell
(the harness splits cells into interleaved rounds) are pooled into one summary.

A step first sends `warmup` requests (not timed); the first warm-up answer of a cell is parsed for its total count
and first-page ids, so the report can show that every side answered the same question. Timed requests read the
whole answer but do not parse it.

HTTP cells also count answers by status and measure answer sizes (`statuses`, `answered_p50_ms`/`answered_p99_ms`
over every answer whatever its status, `body_bytes_mean`/`wire_bytes_mean` over the 2xx ones): a side whose answers
are all refusals still has a latency, and a compressed answer's size on the wire differs from what it decodes to.
A target's `headers` are sent as given, so `{"Accept-Encoding": "gzip"}` asks for compression; the answer is then
decompressed, which its timing includes, as it would a client's.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import psycopg
from psycopg.types.string import TextLoader

from bench.stats import Sample, percentile, summarize

HTTP_TIMEOUT_SECONDS = 120.0
KEEPALIVE_SECONDS = 600.0
FIRST_IDS = 5


@dataclass(frozen=True, slots=True)
class HttpSample(Sample):
    """A sample that got an HTTP answer: its status, its body as read (decompressed) and its Content-Length (the
    bytes on the wire; None when the answer was chunked)."""

    status: int = 0
    body_bytes: int = 0
    wire_bytes: int | None = None


@dataclass(frozen=True)
class Answer:
    total: int | None
    ids: list[str]


@dataclass
class Cell:
    target: str
    concurrency: int
    samples: list[Sample] = field(default_factory=list)
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    rounds: int = 0
    answer: Answer | None = None
    first_error: str | None = None


Call = Callable[[int, bool], Awaitable[tuple[Sample, Answer | None, str | None]]]


class Target(Protocol):
    async def call(self, worker: int, parse: bool) -> tuple[Sample, Answer | None, str | None]: ...


def python_target(spec: dict[str, Any], session: aiohttp.ClientSession) -> Target:
    """A target made by `spec["factory"]` (`module:function`, called with the spec and the HTTP session): for sides
    that are not one HTTP request or one SQL pair (ClickHouse in-process, the service's own aggregation code sent
    straight to OpenSearch). Its `close()`, if it has one, is awaited at the end."""
    module_name, function_name = spec["factory"].split(":")
    factory = getattr(importlib.import_module(module_name), function_name)
    made: Target = factory(spec, session)
    return made


def parse_http_answer(kind: str, body: bytes) -> Answer:
    data = json.loads(body)
    if kind == "service":
        return Answer(int(data["totalCount"]), [str(r["id"]) for r in data["requests"][:FIRST_IDS]])
    if kind == "analytics":  # GET /api/v1/analytics: the total count (when asked for) and the first series' keys
        count = data["totals"].get("count")
        keys = [json.dumps(s["key"], ensure_ascii=False, sort_keys=True) for s in data["series"][:FIRST_IDS]]
        return Answer(None if count is None else int(count), keys)
    hits = data["hits"]
    # filter_path leaves out `hits.hits` when a page is empty.
    return Answer(int(hits["total"]["value"]), [str(h["_source"]["id"]) for h in hits.get("hits", [])[:FIRST_IDS]])


class HttpTarget:
    def __init__(self, spec: dict[str, Any], session: aiohttp.ClientSession) -> None:
        self.method: str = spec["method"]
        self.url: str = spec["url"]
        self.headers: dict[str, str] = spec.get("headers", {})
        self.body: bytes | None = spec["body"].encode() if spec.get("body") is not None else None
        self.answer_kind: str = spec["answer"]
        self.session = session

    async def call(self, worker: int, parse: bool) -> tuple[Sample, Answer | None, str | None]:
        start = time.perf_counter()
        try:
            async with self.session.request(self.method, self.url, headers=self.headers, data=self.body) as response:
                body = await response.read()
                status = response.status
                wire_bytes = response.content_length
        except TimeoutError:
            return Sample(time.perf_counter() - start, ok=False, timed_out=True), None, "timeout"
        except aiohttp.ClientError as error:
            return Sample(time.perf_counter() - start, ok=False), None, f"{type(error).__name__}: {error}"
        elapsed = time.perf_counter() - start
        sample = HttpSample(elapsed, ok=status == 200, status=status, body_bytes=len(body), wire_bytes=wire_bytes)
        if status != 200:
            return sample, None, f"HTTP {status}: {body[:300].decode(errors='replace')}"
        answer = parse_http_answer(self.answer_kind, body) if parse else None
        return sample, answer, None


class PostgresPool:
    """One connection per worker, opened on first use and kept for the run (as an application's pool would)."""

    def __init__(self, dsn: str, setup: list[str]) -> None:
        self.dsn = dsn
        self.setup = setup
        self.connections: dict[int, psycopg.AsyncConnection[Any]] = {}

    async def get(self, worker: int) -> psycopg.AsyncConnection[Any]:
        connection = self.connections.get(worker)
        if connection is None or connection.closed or connection.broken:
            connection = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
            # Bodies arrive as text, not parsed: the HTTP sides are not parsed either.
            for name in ("json", "jsonb"):
                connection.adapters.register_loader(name, TextLoader)
            for statement in self.setup:
                await connection.execute(statement)
            self.connections[worker] = connection
        return connection

    async def close(self) -> None:
        for connection in self.connections.values():
            await connection.close()


class PostgresTarget:
    """A count statement then a page statement, as the original did (Prisma's `count` and `findMany`)."""

    def __init__(self, spec: dict[str, Any], pool: PostgresPool) -> None:
        self.count_sql: str = spec["count_sql"]
        self.page_sql: str = spec["page_sql"]
        self.params: dict[str, Any] = spec["params"]
        self.pool = pool

    async def call(self, worker: int, parse: bool) -> tuple[Sample, Answer | None, str | None]:
        sample, results, error = await timed_statements(
            self.pool, worker, [(self.count_sql, self.params), (self.page_sql, self.params)]
        )
        if results is None:
            return sample, None, error
        answer = None
        if parse:
            count_rows, rows = results
            answer = Answer(int(count_rows[0][0]) if count_rows else None, [str(r[0]) for r in rows[:FIRST_IDS]])
        return sample, answer, None


async def timed_statements(
    pool: PostgresPool, worker: int, statements: list[tuple[str, dict[str, Any]]]
) -> tuple[Sample, list[list[Any]] | None, str | None]:
    """Run `statements` in turn on `worker`'s connection: the sample, every statement's rows (None when one failed)
    and the failure (a statement timeout is a timed-out sample)."""
    start = time.perf_counter()
    results: list[list[Any]] = []
    try:
        connection = await pool.get(worker)
        for sql, params in statements:
            cursor = await connection.execute(sql, params)
            results.append(await cursor.fetchall())
    except psycopg.errors.QueryCanceled:
        return Sample(time.perf_counter() - start, ok=False, timed_out=True), None, "statement timeout"
    except psycopg.Error as error:
        return Sample(time.perf_counter() - start, ok=False), None, f"{type(error).__name__}: {error}"
    return Sample(time.perf_counter() - start, ok=True), results, None


async def run_step(step: dict[str, Any], call: Call, cell: Cell) -> None:
    concurrency = int(step["concurrency"])
    warmup = int(step.get("warmup", 0))
    parse_first = False
    if cell.answer is None and warmup > 0:
        _sample, answer, error = await call(0, True)
        warmup -= 1
        cell.answer = answer
        if error and cell.first_error is None:
            cell.first_error = error
    elif cell.answer is None:
        parse_first = True  # no warm-up (slow PostgreSQL): a timed answer is parsed, which is only a count and ids
    await _closed_loop(call, concurrency, warmup, None, None)
    samples: list[Sample] = []
    deadline = time.perf_counter() + float(step["max_seconds"]) if step.get("max_seconds") else None
    cpu_before = time.process_time()
    started = time.perf_counter()
    errors = await _closed_loop(
        call, concurrency, int(step["requests"]), deadline, samples, cell if parse_first else None
    )
    cell.wall_seconds += time.perf_counter() - started
    cell.cpu_seconds += time.process_time() - cpu_before
    cell.samples.extend(samples)
    cell.rounds += 1
    if errors and cell.first_error is None:
        cell.first_error = errors[0]


async def _closed_loop(
    call: Call,
    concurrency: int,
    requests: int,
    deadline: float | None,
    samples: list[Sample] | None,
    answer_to: Cell | None = None,
) -> list[str]:
    """`requests` calls from `concurrency` workers; past the deadline a worker that has sent one stops.

    With `answer_to`, answers are parsed into that cell until one arrives (a timed-out first call leaves it open)."""
    issued = 0
    errors: list[str] = []

    async def worker(index: int) -> None:
        nonlocal issued
        mine = 0
        while issued < requests:
            if deadline is not None and mine > 0 and time.perf_counter() >= deadline:
                return
            parse = answer_to is not None and answer_to.answer is None
            issued += 1
            mine += 1
            sample, answer, error = await call(index, parse)
            if parse and answer_to is not None and answer is not None:
                answer_to.answer = answer
            if samples is not None:
                samples.append(sample)
            if error:
                errors.append(error)

    await asyncio.gather(*(worker(i) for i in range(min(concurrency, max(requests, 1)))))
    return errors


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    max_concurrency = max((int(s["concurrency"]) for s in spec["steps"]), default=1)
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=max_concurrency, keepalive_timeout=KEEPALIVE_SECONDS)
    timeout = aiohttp.ClientTimeout(total=float(spec.get("http_timeout_seconds", HTTP_TIMEOUT_SECONDS)))
    pools: dict[tuple[str, tuple[str, ...]], PostgresPool] = {}
    targets: dict[str, Target] = {}
    cells: dict[str, Cell] = {}
    # Like opensearch-py's client (the service's): no Accept-Encoding, so OpenSearch answers both sides uncompressed.
    session = aiohttp.ClientSession(
        connector=connector, timeout=timeout, skip_auto_headers=("Accept", "Accept-Encoding"), auto_decompress=True
    )
    async with session:
        for name, target_spec in spec["targets"].items():
            if target_spec["kind"] == "http":
                targets[name] = HttpTarget(target_spec, session)
            elif target_spec["kind"] == "python":
                targets[name] = python_target(target_spec, session)
            else:
                key = (target_spec["dsn"], tuple(target_spec.get("setup", [])))
                pool = pools.setdefault(key, PostgresPool(key[0], list(key[1])))
                targets[name] = PostgresTarget(target_spec, pool)
        try:
            for step in spec["steps"]:
                cell = cells.setdefault(step["cell"], Cell(step["target"], int(step["concurrency"])))
                await run_step(step, targets[step["target"]].call, cell)
                if spec.get("progress"):
                    print(f"  {step['cell']}: {len(cell.samples)} timed so far", file=sys.stderr, flush=True)
        finally:
            for pool in pools.values():
                await pool.close()
            for made in targets.values():
                close = getattr(made, "close", None)
                if close is not None and not isinstance(made, HttpTarget | PostgresTarget):
                    await close()
    return {"cells": {name: _cell_result(cell) for name, cell in cells.items()}}


def _cell_result(cell: Cell) -> dict[str, Any]:
    result = summarize(cell.samples, cell.wall_seconds)
    result |= {
        "target": cell.target,
        "concurrency": cell.concurrency,
        "rounds": cell.rounds,
        "total_count": cell.answer.total if cell.answer else None,
        "first_ids": cell.answer.ids if cell.answer else None,
        "client_cpu": round(cell.cpu_seconds / cell.wall_seconds, 3) if cell.wall_seconds > 0 else None,
        "first_error": cell.first_error,
    }
    http = [s for s in cell.samples if isinstance(s, HttpSample)]
    if http:
        result |= _http_result(http)
    return result


def _http_result(samples: list[HttpSample]) -> dict[str, Any]:
    """Answers by status, latency over every answer (a refusal is an answer too) and mean sizes of the 2xx ones."""
    statuses: dict[str, int] = {}
    for sample in samples:
        statuses[str(sample.status)] = statuses.get(str(sample.status), 0) + 1
    ranked = sorted(samples, key=lambda s: s.seconds)
    good = [s for s in samples if 200 <= s.status < 300]
    wire = [s.wire_bytes for s in good if s.wire_bytes is not None]
    return {
        "statuses": dict(sorted(statuses.items())),
        "answered_p50_ms": round(percentile(ranked, 0.50).seconds * 1000, 3),
        "answered_p99_ms": round(percentile(ranked, 0.99).seconds * 1000, 3),
        "body_bytes_mean": round(sum(s.body_bytes for s in good) / len(good)) if good else None,
        "wire_bytes_mean": round(sum(wire) / len(wire)) if wire else None,
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bench.loadgen SPEC.json OUT.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(args[0]).read_text())
    result = asyncio.run(run(spec))
    Path(args[1]).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
