"""`python -m bench.floor`: how close to direct OpenSearch any Python service can be on this machine.

Three sides of the query mix, interleaved round by round through the load generator against the loaded benchmark
node: OpenSearch direct (the service's own search body, filter_path and routing), the service, and
`bench.floor_proxy`, which forwards the same body and returns the engine's bytes untouched (no key, no parsing, no
rendering, no log). The proxy's ratio to direct is the floor that the second hop alone costs here: the service's
overhead target (issue 10: p50 within 1.10x of direct) is only reachable if the floor is under it. Writes
`<out>/<date>-floor.json` and prints a table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench import api, machine, node
from bench.report import geomean, ms, quotient, ratio, table, value
from bench.run import (
    REPO,
    add_cell_arguments,
    cell_config,
    direct_search,
    main_steps,
    run_loadgen,
    save_and_report,
    search_body,
    service_get,
)
from bench.workload import query_mix
from core.routing import tenant_routing
from core.templates import IndexNames
from service.page import PAGE_FILTER_PATH

MODES = ("direct", "proxy", "service")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.split("\n")[0])
    parser.add_argument("--opensearch-url", default="http://127.0.0.1:9400", help="the benchmark node, loaded")
    parser.add_argument("--docs", type=int, default=1_000_000, help="documents loaded (checked)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--tenant", default="bench")
    add_cell_arguments(parser, cell_seconds=40.0)
    parser.add_argument("--proxy-port", type=int, default=8110)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    return parser


def start_proxy(engine_search_url: str, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-m", "bench.floor_proxy", engine_search_url, str(port)], cwd=REPO)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            register(port, "ready", b"{}")
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("bench.floor_proxy did not start")


def register(port: int, query_id: str, body: bytes) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/register?q={query_id}", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=5) as answer:
        answer.read()


def run(args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    node.require_dataset(args.opensearch_url, args.prefix, args.tenant, args.docs, args.seed)
    cfg = {"docs": args.docs, **cell_config(args)}
    queries = query_mix(args.seed)
    read_alias = IndexNames(args.prefix).read_alias
    routing = tenant_routing(args.tenant)
    engine_search = f"{args.opensearch_url}/{read_alias}/_search?filter_path={PAGE_FILTER_PATH}&routing={routing}"
    work = Path(tempfile.mkdtemp(prefix="llmsearch-floor-"))
    key = api.create_key(args.opensearch_url, args.prefix, args.tenant)
    proxy = start_proxy(engine_search, args.proxy_port)
    try:
        with api.service(args.opensearch_url, args.prefix, work / "service.log") as service_base:
            targets: dict[str, Any] = {}
            for query in queries:
                params = query.api_params()
                body = json.dumps(search_body(query, args.tenant))
                register(args.proxy_port, query.id, body.encode())
                targets[f"{query.id}/direct"] = direct_search(args.opensearch_url, read_alias, body, routing)
                targets[f"{query.id}/proxy"] = {
                    "kind": "http",
                    "method": "GET",
                    "url": f"http://127.0.0.1:{args.proxy_port}/search?q={query.id}",
                    "answer": "opensearch",
                }
                targets[f"{query.id}/service"] = service_get(service_base, params, {"Authorization": f"Bearer {key}"})
            result = run_loadgen(
                {"targets": targets, "steps": main_steps(queries, cfg, MODES), "progress": True}, work, "floor"
            )
    finally:
        proxy.terminate()
        proxy.wait()
    return {
        "command": "python -m bench.floor " + shlex.join(argv),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "config": cfg,
        "machine": machine.describe(),
        "queries": [{"id": q.id, "title": q.title} for q in queries],
        "cells": result["cells"],
        "checks": [],
    }


def render(result: dict[str, Any]) -> str:
    cells = result["cells"]
    lines = [f"{result['date']}, {result['config']['docs']:,} documents:", "", "```sh", result["command"], "```", ""]
    for concurrency in result["config"]["concurrency"]:
        rows = []
        proxy_ratios: list[float | None] = []
        service_ratios: list[float | None] = []
        for query in result["queries"]:
            get = {mode: cells.get(f"{query['id']}/{mode}/c{concurrency}") for mode in MODES}
            direct = value(get["direct"], "p50_ms")
            proxy, service = value(get["proxy"], "p50_ms"), value(get["service"], "p50_ms")
            proxy_ratios.append(quotient(proxy, direct))
            service_ratios.append(quotient(service, direct))
            rows.append(
                [
                    query["id"],
                    ms(get["direct"], "p50_ms"),
                    ms(get["proxy"], "p50_ms"),
                    ms(get["service"], "p50_ms"),
                    ratio(proxy, direct),
                    ratio(service, direct),
                ]
            )
        means = [geomean(proxy_ratios), geomean(service_ratios)]
        rows.append(["**geometric mean**", "", "", "", *(f"**{m:.2f}x**" if m else "—" for m in means)])
        lines += [f"Concurrency {concurrency}:", ""]
        headers = ["query", "direct p50", "proxy p50", "service p50", "proxy/direct", "service/direct"]
        lines += [*table(headers, rows), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    result = run(args, argv)
    return save_and_report(result, args.out, f"{result['date']}-floor.json", render)


if __name__ == "__main__":
    raise SystemExit(main())
