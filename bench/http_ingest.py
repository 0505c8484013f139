"""Live ingest over HTTP (`POST /api/v1/ingest`) against raw bulk and the loader, on the same node in one run.

    python -m bench.http_ingest --url http://127.0.0.1:9400 --docs 60000 --rounds 3

Each side writes the same synthetic records into a fresh index prefix:
- raw: the records built into documents first (the loader's own path), then sent with opensearch-py's async bulk
  helper, 1,000 documents a request, `c` requests in flight, each request as every writer of ours sends it (external
  versions, routed by tenant, the answer limited to what live ingest reads: core.engine.BULK_OUTCOME_FIELDS), so the
  engine does the same work on both sides;
- http: the service as a subprocess (`llmsearch serve`), `c` clients each posting 1,000-record NDJSON bodies built
  before the clock starts (raw records: the service validates and builds them, which is the point), no gzip;
- loader: `llmsearch load synthetic` (bench.ingest's run), for the same count, once.
For c in 1, 4 and 16, `--rounds` pairs interleaved (raw, http, http, raw, ...), their times summed. The service's
peak RSS is read from the kernel (`VmHWM`) after the run. Figures: docs/s, MB/s of request bodies, and http/raw per
concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from opensearchpy.helpers import async_bulk

from bench.api import create_key, start_service, stop_service
from bench.ingest import build_documents, drop_prefix, reset_prefix, run_loader
from bench.machine import describe
from core.bulk_action import index_action
from core.documents import RawRequest
from core.engine import BULK_OUTCOME_FIELDS, make_client
from core.settings import OpenSearchSettings
from core.templates import IndexNames
from core.versioning import record_version
from loaders import synthetic
from service.keys import Scope

ROOT = Path(__file__).resolve().parent.parent
BATCH = 1000
CONCURRENCIES = (1, 4, 16)
TENANT = "bench"


def batches(docs: int, seed: int) -> list[bytes]:
    """NDJSON bodies of BATCH raw records each."""
    lines = [json.dumps(record, default=str).encode() for record in synthetic.generate(docs, seed=seed)]
    return [b"\n".join(lines[i : i + BATCH]) for i in range(0, len(lines), BATCH)]


async def send_http(url: str, key: str, bodies: list[bytes], concurrency: int) -> tuple[float, int]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    accepted = 0
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal accepted
        while not queue.empty():
            body = queue.get_nowait()
            while True:
                async with session.post(f"{url}/api/v1/ingest", data=body, headers=headers) as response:
                    answer = await response.json()
                    if response.status in (429, 503):
                        await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                        continue
                    if response.status not in (200, 207):
                        raise RuntimeError(f"ingest answered {response.status}: {answer}")
                    accepted += answer["accepted"]
                    break

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
        return time.perf_counter() - started, accepted


async def send_raw(engine_url: str, prefix: str, documents: list[tuple[str, str, int]], concurrency: int) -> float:
    client = make_client(engine_url, OpenSearchSettings(url=engine_url, timeout_seconds=120))
    index = IndexNames(prefix).write_alias
    chunks = [documents[i : i + BATCH] for i in range(0, len(documents), BATCH)]
    queue: asyncio.Queue[list[tuple[str, str, int]]] = asyncio.Queue()
    for chunk in chunks:
        queue.put_nowait(chunk)

    async def worker() -> None:
        while not queue.empty():
            chunk = queue.get_nowait()
            actions = (index_action(index, i, v) | {"_source": s} for i, s, v in chunk)
            await async_bulk(
                client, actions, chunk_size=BATCH, max_retries=8, initial_backoff=0.5, filter_path=BULK_OUTCOME_FIELDS
            )

    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started
    finally:
        await client.close()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def raw_once(engine_url: str, prefix: str, documents: list[tuple[str, str, int]], concurrency: int) -> float:
    """Seconds to send every document with raw bulk, into a fresh index."""
    reset_prefix(engine_url, prefix)
    try:
        return asyncio.run(send_raw(engine_url, prefix, documents, concurrency))
    finally:
        drop_prefix(engine_url, prefix)


def http_once(engine_url: str, prefix: str, port: int, bodies: list[bytes], concurrency: int, docs: int) -> float:
    """Seconds to post every body to the running service, into a fresh index (and keys index: a new key for it)."""
    reset_prefix(engine_url, prefix)
    key = create_key(engine_url, prefix, TENANT, frozenset({Scope.WRITE}))
    seconds, accepted = asyncio.run(send_http(f"http://127.0.0.1:{port}", key, bodies, concurrency))
    if accepted != docs:
        raise RuntimeError(f"http side accepted {accepted} of {docs}")
    return seconds


def run(engine_url: str, docs: int, seed: int, port: int, with_loader: bool, rounds: int = 1) -> dict[str, Any]:
    bodies = batches(docs, seed)
    body_bytes = sum(len(body) for body in bodies)
    versions = [record_version(RawRequest.model_validate(r)) for r in synthetic.generate(docs, seed=seed)]
    documents = [(i, s, v) for (i, s), v in zip(build_documents(docs, seed, TENANT), versions, strict=True)]
    run_id = uuid.uuid4().hex[:6]
    http_prefix = f"bench-http-{run_id}"
    reset_prefix(engine_url, http_prefix)
    service = start_service(engine_url, http_prefix, port, ROOT / "bench" / "results" / "work" / f"{http_prefix}.log")
    rows: list[dict[str, Any]] = []
    try:
        for concurrency in CONCURRENCIES:
            raw_seconds = http_seconds = 0.0
            for round_number in range(rounds):
                # raw, http, http, raw, ...: what the machine does meanwhile falls on both sides alike.
                for side in ("raw", "http") if round_number % 2 == 0 else ("http", "raw"):
                    if side == "raw":
                        raw_seconds += raw_once(engine_url, f"bench-raw-{run_id}-{concurrency}", documents, concurrency)
                    else:
                        http_seconds += http_once(engine_url, http_prefix, port, bodies, concurrency, docs)
            sent = docs * rounds
            rows.append(
                {
                    "concurrency": concurrency,
                    "raw_docs_per_s": round(sent / raw_seconds),
                    "http_docs_per_s": round(sent / http_seconds),
                    "http_mb_per_s": round(body_bytes * rounds / http_seconds / 1e6, 2),
                    "http_over_raw": round(raw_seconds / http_seconds, 3),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
        rss = peak_rss_mb(service.pid)
    finally:
        stop_service(service)
        drop_prefix(engine_url, http_prefix)
    result: dict[str, Any] = {
        "docs": docs,
        "rounds": rounds,
        "batch": BATCH,
        "rows": rows,
        "service_peak_rss_mb": rss,
    }
    if with_loader:
        loader_prefix = f"bench-load-{run_id}"
        loaded = run_loader(engine_url, docs, seed, TENANT, loader_prefix, ROOT / "bench" / "results" / "work")
        drop_prefix(engine_url, loader_prefix)
        result["loader_docs_per_s"] = loaded["docs_per_s"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http_ingest", description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the OpenSearch node (a bench node, not the dev one)")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="raw/http pairs per concurrency, order alternating")
    parser.add_argument("--port", type=int, default=8095)
    parser.add_argument("--no-loader", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run(args.url, args.docs, args.seed, args.port, not args.no_loader, args.rounds)
    result["machine"] = describe()
    result["command"] = "python -m bench.http_ingest " + " ".join(argv if argv is not None else sys.argv[1:])
    out = args.out or ROOT / "bench" / "results" / f"{time.strftime('%Y-%m-%d')}-http-ingest.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
