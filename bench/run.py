"""`python -m bench.run [--docs N] [--quick] [--out DIR]`: the whole benchmark, written as JSON and BENCHMARKS.md.

Phases, in order (each figure of a comparison is measured in the same run, side by side):
 1. OpenSearch: a dedicated node (port 9400, heap 4g) unless --opensearch-url; the dataset (N synthetic documents
    loaded with the loader for tenant `bench`, prefix `bench`), reused when the same N/seed is already there.
 2. PostgreSQL: a throwaway server (or --pg-dsn), the `"Request"` table COPYed from the same records.
 3. Naive PostgreSQL cells (primary key + "userId" index only), then the tuned indexes are built (timed).
 4. The service is started; service / direct OpenSearch / tuned PostgreSQL cells, interleaved round by round
    (with --clickhouse, ClickHouse via chdb too: the same records, bench/clickhouse.py, loaded before this phase).
 5. Ingest: the loader at two sizes (throughput, peak RSS) and the raw bulk baseline, in a scratch prefix.
 6. Sizes on disk, the JSON (`<out>/<date>-<N>.json`) and the results section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench import api, clickhouse, ingest, machine, node, pgschema, postgres, report
from bench.workload import PgVariant, Query, query_mix
from core.templates import IndexNames
from service.page import PAGE_FILTER_PATH
from service.params import parse_query
from service.query import build_search_body

REPO = Path(__file__).resolve().parent.parent
FULL_DOCS = 1_000_000
QUICK_DOCS = 50_000
SERVICE_MODES = ("service", "direct", "pg_tuned")
VARIANTS: tuple[PgVariant, ...] = ("naive", "tuned")


def service_get(base: str, params: dict[str, str], headers: dict[str, str]) -> dict[str, Any]:
    """A load-generator target: `GET /api/v1/requests` with these parameters and headers."""
    return {
        "kind": "http",
        "method": "GET",
        "url": f"{base}/api/v1/requests?{urlencode(params)}",
        "headers": headers,
        "body": None,
        "answer": "service",
    }


def direct_search(os_url: str, index: str, body: str, routing: str | None = None) -> dict[str, Any]:
    """A load-generator target: the page search `body` (JSON) sent straight to OpenSearch's `index`, answered with
    the service's own filter_path (and, given, `routing`)."""
    query = f"filter_path={PAGE_FILTER_PATH}" + (f"&routing={routing}" if routing is not None else "")
    return {
        "kind": "http",
        "method": "POST",
        "url": f"{os_url}/{index}/_search?{query}",
        "headers": {"Content-Type": "application/json"},
        "body": body,
        "answer": "opensearch",
    }


