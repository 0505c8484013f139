"""`python -m bench.paging`: cursor pages at depth and the NDJSON export, against the loaded benchmark node.

The claims under test (README, "Paging past 10,000: cursors" and "Exporting"): a cursor page costs about the same
however deep it is (target: p50 and p99 at depth 10,000 and 500,000 at most 2x those of page 1), and the export
streams at close to the speed of a bare scan of the engine (target: at least 0.8x its documents/s) with flat
service memory.

Data: whatever `bench.run` loaded into `--prefix` (1,000,000 synthetic documents of tenant `bench`); nothing is
loaded here, the count is only checked. The current service (this working tree) runs as its own process.

1. Cursor depth. Pages of 20, `sortBy=createdAt&sortOrder=desc`, no search, every field. A cursor at depth D is
   reached once, before timing, by walking the service's own cursors (they are signed, so they cannot be made up)
   with pages of 1,000 `fields=id`; one walk to the deepest depth picks up the shallower cursors on the way. A
   cursor holds no state, so the timed requests reuse the same one. Page 1 (no cursor, depth 0) and every depth
   go through `bench/loadgen.py`, interleaved round by round (A B C / C B A), at each concurrency.
2. Export. `GET /api/v1/export?format=ndjson` streamed with aiohttp (bytes and lines counted, body dropped)
   against a bare scan straight to OpenSearch in the same run: a PIT and `search_after` pages of 1,000 with the
   export's own body (`service.export.export_body`), each page parsed and each hit written as a JSON line to
   /dev/null, so both sides pay for parsing and rendering. Passes alternate (raw, service / service, raw). The
   service's RSS is read from /proc every 0.5 s during its exports. Two sizes: the newest ~100,000 documents
   (a `createdAt >= cutoff` filter, the cutoff read once from OpenSearch) and all of them.

Writes `<out>/<date>-<docs>-paging[-quick].json` and prints a summary. Exits 1 if a correctness check fails (a
non-2xx answer, a count that differs); the speed targets are reported, not enforced.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import shlex
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import orjson

from bench import api, machine, node
from bench.overhead import commit_of
from bench.run import REPO, comma_numbers, log, run_loadgen, save_and_report, service_get
from core.templates import IndexNames
from service.export import NdjsonRows, export_body
from service.params import parse_query
from service.query import build_search_body

PAGE_SIZE = 20
WALK_PAGE_SIZE = 1000  # the service's largest page: fewest requests to reach a depth
SORT = {"sortBy": "createdAt", "sortOrder": "desc"}
RAW_PAGE_SIZE = 1000  # the export's own page size (service.export.PAGE_SIZE)
CUTOFF_PAGE_SIZE = 10_000  # the engine's result window: fewest requests to find the cutoff
PARTIAL_DOCS, QUICK_PARTIAL_DOCS = 100_000, 1000
QUICK_DEPTHS = "100,1000"
RSS_INTERVAL_SECONDS = 0.5
CHUNK_BYTES = 1 << 16
DEPTH_TARGET, EXPORT_TARGET = 2.0, 0.8
PIT_FILTER_PATH = "pit_id,hits.hits._source,hits.hits.sort"  # as service.export asks


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.paging", description=__doc__.split("\n")[0])
    parser.add_argument("--opensearch-url", default="http://127.0.0.1:9400", help="the benchmark node, loaded")
    parser.add_argument("--docs", type=int, default=1_000_000, help="documents loaded (checked, and in the name)")
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--tenant", default="bench")
    parser.add_argument("--depths", default="10000,500000", help=f"cursor depths besides page 1 (quick {QUICK_DEPTHS})")
    parser.add_argument("--requests", type=int, help="timed requests per depth and concurrency (default 100; quick 20)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 4; quick 2)")
    parser.add_argument("--cell-seconds", type=float, default=120.0, help="time budget per cell (default 120)")
    parser.add_argument("--concurrency", default="1,16", help="closed-loop clients, comma-separated")
    parser.add_argument("--export-passes", type=int, default=2, help="exports per side and size (default 2)")
    parser.add_argument("--quick", action="store_true", help="tiny: depths 100 and 1,000, export what is there")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--skip-cursor", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="where the JSON goes")
    return parser


def settle(args: argparse.Namespace) -> dict[str, Any]:
    quick = bool(args.quick)
    depths = QUICK_DEPTHS if quick and args.depths == build_parser().get_default("depths") else args.depths
    return {
        "docs": args.docs,
        "prefix": args.prefix,
        "tenant": args.tenant,
        "quick": quick,
        "depths": sorted(set(comma_numbers(depths))),
        "requests": args.requests or (20 if quick else 100),
        "rounds": args.rounds or (2 if quick else 4),
        "cell_seconds": args.cell_seconds,
        "concurrency": comma_numbers(args.concurrency),
        "export_passes": args.export_passes,
        "partial_docs": QUICK_PARTIAL_DOCS if quick else PARTIAL_DOCS,
        "page_size": PAGE_SIZE,
        "sort": SORT,
    }


def tenant_count(url: str, cfg: dict[str, Any], query: dict[str, Any] | None = None) -> int:
    """Documents of the tenant (that `query` matches, if given), counted by the engine."""
    if query is None:
        query = build_search_body(parse_query({}, []), cfg["tenant"])["query"]
    client = node.sync_client(url)
    try:
        return int(client.count(index=IndexNames(cfg["prefix"]).read_alias, body={"query": query})["count"])
    finally:
        client.close()


# -- 1. cursor depth ------------------------------------------------------------------------------------------


def get_json(url: str, key: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=300) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def walk_cursors(base: str, key: str, depths: list[int]) -> dict[int, str]:
    """The service's cursor at each depth (the one whose page starts at result `depth`), in one walk."""
    cursors: dict[int, str] = {}
    position, cursor, started = 0, None, time.perf_counter()
    for depth in depths:
        while position < depth:
            params = SORT | {"pageSize": str(min(WALK_PAGE_SIZE, depth - position)), "fields": "id"}
            if cursor is not None:
                params["cursor"] = cursor
            answer = get_json(f"{base}/api/v1/requests?{urlencode(params)}", key)
            position += len(answer["requests"])
            cursor = answer["nextCursor"]
            if cursor is None:
                raise SystemExit(f"depth {depth:,} is past the end: only {position:,} results")
            if position % 50_000 == 0 or position == depth:
                log(f"cursor walk: at {position:,} of {depths[-1]:,} ({time.perf_counter() - started:.0f}s)")
        cursors[depth] = str(cursor)
    return cursors


