"""Ingest: the loader (`llmsearch load --format synthetic`, a subprocess) against a raw opensearch-py baseline.

The loader is timed by itself (its `--json` result) and by the wall clock, and its peak RSS is taken from the
kernel (`wait4`), for two input sizes: memory must not grow with the input.

The raw baseline (`python -m bench.ingest raw ...`, its own process so its memory never burdens the harness) builds
the very same documents in memory first (the loader's own Preparer: same JSON, same ids, same costs), then times
only the sending, with `opensearch.helpers.parallel_bulk` at the best settings of a short sweep (threads x chunk
size). Both sides index into a fresh index of a scratch prefix with the loader's backfill settings (refresh off,
no replicas) and end with a refresh.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from opensearchpy import AsyncOpenSearch, OpenSearch
from opensearchpy.helpers import parallel_bulk

from core.engine import make_client
from core.pricing import PricingTable
from core.settings import OpenSearchSettings
from core.templates import IndexNames, apply_templates, delete_all
from loaders import synthetic
from loaders.backfill import BACKFILL_SETTINGS, unprefixed
from loaders.options import LoadOptions
from loaders.prepare import Preparer
from loaders.sources.base import Position, SourceRecord

SWEEP: tuple[tuple[int, int], ...] = ((1, 1000), (2, 500), (2, 1000), (2, 2000), (4, 1000), (4, 2000))
MAX_CHUNK_BYTES = 10 * 1024 * 1024  # the loader's default request cap, so both send requests of the same size


def reset_prefix(url: str, prefix: str) -> None:
    """Delete everything under `prefix` and put the templates and an empty first index back."""

    async def reset(client: AsyncOpenSearch) -> None:
        names = IndexNames(prefix)
        await delete_all(client, names)
        await apply_templates(client, names)

    with_client(url, reset)


def drop_prefix(url: str, prefix: str) -> None:
    with_client(url, lambda client: delete_all(client, IndexNames(prefix)))


def with_client(url: str, action: Callable[[AsyncOpenSearch], Awaitable[None]]) -> None:
    """Run `action` on a client of its own, closed afterwards, from the harness's synchronous code."""

    async def run() -> None:
        client = make_client(url, OpenSearchSettings(url=url, timeout_seconds=120))
        try:
            await action(client)
        finally:
            await client.close()

    asyncio.run(run())


# -- the loader, as a user runs it ----------------------------------------------------------------------------


def loader_command(docs: int, seed: int, tenant: str, prefix: str, state_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "cli.main",
        "load",
        "synthetic",
        "--format",
        "synthetic",
        "--tenant",
        tenant,
        "--count",
        str(docs),
        "--seed",
        str(seed),
        "--index-prefix",
        prefix,
        "--backfill",
        "on",
        "--json",
        "--progress",
        "none",
        "--state-dir",
        str(state_dir),
    ]