def save_and_report(result: dict[str, Any], out: Path, name: str, render: Callable[[dict[str, Any]], str]) -> int:
    """A single-purpose benchmark's ending: its JSON under `out` as `name`, its summary printed, exit 1 when a
    check failed."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(render(result))
    log(f"results: {path}")
    return 0 if all(check["ok"] for check in result.get("checks", [])) else 1


def log(line: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, help=f"documents (default {FULL_DOCS:,}; --quick {QUICK_DOCS:,})")
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer documents, requests and seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="where the JSON goes")
    parser.add_argument("--markdown", type=Path, default=REPO / "BENCHMARKS.md", help="report to regenerate")
    parser.add_argument("--no-markdown", action="store_true", help="write only the JSON")

    cells = parser.add_argument_group("query cells")
    cells.add_argument("--requests", type=int, help="timed requests per cell (default 200; quick 60)")
    cells.add_argument("--pg-naive-requests", type=int, help="timed requests per naive PostgreSQL cell (default 10)")
    cells.add_argument("--cell-seconds", type=float, help="time budget per cell (default 60; quick 15)")
    cells.add_argument("--statement-timeout", type=float, help="PostgreSQL statement_timeout, s (default 60; quick 20)")
    cells.add_argument("--rounds", type=int, help="interleaved rounds per cell (default 4; quick 2)")
    cells.add_argument("--concurrency", default="1,16", help="closed-loop clients (default 1,16)")

    load = parser.add_argument_group("ingest")
    load.add_argument("--ingest-sizes", help="two loader sizes for throughput and peak RSS (default N,4N; quick N/4,N)")
    load.add_argument("--sweep-docs", type=int, help="documents per raw-bulk sweep trial (default 20000; 0: no sweep)")
    load.add_argument("--no-ingest", action="store_true", help="skip the ingest phase")
    load.add_argument(
        "--ingest-only",
        action="store_true",
        help="only the ingest phase (no dataset, PostgreSQL or query cells); writes the JSON, not BENCHMARKS.md",
    )

    engines = parser.add_argument_group("engines")
    engines.add_argument("--opensearch-url", help="use this OpenSearch instead of starting the benchmark node")
    engines.add_argument("--node-port", type=int, default=9400)
    engines.add_argument("--heap", default="4g", help="the benchmark node's heap (default 4g)")
    engines.add_argument("--keep-node", action="store_true", help="leave the benchmark node running afterwards")
    engines.add_argument("--pg-dsn", help="use this PostgreSQL instead of a throwaway server")
    engines.add_argument("--pg-shared-buffers", help="throwaway server's shared_buffers (default: the node's heap)")
    engines.add_argument("--prefix", default="bench", help="index prefix of the dataset (default bench)")
    engines.add_argument("--tenant", default="bench")
    engines.add_argument(
        "--clickhouse",
        action="store_true",
        help="add ClickHouse (in-process via chdb, the `bench` extra) as a side of the query cells",
    )
    engines.add_argument("--clickhouse-path", type=Path, help="chdb data directory (default ~/.cache/...)")
    reuse = engines.add_mutually_exclusive_group()
    reuse.add_argument("--reuse", dest="fresh", action="store_false", help="reuse a loaded dataset (default)")
    reuse.add_argument("--fresh", dest="fresh", action="store_true", help="reload the dataset even if present")
    parser.set_defaults(fresh=False)  # two actions share the dest: without this, store_false's default (True) wins
    parser.add_argument("--keep-work", action="store_true", help="keep logs and load outputs")
    return parser


def settle(args: argparse.Namespace) -> dict[str, Any]:
    """Every knob with its default filled in (quick or full), as recorded in the JSON."""
    quick = bool(args.quick)
    docs = args.docs or (QUICK_DOCS if quick else FULL_DOCS)
    if args.ingest_sizes:
        sizes = comma_numbers(args.ingest_sizes)
    else:
        sizes = [max(1, docs // 4), docs] if quick else [docs, 4 * docs]
    heap_units = {"g": "GB", "m": "MB"}
    return {
        "docs": docs,
        "seed": args.seed,
        "quick": quick,
        "requests": args.requests or (60 if quick else 200),
        "pg_naive_requests": args.pg_naive_requests or (5 if quick else 10),
        "cell_seconds": args.cell_seconds or (15.0 if quick else 60.0),
        "statement_timeout": args.statement_timeout or (20.0 if quick else 60.0),
        "rounds": args.rounds or (2 if quick else 4),
        "concurrency": comma_numbers(args.concurrency),
        "ingest_sizes": [] if args.no_ingest else sizes,
        "sweep_docs": args.sweep_docs if args.sweep_docs is not None else (5000 if quick else 20_000),
        "tenant": args.tenant,
        "prefix": args.prefix,
        "clickhouse_path": (
            str(args.clickhouse_path or clickhouse.default_path(args.tenant)) if args.clickhouse else None
        ),
        "pg_settings": {
            "shared_buffers": args.pg_shared_buffers or args.heap[:-1] + heap_units[args.heap[-1].lower()],
            "work_mem": "64MB",
            "effective_cache_size": "12GB",
            "random_page_cost": "1.1",
        },
    }


def comma_numbers(text: str) -> list[int]:
    """`1,16` -> [1, 16]: the benchmarks' lists of concurrencies, sizes and depths."""
    return [int(x) for x in text.split(",") if x]


def add_cell_arguments(parser: argparse.ArgumentParser, cell_seconds: float) -> None:
    """The cells of a comparison over the query mix on the loaded benchmark node (bench.overhead, bench.scale,
    bench.floor): timed requests, interleaved rounds, a time budget and the concurrencies; `cell_config` reads them."""
    parser.add_argument("--requests", type=int, default=200, help="timed requests per cell")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--cell-seconds", type=float, default=cell_seconds)
    parser.add_argument("--concurrency", default="1,16")