def depth_targets(base: str, key: str, cursors: dict[int, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for depth in [0, *cursors]:
        params = SORT | {"pageSize": str(PAGE_SIZE)} | ({"cursor": cursors[depth]} if depth else {})
        out[f"d{depth}"] = service_get(base, params, {"Authorization": f"Bearer {key}"})
    return out


def depth_steps(names: list[str], cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """Each round, every depth once, the order reversed every other round, so drift falls on all depths."""
    rounds, out = cfg["rounds"], []
    for concurrency in cfg["concurrency"]:
        for number in range(rounds):
            for name in names if number % 2 == 0 else list(reversed(names)):
                out.append(
                    {
                        "cell": f"{name}/c{concurrency}",
                        "target": name,
                        "concurrency": concurrency,
                        "requests": math.ceil(cfg["requests"] / rounds),
                        "max_seconds": cfg["cell_seconds"] / rounds,
                        "warmup": max(2, concurrency) if number == 0 else 0,
                    }
                )
    return out


def summarize_depths(cells: dict[str, Any], depths: list[int], concurrency: int) -> dict[str, Any]:
    rows = {}
    for depth in [0, *depths]:
        cell = cells[f"d{depth}/c{concurrency}"]
        rows[str(depth)] = {
            key: cell.get(key)
            for key in ("n", "p50_ms", "p99_ms", "mean_ms", "rps", "statuses", "total_count", "first_ids")
        } | {"first_error": cell.get("first_error")}
    page1 = rows["0"]
    for depth in depths:
        row = rows[str(depth)]
        for figure in ("p50_ms", "p99_ms"):
            a, b = row.get(figure), page1.get(figure)
            row[f"{figure[:3]}_vs_page1"] = round(a / b, 3) if a is not None and b else None
    return rows


def measure_cursor(base: str, key: str, cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    started = time.perf_counter()
    cursors = walk_cursors(base, key, cfg["depths"])
    walk_seconds = round(time.perf_counter() - started, 1)
    targets = depth_targets(base, key, cursors)
    spec = {"targets": targets, "steps": depth_steps(list(targets), cfg), "progress": True}
    cells = run_loadgen(spec, work, "paging")["cells"]
    return {
        "walk_seconds": walk_seconds,
        "by_concurrency": {f"c{c}": summarize_depths(cells, cfg["depths"], c) for c in cfg["concurrency"]},
    }


# -- 2. export ------------------------------------------------------------------------------------------------


def cutoff(url: str, cfg: dict[str, Any], position: int) -> str:
    """The createdAt of the `position`-th newest document (1-based), from a search_after walk without sources."""
    base = build_search_body(parse_query({}, []), cfg["tenant"])
    body: dict[str, Any] = {"query": base["query"], "sort": base["sort"], "_source": False, "track_total_hits": False}
    client = node.sync_client(url)
    try:
        seen, after = 0, None
        while True:
            size = min(CUTOFF_PAGE_SIZE, position - seen)
            page = {**body, "size": size} | ({"search_after": after} if after else {})
            hits = client.search(index=IndexNames(cfg["prefix"]).read_alias, body=page)["hits"]["hits"]
            seen += len(hits)
            if seen == position or len(hits) < size:
                millis = int(hits[-1]["sort"][0])  # createdAt is a `date`: epoch milliseconds
                moment = dt.datetime.fromtimestamp(millis / 1000, dt.UTC)
                return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            after = hits[-1]["sort"]
    finally:
        client.close()


@dataclass
class Transfer:
    side: str
    docs: int = 0
    bytes: int = 0
    seconds: float = 0.0
    rss_kb: list[int] = field(default_factory=list)

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "side": self.side,
            "docs": self.docs,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "docs_per_s": round(self.docs / self.seconds, 1) if self.seconds else None,
            "mb_per_s": round(self.bytes / 1e6 / self.seconds, 2) if self.seconds else None,
        }
        if self.rss_kb:
            out |= {"rss_mb_start": _mb(self.rss_kb[0]), "rss_mb_peak": _mb(max(self.rss_kb))}
            out["rss_mb_end"] = _mb(self.rss_kb[-1])
        return out


def _mb(kb: int) -> float:
    return round(kb / 1024, 1)


def session() -> aiohttp.ClientSession:
    # No Accept-Encoding, as loadgen and opensearch-py: both sides come uncompressed. No total timeout (an export of
    # 1,000,000 documents takes minutes), but a stalled read fails.
    timeout = aiohttp.ClientTimeout(total=None, sock_read=300)
    return aiohttp.ClientSession(timeout=timeout, skip_auto_headers=("Accept", "Accept-Encoding"))


async def service_export(url: str, key: str) -> Transfer:
    transfer = Transfer("service")
    started = time.perf_counter()
    async with session() as http, http.get(url, headers={"Authorization": f"Bearer {key}"}) as response:
        if response.status != 200:
            raise RuntimeError(f"export answered {response.status}: {(await response.read())[:500]!r}")
        async for chunk in response.content.iter_chunked(CHUNK_BYTES):
            transfer.bytes += len(chunk)
            transfer.docs += chunk.count(b"\n")
    transfer.seconds = time.perf_counter() - started
    return transfer


async def raw_export(opensearch_url: str, alias: str, body: dict[str, Any]) -> Transfer:
    """The export's scan with nothing around it: PIT, search_after pages, each hit a JSON line into /dev/null."""
    transfer, json_headers = Transfer("raw"), {"Content-Type": "application/json"}
    started = time.perf_counter()
    async with session() as http:
        async with http.post(f"{opensearch_url}/{alias}/_search/point_in_time?keep_alive=1m") as response:
            pit_id = (await response.json())["pit_id"]
        try:
            with open(os.devnull, "wb") as sink:
                after = None
                while True:
                    page = {**body, "size": RAW_PAGE_SIZE, "pit": {"id": pit_id, "keep_alive": "1m"}}
                    if after is not None:
                        page["search_after"] = after
                    search = (
                        f"{opensearch_url}/_search?filter_path={PIT_FILTER_PATH}&allow_partial_search_results=false"
                    )
                    async with http.post(search, data=orjson.dumps(page), headers=json_headers) as response:
                        if response.status != 200:
                            raise RuntimeError(f"scan answered {response.status}: {(await response.read())[:500]!r}")
                        data = orjson.loads(await response.read())
                    pit_id = data.get("pit_id", pit_id)
                    hits = data.get("hits", {}).get("hits", [])
                    for hit in hits:
                        line = orjson.dumps(hit["_source"], option=orjson.OPT_APPEND_NEWLINE)
                        sink.write(line)
                        transfer.bytes += len(line)
                    transfer.docs += len(hits)
                    if len(hits) < RAW_PAGE_SIZE:
                        break
                    after = hits[-1]["sort"]
        finally:
            delete = f"{opensearch_url}/_search/point_in_time"
            async with http.delete(delete, data=orjson.dumps({"pit_id": [pit_id]}), headers=json_headers):
                pass
    transfer.seconds = time.perf_counter() - started
    return transfer


def service_pid(base: str) -> int:
    """The pid of the service listening at `base`: `bench.api.service` does not expose its process, but its command
    line names its (random) port."""
    port = str(urlsplit(base).port)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in words and b"--port" in words and port.encode() in words:
            return int(entry.name)
    raise RuntimeError(f"no process found serving port {port}")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


class RssSampler(threading.Thread):
    """VmRSS of `pid` every 0.5 s until stopped; a thread, so a busy event loop cannot delay the samples."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.samples, self.done = pid, [rss_kb(pid)], threading.Event()

    def run(self) -> None:
        while not self.done.wait(RSS_INTERVAL_SECONDS):
            self.samples.append(rss_kb(self.pid))

    def stop(self) -> list[int]:
        self.done.set()
        self.join()
        return [*self.samples, rss_kb(self.pid)]


def sampled_service_export(url: str, key: str, pid: int) -> Transfer:
    sampler = RssSampler(pid)
    sampler.start()
    try:
        transfer = asyncio.run(service_export(url, key))
    finally:
        samples = sampler.stop()
    transfer.rss_kb = samples
    return transfer


def export_size(base: str, key: str, pid: int, cfg: dict[str, Any], url: str, docs: int | None) -> dict[str, Any]:
    """Both sides at one size (`docs` newest, or None: all), passes alternating raw/service, service/raw."""
    params: dict[str, str] = dict(SORT)
    if docs is not None:
        params["filter"] = json.dumps({"createdAt": {"gte": cutoff(url, cfg, docs)}})
    query = parse_query(params, list(params))
    body = export_body(query, cfg["tenant"], NdjsonRows(query.returned_fields).source_fields)
    expected = tenant_count(url, cfg, body["query"])
    log(f"export of {expected:,} documents ({'all' if docs is None else params['filter']})")
    export_url = f"{base}/api/v1/export?{urlencode(params | {'format': 'ndjson'})}"
    alias = IndexNames(cfg["prefix"]).read_alias
    passes: list[dict[str, Any]] = []
    for number in range(cfg["export_passes"]):
        for side in ("raw", "service") if number % 2 == 0 else ("service", "raw"):
            if side == "raw":
                transfer = asyncio.run(raw_export(url, alias, body))
            else:
                transfer = sampled_service_export(export_url, key, pid)
            passes.append(transfer.result())
            log(f"  {side}: {transfer.docs:,} docs in {transfer.seconds:.1f}s")
    return {"expected_docs": expected, "params": params, "passes": passes} | export_means(passes)


def export_means(passes: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for side in ("raw", "service"):
        mine = [p for p in passes if p["side"] == side]
        seconds = sum(p["seconds"] for p in mine)
        out[side] = {
            "docs_per_s": round(sum(p["docs"] for p in mine) / seconds, 1),
            "mb_per_s": round(sum(p["bytes"] for p in mine) / 1e6 / seconds, 2),
        }
    out["ratio_docs_per_s"] = round(out["service"]["docs_per_s"] / out["raw"]["docs_per_s"], 3)
    out["ratio_mb_per_s"] = round(out["service"]["mb_per_s"] / out["raw"]["mb_per_s"], 3)
    rss = [p for p in passes if "rss_mb_peak" in p]
    out["service_rss_mb"] = {
        "start": rss[0]["rss_mb_start"],
        "peak": max(p["rss_mb_peak"] for p in rss),
        "end": rss[-1]["rss_mb_end"],
    }
    return out


def measure_export(base: str, key: str, cfg: dict[str, Any], url: str, total: int) -> dict[str, Any]:
    pid = service_pid(base)
    sizes: dict[str, Any] = {}
    if cfg["partial_docs"] < total:
        sizes[f"newest_{cfg['partial_docs']}"] = export_size(base, key, pid, cfg, url, cfg["partial_docs"])
    sizes["all"] = export_size(base, key, pid, cfg, url, None)
    return {"service_pid": pid, "sizes": sizes}


# -- the run --------------------------------------------------------------------------------------------------


def checks(result: dict[str, Any], total: int) -> list[dict[str, Any]]:
    out = [{"what": "documents in the tenant = --docs", "ok": total == result["config"]["docs"], "detail": total}]
    for concurrency, rows in result.get("cursor", {}).get("by_concurrency", {}).items():
        for depth, row in rows.items():
            good = set(row["statuses"] or {}) == {"200"} and row["total_count"] == total
            detail = {"statuses": row["statuses"], "totalCount": row["total_count"]}
            out.append(
                {"what": f"depth {depth} {concurrency}: all 200, totalCount = count", "ok": good, "detail": detail}
            )
    for size, figures in result.get("export", {}).get("sizes", {}).items():
        counts = sorted({p["docs"] for p in figures["passes"]})
        ok = counts == [figures["expected_docs"]]
        out.append({"what": f"export {size}: every pass has every document", "ok": ok, "detail": counts})
    return out


def targets_met(result: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for concurrency, rows in result.get("cursor", {}).get("by_concurrency", {}).items():
        for depth, row in rows.items():
            for figure in ("p50_vs_page1", "p99_vs_page1"):
                if figure in row:
                    value = row[figure]
                    met = value is not None and value <= DEPTH_TARGET
                    what = f"depth {depth} {concurrency} {figure[:3]} ≤ {DEPTH_TARGET}x page 1"
                    out.append({"what": what, "met": met, "value": value})
    for size, figures in result.get("export", {}).get("sizes", {}).items():
        value = figures["ratio_docs_per_s"]
        what = f"export {size}: service ≥ {EXPORT_TARGET}x raw docs/s"
        out.append({"what": what, "met": value >= EXPORT_TARGET, "value": value})
    return out


def run(args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    cfg = settle(args)
    url = args.opensearch_url
    work = Path(tempfile.mkdtemp(prefix="llmsearch-paging-"))
    started = time.time()
    result: dict[str, Any] = {
        "command": "python -m bench.paging " + shlex.join(argv),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "config": cfg,
        "current_commit": commit_of("HEAD") + " + working tree",
        "machine": machine.describe() | {"load_average_start": machine.load_average()},
    }
    total = tenant_count(url, cfg)
    log(f"{total:,} documents of tenant '{cfg['tenant']}' in '{cfg['prefix']}' (expected {cfg['docs']:,})")
    result["documents"] = total
    try:
        key = api.create_key(url, cfg["prefix"], cfg["tenant"])
        with api.service(url, cfg["prefix"], work / "service.log") as base:
            if not args.skip_cursor:
                result["cursor"] = measure_cursor(base, key, cfg, work)
            if not args.skip_export:
                result["export"] = measure_export(base, key, cfg, url, total)
        result["checks"] = checks(result, total)
        result["targets"] = targets_met(result)
        result["machine"]["load_average_end"] = machine.load_average()
        result["seconds"] = round(time.time() - started, 1)
        shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        log(f"work files (service log, loadgen spec) kept in {work}")
        raise
    return result


def render(result: dict[str, Any]) -> str:
    def num(value: Any, digits: int = 1) -> str:
        return "—" if value is None else f"{value:,.{digits}f}"

    lines = [f"paging: {result['documents']:,} documents, {result['seconds']}s"]
    cursor = result.get("cursor")
    if cursor:
        lines += ["", f"cursor pages of {PAGE_SIZE} (walk to the deepest: {cursor['walk_seconds']}s)"]
        lines.append("conc  depth         n    p50 ms    p99 ms   p50/page1  p99/page1")
        for concurrency, rows in cursor["by_concurrency"].items():
            for depth, row in rows.items():
                lines.append(
                    f"{concurrency[1:]:>4} {int(depth):>8,} {row['n']:>7} {num(row['p50_ms']):>9} "
                    f"{num(row['p99_ms']):>9} {num(row.get('p50_vs_page1'), 2):>10}x {num(row.get('p99_vs_page1'), 2):>9}x"
                )
    export = result.get("export")
    if export:
        lines += ["", "export (NDJSON), mean over passes; service RSS start/peak/end MB"]
        lines.append("size                 docs   raw docs/s   svc docs/s   raw MB/s   svc MB/s   ratio   RSS MB")
        for size, f in export["sizes"].items():
            rss = f["service_rss_mb"]
            lines.append(
                f"{size:<16} {f['expected_docs']:>9,} {num(f['raw']['docs_per_s'], 0):>12} "
                f"{num(f['service']['docs_per_s'], 0):>12} {num(f['raw']['mb_per_s']):>10} "
                f"{num(f['service']['mb_per_s']):>10} {f['ratio_docs_per_s']:>6.3f}x "
                f"{rss['start']}/{rss['peak']}/{rss['end']}"
            )
    lines.append("")
    lines += [f"TARGET {'met' if t['met'] else 'MISSED'}: {t['what']} ({t['value']})" for t in result["targets"]]
    lines += [f"CHECK {'ok' if c['ok'] else 'FAILED'}: {c['what']} ({c['detail']})" for c in result["checks"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    result = run(args, argv)
    suffix = "-quick" if result["config"]["quick"] else ""
    return save_and_report(result, args.out, f"{result['date']}-{result['config']['docs']}-paging{suffix}.json", render)


if __name__ == "__main__":
    sys.exit(main())