def run_loader(url: str, docs: int, seed: int, tenant: str, prefix: str, work: Path) -> dict[str, Any]:
    """One load into a fresh `prefix`; the loader's own figures plus wall time and peak RSS (kernel, via wait4)."""
    reset_prefix(url, prefix)
    work.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = work / f"load-{prefix}-{docs}.json", work / f"load-{prefix}-{docs}.log"
    env = {**os.environ, "OPENSEARCH_URL": url, "LLMSEARCH_INDEX_PREFIX": prefix}
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(
            loader_command(docs, seed, tenant, prefix, work / "state"), stdout=stdout, stderr=stderr, env=env
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 3):
        raise RuntimeError(f"the loader failed ({process.returncode}); see {stderr_path}:\n{_tail(stderr_path)}")
    result = json.loads(stdout_path.read_text())
    return {
        "docs": docs,
        "indexed": result["run"]["created"] + result["run"]["updated"],
        "rejected": result["run"]["rejected"],
        "bytes": result["run"]["bytes"],
        "seconds": result["seconds"],
        "docs_per_s": result["docs_per_s"],
        "mb_per_s": round(result["bytes_per_s"] / 1e6, 3),
        "wall_seconds": round(wall, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "backfill": result["backfill"],
        "exit_code": process.returncode,
    }


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# -- the raw baseline -----------------------------------------------------------------------------------------


def run_raw(url: str, docs: int, seed: int, tenant: str, prefix: str, sweep_docs: int, work: Path) -> dict[str, Any]:
    """The raw baseline in its own process (see `raw_main`)."""
    work.mkdir(parents=True, exist_ok=True)
    out = work / f"raw-{prefix}-{docs}.json"
    command = [
        sys.executable,
        "-m",
        "bench.ingest",
        "raw",
        "--url",
        url,
        "--docs",
        str(docs),
        "--seed",
        str(seed),
        "--tenant",
        tenant,
        "--prefix",
        prefix,
        "--sweep-docs",
        str(sweep_docs),
        "--out",
        str(out),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"the raw bulk baseline failed:\n{completed.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def documents(docs: int, seed: int, tenant: str) -> Iterator[tuple[str, str]]:
    """(document id, document JSON) for the synthetic records, made exactly as the loader makes them, one at a time
    (the ClickHouse side of the benchmark loads the same JSON)."""
    preparer = Preparer(tenant, PricingTable.default(), LoadOptions().max_document_bytes)
    for number, record in enumerate(synthetic.generate(docs, seed=seed)):
        prepared = preparer.prepare(number, SourceRecord(Position("index", number), data=record))
        if prepared.source is not None and prepared.doc_id is not None:
            yield prepared.doc_id, prepared.source


def build_documents(docs: int, seed: int, tenant: str) -> list[tuple[str, str]]:
    """(document id, document JSON) for the synthetic records, made exactly as the loader makes them."""
    return list(documents(docs, seed, tenant))


def send(client: OpenSearch, index: str, documents: list[tuple[str, str]], threads: int, chunk: int) -> float:
    """Index `documents` with parallel_bulk; returns the seconds from the first request to visible documents."""
    actions = ({"_index": index, "_id": doc_id, "_source": source} for doc_id, source in documents)
    current = client.indices.get_settings(index=index, flat_settings=True)[index]["settings"]
    saved = unprefixed({key: current.get(key) for key in BACKFILL_SETTINGS})
    client.indices.put_settings(index=index, body={"index": unprefixed(BACKFILL_SETTINGS)})
    started = time.perf_counter()
    deque(
        parallel_bulk(
            client,
            actions,
            thread_count=threads,
            queue_size=threads,
            chunk_size=chunk,
            max_chunk_bytes=MAX_CHUNK_BYTES,
            raise_on_error=True,
        ),
        maxlen=0,
    )
    client.indices.put_settings(index=index, body={"index": saved})
    client.indices.refresh(index=index)
    return time.perf_counter() - started


def raw_main(args: argparse.Namespace) -> dict[str, Any]:
    build_started = time.perf_counter()
    documents = build_documents(args.docs, args.seed, args.tenant)
    build_seconds = time.perf_counter() - build_started
    total_bytes = sum(len(source.encode()) for _id, source in documents)
    names = IndexNames(args.prefix)
    client = OpenSearch(hosts=[args.url], timeout=300, http_compress=False, pool_maxsize=8)
    sweep: list[dict[str, Any]] = []
    try:
        sample = documents[: max(1, min(args.sweep_docs, len(documents)))]
        sample_bytes = sum(len(source.encode()) for _id, source in sample)
        for threads, chunk in SWEEP if args.sweep_docs > 0 else ():
            reset_prefix(args.url, args.prefix)
            seconds = send(client, names.first_index, sample, threads, chunk)
            sweep.append(
                {
                    "threads": threads,
                    "chunk_size": chunk,
                    "docs": len(sample),
                    "docs_per_s": round(len(sample) / seconds, 1),
                    "mb_per_s": round(sample_bytes / seconds / 1e6, 3),
                }
            )
            print(f"raw sweep: {sweep[-1]}", file=sys.stderr, flush=True)
        best = max(sweep, key=lambda row: row["docs_per_s"]) if sweep else {"threads": 2, "chunk_size": 1000}
        reset_prefix(args.url, args.prefix)
        seconds = send(client, names.first_index, documents, best["threads"], best["chunk_size"])
        count = client.count(index=names.read_alias)["count"]
    finally:
        client.close()
    return {
        "docs": args.docs,
        "indexed": int(count),
        "bytes": total_bytes,
        "build_seconds": round(build_seconds, 2),
        "seconds": round(seconds, 3),
        "docs_per_s": round(len(documents) / seconds, 1),
        "mb_per_s": round(total_bytes / seconds / 1e6, 3),
        "threads": best["threads"],
        "chunk_size": best["chunk_size"],
        "max_chunk_bytes": MAX_CHUNK_BYTES,
        "sweep": sweep,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest")
    commands = parser.add_subparsers(dest="command", required=True)
    raw = commands.add_parser("raw", help="the raw opensearch-py bulk baseline (prints JSON)")
    raw.add_argument("--url", required=True)
    raw.add_argument("--docs", type=int, required=True)
    raw.add_argument("--seed", type=int, default=0)
    raw.add_argument("--tenant", default="bench")
    raw.add_argument("--prefix", required=True)
    raw.add_argument("--sweep-docs", type=int, default=20_000, help="documents per sweep trial (0: no sweep)")
    raw.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    result = raw_main(args)
    args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