def cell_config(args: argparse.Namespace) -> dict[str, Any]:
    """What `main_steps` needs of the options `add_cell_arguments` added."""
    return {
        "requests": args.requests,
        "rounds": args.rounds,
        "cell_seconds": args.cell_seconds,
        "concurrency": comma_numbers(args.concurrency),
    }


# -- load generator specs ------------------------------------------------------------------------------------


def search_body(query: Query, tenant: str) -> dict[str, Any]:
    """The search body the service builds for `query`'s API parameters: the direct side sends it as it is."""
    params = query.api_params()
    return build_search_body(parse_query(params, list(params)), tenant)


def targets(
    queries: list[Query], service_base: str | None, key: str | None, os_url: str, dsn: str, cfg: dict[str, Any]
) -> dict[str, Any]:
    read_alias = IndexNames(cfg["prefix"]).read_alias
    timeout_ms = int(cfg["statement_timeout"] * 1000)
    setup = [f"SET search_path = {pgschema.SEARCH_PATH}", f"SET statement_timeout = {timeout_ms}"]
    out: dict[str, Any] = {}
    for query in queries:
        if service_base is not None:
            out[f"{query.id}/service"] = service_get(
                service_base, query.api_params(), {"Authorization": f"Bearer {key}"}
            )
        out[f"{query.id}/direct"] = direct_search(os_url, read_alias, json.dumps(search_body(query, cfg["tenant"])))
        if cfg.get("clickhouse_path"):
            count_sql, page_sql = clickhouse.query_sql(query, cfg["tenant"])
            out[f"{query.id}/clickhouse"] = clickhouse.target_spec(
                Path(cfg["clickhouse_path"]), [count_sql, page_sql], "page"
            )
        for variant in VARIANTS:
            count_sql, page_sql, sql_params = query.sql(variant)
            out[f"{query.id}/pg_{variant}"] = {
                "kind": "postgres",
                "dsn": dsn,
                "setup": setup,
                "count_sql": count_sql,
                "page_sql": page_sql,
                "params": {**sql_params, "tenant": cfg["tenant"]},
            }
    return out


def main_steps(
    queries: list[Query], cfg: dict[str, Any], modes: tuple[str, ...] = SERVICE_MODES
) -> list[dict[str, Any]]:
    """Cells of `modes` for each query, split into rounds and interleaved (ABC, CBA, ...) so noise falls on all."""
    rounds = cfg["rounds"]
    steps: list[dict[str, Any]] = []
    for concurrency in cfg["concurrency"]:
        for query in queries:
            for number in range(rounds):
                for mode in modes if number % 2 == 0 else tuple(reversed(modes)):
                    steps.append(
                        {
                            "cell": f"{query.id}/{mode}/c{concurrency}",
                            "target": f"{query.id}/{mode}",
                            "concurrency": concurrency,
                            "requests": math.ceil(cfg["requests"] / rounds),
                            "max_seconds": cfg["cell_seconds"] / rounds,
                            "warmup": max(2, concurrency) if number == 0 else 0,
                        }
                    )
    return steps


def naive_steps(queries: list[Query], cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """Naive PostgreSQL cells: one round, no warm-up (a request can take the whole statement timeout)."""
    steps = []
    for concurrency in cfg["concurrency"]:
        for query in queries:
            steps.append(
                {
                    "cell": f"{query.id}/pg_naive/c{concurrency}",
                    "target": f"{query.id}/pg_naive",
                    "concurrency": concurrency,
                    "requests": max(cfg["pg_naive_requests"], concurrency),
                    "max_seconds": cfg["cell_seconds"],
                    "warmup": 0,
                }
            )
    return steps


def run_loadgen(spec: dict[str, Any], work: Path, name: str) -> dict[str, Any]:
    spec_path, out_path = work / f"{name}-spec.json", work / f"{name}-out.json"
    spec_path.write_text(json.dumps(spec, indent=1))
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-m", "bench.loadgen", str(spec_path), str(out_path)], check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"the load generator failed ({completed.returncode}) on {spec_path}")
    result: dict[str, Any] = json.loads(out_path.read_text())
    log(f"{name}: {len(result['cells'])} cells in {time.perf_counter() - started:.0f}s")
    return result


# -- the run --------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    cfg = settle(args)
    started = time.time()
    work = Path(tempfile.mkdtemp(prefix="llmsearch-bench-"))
    log(f"work directory {work}")
    result: dict[str, Any] = {
        "command": "python -m bench.run " + shlex.join(argv),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "config": cfg,
        "machine": machine.describe() | {"load_average_start": machine.load_average()},
    }
    queries = query_mix(cfg["seed"])
    result["queries"] = [
        {
            "id": q.id,
            "title": q.title,
            "params": q.api_params(),
            "sql": {v: dict(zip(("count", "page"), q.sql(v)[:2], strict=True)) for v in VARIANTS},
            "plan": q.plan,
            "same_semantics": q.same_semantics,
            "semantics": q.semantics,
        }
        for q in queries
    ]
    ok = False
    try:
        if args.ingest_only:
            with node.opensearch(args.opensearch_url, args.node_port, args.heap, args.keep_node, log) as os_url:
                result["opensearch"] = node.describe(os_url, cfg["prefix"])
                result["ingest"] = ingest_phase(os_url, cfg, work)
            result["seconds"] = round(time.time() - started, 1)
            ok = True
            return result
        with node.opensearch(args.opensearch_url, args.node_port, args.heap, args.keep_node, log) as os_url:
            result["dataset"] = {"opensearch_load": prepare_dataset(os_url, cfg, args.fresh, work)}
            with postgres.server(args.pg_dsn, {} if args.pg_dsn else cfg["pg_settings"], log) as dsn:
                result["postgres"] = postgres.describe(dsn)
                result["dataset"]["postgres_load"] = postgres.load(
                    dsn, cfg["docs"], cfg["seed"], cfg["tenant"], reuse=not args.fresh, log=log
                )
                if cfg["clickhouse_path"]:
                    result["dataset"]["clickhouse_load"] = clickhouse.load(
                        Path(cfg["clickhouse_path"]), cfg["docs"], cfg["seed"], cfg["tenant"], not args.fresh, log
                    )
                result["cells"], result["plans"], result["dataset"]["postgres_tuned_index_seconds"] = query_phases(
                    queries, os_url, dsn, cfg, work
                )
                result["dataset"]["postgres"] = postgres.sizes(dsn)
            result["opensearch"] = node.describe(os_url, cfg["prefix"])
            if cfg["clickhouse_path"]:
                result["clickhouse"] = clickhouse.describe() | clickhouse.sizes(Path(cfg["clickhouse_path"]))
            if cfg["ingest_sizes"]:
                result["ingest"] = ingest_phase(os_url, cfg, work)
        result["machine"]["load_average_end"] = machine.load_average()
        result["seconds"] = round(time.time() - started, 1)
        result["checks"] = report.checks(result)
        ok = True
    finally:
        if ok and not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"work files kept in {work}")
    return result


def prepare_dataset(os_url: str, cfg: dict[str, Any], fresh: bool, work: Path) -> dict[str, Any]:
    prefix, tenant, docs, seed = cfg["prefix"], cfg["tenant"], cfg["docs"], cfg["seed"]
    if not fresh and node.dataset_present(os_url, prefix, tenant, docs, seed):
        log(f"OpenSearch: reusing the loaded dataset ({docs:,} documents, seed {seed}, prefix '{prefix}')")
        return {"reused": True}
    loaded = node.load_dataset(os_url, prefix, tenant, docs, seed, work, log)
    node.wait_for_merges(os_url, prefix)
    return {"reused": False, **loaded}


def query_phases(
    queries: list[Query], os_url: str, dsn: str, cfg: dict[str, Any], work: Path
) -> tuple[dict[str, Any], dict[str, Any], dict[str, float]]:
    plans = {query.id: {"naive": explain_plans(dsn, query, "naive", cfg["tenant"])} for query in queries}

    log('phase: naive PostgreSQL (primary key and "userId" index only)')
    naive_targets = targets(queries, None, None, os_url, dsn, cfg)
    naive_spec = {
        "targets": {k: v for k, v in naive_targets.items() if k.endswith("/pg_naive")},
        "steps": naive_steps(queries, cfg),
        "progress": True,
    }
    naive = run_loadgen(naive_spec, work, "naive")

    log("phase: building the tuned PostgreSQL indexes")
    index_seconds = postgres.apply_tuned(dsn, log)
    for query in queries:
        plans[query.id]["tuned"] = explain_plans(dsn, query, "tuned", cfg["tenant"])

    log("phase: service / direct OpenSearch / tuned PostgreSQL, interleaved")
    key = api.create_key(os_url, cfg["prefix"], cfg["tenant"])
    with api.service(os_url, cfg["prefix"], work / "service.log") as base:
        all_targets = targets(queries, base, key, os_url, dsn, cfg)
        main_spec = {
            "targets": {k: v for k, v in all_targets.items() if not k.endswith("/pg_naive")},
            "steps": main_steps(
                queries, cfg, (*SERVICE_MODES, "clickhouse") if cfg["clickhouse_path"] else SERVICE_MODES
            ),
            "progress": True,
        }
        main = run_loadgen(main_spec, work, "main")
    return naive["cells"] | main["cells"], plans, index_seconds


def explain_plans(dsn: str, query: Query, variant: PgVariant, tenant: str) -> dict[str, Any]:
    """PostgreSQL's plans for the query's count and page statements, as they run under `variant`'s indexes."""
    count_sql, page_sql, params = query.sql(variant)
    params["tenant"] = tenant
    return {"count": postgres.explain(dsn, count_sql, params), "page": postgres.explain(dsn, page_sql, params)}


def ingest_phase(os_url: str, cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    scratch = f"{cfg['prefix']}-ingest"
    small, large = cfg["ingest_sizes"][0], cfg["ingest_sizes"][-1]
    # The loader is compared with the raw baseline at the size closest to the dataset's.
    compared = min((small, large), key=lambda n: abs(n - cfg["docs"]))
    seed, tenant = cfg["seed"], cfg["tenant"]
    try:
        log(f"ingest: raw opensearch-py bulk baseline, {compared:,} documents (sweep of {cfg['sweep_docs']:,})")
        raw = ingest.run_raw(os_url, compared, seed, tenant, scratch, cfg["sweep_docs"], work)
        log(f"ingest: raw {raw['docs_per_s']:,.0f} docs/s ({raw['threads']} threads x {raw['chunk_size']})")
        loader_runs = []
        for size in dict.fromkeys((small, large)):
            log(f"ingest: the loader, {size:,} documents")
            loader_runs.append(ingest.run_loader(os_url, size, seed, tenant, scratch, work))
            log(
                f"ingest: loader {loader_runs[-1]['docs_per_s']:,.0f} docs/s, peak RSS {loader_runs[-1]['peak_rss_mb']} MB"
            )
    finally:
        ingest.drop_prefix(os_url, scratch)
    return {"raw": raw, "loader": loader_runs}


def output_path(out: Path, result: dict[str, Any]) -> Path:
    suffix = "-quick" if result["config"]["quick"] else ""
    docs = result["config"]["docs"]
    if "cells" not in result:  # an ingest-only run: named for the largest load it made
        suffix += "-ingest"
        docs = max(result["config"]["ingest_sizes"])
    return out / f"{result['date']}-{docs}{suffix}.json"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    result = run(args, argv)
    args.out.mkdir(parents=True, exist_ok=True)
    path = output_path(args.out, result)
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    log(f"results: {path}")
    if args.ingest_only:
        raw, loaders = result["ingest"]["raw"], result["ingest"]["loader"]
        for run_ in loaders:
            log(f"loader/raw at {run_['docs']:,}: {run_['docs_per_s'] / raw['docs_per_s']:.2f}x")
        return 0
    if not args.no_markdown:
        report.update_markdown(args.markdown, result, path)
        log(f"report: {args.markdown}")
    failed = [c for c in result["checks"] if not c["ok"]]
    for check in failed:
        log(f"CHECK FAILED: {check['what']}: {check['detail']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
