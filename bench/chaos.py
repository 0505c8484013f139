"""`python -m bench.chaos`: a local 3-node cluster loses each node in turn while a load runs and queries flow.

The claims under test (README, "Several hosts, failover and timeouts"; issue 12): with replicas 1 and the service
and loader given every node's URL, SIGKILLing any one node (a data node, the elected cluster manager, the host named
first in the URL) and starting it again fails no query and loses or doubles no record.

1. A 3-node cluster of its own (`--port` 9330-9332, transport 9430-9432, `--heap` per node), started fresh (its
   directory is wiped first) with `llmsearch node start`'s code; every index has 1 replica (the templates'
   `auto_expand_replicas: 0-1` on 3 nodes).
2. A fixed tenant (`fixed`, `--fixed-records`) is loaded first; its counts (all, per model) are the expected answers.
3. The service (`llmsearch serve`, its own process, OPENSEARCH_URL naming all three nodes) and the loader
   (`llmsearch load synthetic --count --records` for tenant `load`, its own process, same URL) start; queries go to
   the service at `--qps` (open loop: one every 1/qps s whatever the latency), round-robin over a list page, a
   filtered count and a by-id lookup of the fixed tenant, each checked against the expected answer.
4. After `--warmup` seconds, for each of `--kills` (data, manager, first): SIGKILL that node, leave the cluster with
   two nodes for `--down` seconds, start the missing node again (`LocalCluster.start`), and time until the cluster
   is green. At the first kill a second loader starts: `--version-ids` ids, three versions each, shuffled, four bulk
   requests in flight, to check that the newest record of each id is what stays.
5. When the loaders have exited and the kills are done, queries stop; the index is checked: documents of `load`
   (lost: records missing, duplicated: ids held twice, by an exact composite aggregation), the newest version of
   every versioned id, the fixed tenant's counts again.

Writes `<out>/<date>-chaos-<records>.json`, prints the figures, and with `--reliability` (default for a full run:
200,000+ records and all three kills) rewrites RELIABILITY.md with them. Exits 1 if a check fails: a 5xx or wrong
answer, a loader exit other than 0, a lost or doubled record, an older version kept, the fixed counts moving.
Needs about 4 GB (3 x `--heap` 1g, the service, the loader) and a few minutes; not part of `./dev test`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import shlex
import shutil
import signal
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from opensearchpy import AsyncOpenSearch

from bench import api, machine
from bench.run import REPO, log, save_and_report
from core.engine import make_client
from core.settings import NodeSettings, OpenSearchSettings
from core.templates import IndexNames, apply_templates
from loaders.options import LoadOptions
from loaders.run import load
from loaders.sources.synthetic_source import SyntheticSource
from localnode.local import LocalCluster, NodeSpec

PREFIX = "chaos"
FIXED, LOADED, VERSIONED = "fixed", "load", "versions"
ROLES = ("data", "manager", "first")
VERSIONS = 3
FULL_RECORDS = 200_000
GREEN_TIMEOUT_SECONDS = 900.0
QUERY_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Options:
    records: int = FULL_RECORDS
    qps: float = 25.0
    port: int = 9330
    heap: str = "1g"
    kills: tuple[str, ...] = ROLES
    warmup: float = 20.0
    down: float = 15.0
    settle: float = 10.0
    fixed_records: int = 2000
    version_ids: int = 1000
    keep: bool = False
    out: Path = REPO / "bench" / "results"
    reliability: bool | None = None  # None: for a full run

    @property
    def full(self) -> bool:
        return self.records >= FULL_RECORDS and set(self.kills) == set(ROLES)


@dataclass
class Sample:
    sent: float  # seconds since the chaos phase began
    kind: str
    latency: float
    status: int  # 0: no HTTP answer
    correct: bool


@dataclass
class Kill:
    role: str
    node: str
    killed_at: float
    restarted_at: float = 0.0  # the node answers again
    green_at: float = 0.0
    during_load: bool = False


@dataclass
class Expected:
    total: int
    by_model: dict[str, int]
    ids: list[str]


@dataclass
class Run:
    """What the chaos phase saw, in seconds since it began."""

    samples: list[Sample] = field(default_factory=list)
    kills: list[Kill] = field(default_factory=list)
    load_exit: int | None = None
    load_result: dict[str, Any] = field(default_factory=dict)
    versions_exit: int | None = None
    load_seconds: float = 0.0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    options = Options(
        records=args.records,
        qps=args.qps,
        port=args.port,
        heap=args.heap,
        kills=tuple(args.kills.split(",")) if args.kills else (),
        warmup=args.warmup,
        down=args.down,
        settle=args.settle,
        fixed_records=args.fixed_records,
        version_ids=args.version_ids,
        keep=args.keep,
        out=args.out,
        reliability=args.reliability,
    )
    result = run(options)
    name = f"{result['date']}-chaos-{options.records}.json"
    status = save_and_report(result, options.out, name, render)
    if options.reliability if options.reliability is not None else options.full:
        (REPO / "RELIABILITY.md").write_text(reliability_page(result))
        log("RELIABILITY.md rewritten")
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.split("\n")[0])
    defaults = Options()
    parser.add_argument("--records", type=int, default=defaults.records, help="records the loader indexes")
    parser.add_argument("--qps", type=float, default=defaults.qps, help="queries per second through the service")
    parser.add_argument("--port", type=int, default=defaults.port, help="HTTP port of node-0 (node i: port + i)")
    parser.add_argument("--heap", default=defaults.heap, help="JVM heap per node")
    parser.add_argument("--kills", default=",".join(ROLES), help="nodes to kill in turn: data, manager, first")
    parser.add_argument("--warmup", type=float, default=defaults.warmup, help="seconds of load before the first kill")
    parser.add_argument("--down", type=float, default=defaults.down, help="seconds a killed node stays down")
    parser.add_argument("--settle", type=float, default=defaults.settle, help="seconds after green before the next")
    parser.add_argument("--fixed-records", type=int, default=defaults.fixed_records)
    parser.add_argument("--version-ids", type=int, default=defaults.version_ids)
    parser.add_argument("--keep", action="store_true", help="leave the cluster running")
    parser.add_argument("--out", type=Path, default=defaults.out, help="where the JSON goes")
    parser.add_argument(
        "--reliability",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="rewrite RELIABILITY.md (default: for a full run)",
    )
    return parser


def run(options: Options) -> dict[str, Any]:
    """The whole check; the result holds the figures and the checks (see the module docstring)."""
    cluster = LocalCluster(NodeSettings(port=options.port, heap=options.heap), nodes=3)
    work = options.out / "work" / f"chaos-{time.strftime('%Y%m%d-%H%M%S')}"
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    fresh_cluster(cluster)
    try:
        urls = cluster.urls
        expected = asyncio.run(prepare(urls, options))
        key = api.create_key(urls, PREFIX, FIXED)
        with api.service(urls, PREFIX, work / "service.log") as base:
            seen = asyncio.run(chaos(cluster, base, key, expected, options, work))
        # Every query (time sent, kind, latency, status, correct), to see when a slow or failed one happened.
        (work / "queries.json").write_text(json.dumps([asdict(sample) for sample in seen.samples]))
        verified = asyncio.run(verify(urls, expected, options))
    finally:
        if not options.keep:
            cluster.stop(log=log)
    return result(options, seen, verified, expected, time.time() - started)


def fresh_cluster(cluster: LocalCluster) -> None:
    """A cluster with no history: stopped if it runs, its directory wiped, started."""
    cluster.stop(log=log)
    shutil.rmtree(cluster.directory, ignore_errors=True)
    cluster.start(log=lambda line: log(f"cluster: {line}"))


def client_for(urls: str) -> AsyncOpenSearch:
    return make_client(urls, OpenSearchSettings(url=urls, timeout_seconds=120))


async def prepare(urls: str, options: Options) -> Expected:
    """Templates, and the fixed tenant's records with the answers the queries should get."""
    client = client_for(urls)
    names = IndexNames(PREFIX)
    try:
        await apply_templates(client, names)
        opts = LoadOptions(state_dir=options.out / "work" / "state", backfill="off", progress="none")
        await load(SyntheticSource(options.fixed_records, 11), client=client, names=names, tenant=FIXED, options=opts)
        return await fixed_answers(client, names)
    finally:
        await client.close()


async def fixed_answers(client: AsyncOpenSearch, names: IndexNames) -> Expected:
    await client.indices.refresh(index=names.read_alias)
    body = {
        "size": 20,
        "query": {"term": {"tenant_id": FIXED}},
        "aggs": {"models": {"terms": {"field": "model", "size": 3}}},
        "_source": ["id"],
        "track_total_hits": True,
    }
    found = await client.search(index=names.read_alias, body=body)
    return Expected(
        total=found["hits"]["total"]["value"],
        by_model={b["key"]: b["doc_count"] for b in found["aggregations"]["models"]["buckets"]},
        ids=[hit["_source"]["id"] for hit in found["hits"]["hits"]],
    )


async def chaos(cluster: LocalCluster, base: str, key: str, expected: Expected, options: Options, work: Path) -> Run:
    seen = Run()
    clock = time.monotonic()
    stop = asyncio.Event()
    loader = await start_load(cluster.urls, options, work)
    queries = asyncio.create_task(send_queries(base, key, expected, options.qps, clock, seen, stop))
    waiting = asyncio.create_task(wait_load(loader, clock, seen, work))
    versions: asyncio.Task[int] | None = None
    await asyncio.sleep(options.warmup)
    for number, role in enumerate(options.kills):
        kill = await kill_node(cluster, role, clock, loader)
        seen.kills.append(kill)
        if number == 0:
            versions = asyncio.create_task(load_versions(cluster.urls, options, work))
        await asyncio.sleep(options.down)
        await restart(cluster, kill, clock)
        await asyncio.sleep(options.settle)
    await waiting
    seen.versions_exit = await versions if versions is not None else await load_versions(cluster.urls, options, work)
    await asyncio.sleep(2.0)  # a last stretch of queries over the settled cluster
    stop.set()
    await queries
    return seen


async def start_load(urls: str, options: Options, work: Path) -> asyncio.subprocess.Process:
    command = [
        *("-m", "cli.main", "load", "synthetic", "--count", str(options.records), "--seed", "7"),
        *("--tenant", LOADED, "--index-prefix", PREFIX, "--state-dir", str(work / "state")),
        *("--progress", "lines", "--progress-interval", "10", "--json"),
    ]
    log(f"loader: llmsearch load synthetic --count {options.records:,}")
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *command,
        cwd=REPO,
        env={**os.environ, "OPENSEARCH_URL": urls},
        stdout=(work / "load.json").open("wb"),
        stderr=(work / "load.log").open("wb"),
    )


async def wait_load(process: asyncio.subprocess.Process, clock: float, seen: Run, work: Path) -> None:
    seen.load_exit = await process.wait()
    seen.load_seconds = time.monotonic() - clock
    log(f"loader: exit {seen.load_exit} after {seen.load_seconds:.0f}s")
    try:
        seen.load_result = json.loads((work / "load.json").read_text())
    except (OSError, ValueError):
        seen.load_result = {}


def version_record(number: int, version: int) -> dict[str, Any]:
    request_id = f"ver-{number:06d}"
    return {
        "id": request_id,
        "createdAt": "2025-09-01T00:00:00Z",
        "updatedAt": f"2025-09-01T00:{version:02d}:00Z",
        "model": "gpt-4o",
        "status": 200,
        "completion": f"version {version}",
        "request_body": {"messages": [{"role": "user", "content": f"question {number}"}]},
    }


async def load_versions(urls: str, options: Options, work: Path) -> int:
    """Every id in three versions, shuffled, four bulk requests in flight: the newest must stay."""
    records = [version_record(n, v) for n in range(options.version_ids) for v in range(VERSIONS)]
    random.Random(3).shuffle(records)
    path = work / "versions.ndjson"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    command = [
        *("-m", "cli.main", "load", str(path), "--tenant", VERSIONED, "--index-prefix", PREFIX),
        *("--state-dir", str(work / "state"), "--concurrency", "4", "--chunk-size", "50", "--batch-size", "50"),
        *("--progress", "none", "--json"),
    ]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *command,
        cwd=REPO,
        env={**os.environ, "OPENSEARCH_URL": urls},
        stdout=(work / "versions.json").open("wb"),
        stderr=(work / "versions.log").open("wb"),
    )
    code = await process.wait()
    log(f"versions loader: exit {code}")
    return code


async def send_queries(
    base: str, key: str, expected: Expected, qps: float, clock: float, seen: Run, stop: asyncio.Event
) -> None:
    """One query every 1/qps seconds, each on its own task (an open loop: a slow answer delays no other)."""
    headers = {"Authorization": f"Bearer {key}"}
    timeout = aiohttp.ClientTimeout(total=QUERY_TIMEOUT_SECONDS)
    pending: set[asyncio.Task[None]] = set()
    async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
        number = 0
        while not stop.is_set():
            task = asyncio.create_task(one_query(session, base, expected, number, clock, seen))
            pending.add(task)
            task.add_done_callback(pending.discard)
            number += 1
            next_at = clock + number / qps
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await asyncio.gather(*pending)


async def one_query(
    session: aiohttp.ClientSession, base: str, expected: Expected, number: int, clock: float, seen: Run
) -> None:
    kind = ("list", "filter", "by-id")[number % 3]
    model = sorted(expected.by_model)[number % len(expected.by_model)]
    request_id = expected.ids[number % len(expected.ids)]
    if kind == "list":
        url, want = f"{base}/api/v1/requests?pageSize=5", expected.total
    elif kind == "filter":
        url, want = (
            f"{base}/api/v1/requests?{urlencode({'filter': json.dumps({'model': model})})}",
            expected.by_model[model],
        )
    else:
        url, want = f"{base}/api/v1/requests/{request_id}", 0
    sent = time.monotonic()
    status, correct = 0, False
    try:
        async with session.get(url) as response:
            status = response.status
            body = await response.json(content_type=None)
            if status == 200:
                correct = body.get("id") == request_id if kind == "by-id" else body.get("totalCount") == want
    except (aiohttp.ClientError, TimeoutError, ValueError):
        pass
    seen.samples.append(Sample(sent - clock, kind, time.monotonic() - sent, status, correct))


def elected_manager(cluster: LocalCluster) -> str | None:
    for spec in cluster.specs():
        try:
            with urllib.request.urlopen(f"{spec.url}/_cat/cluster_manager?format=json", timeout=5) as answer:
                return str(json.loads(answer.read())[0]["node"])
        except (OSError, ValueError, IndexError, KeyError):
            continue
    return None


def victim(cluster: LocalCluster, role: str) -> NodeSpec:
    specs = cluster.specs()
    manager = elected_manager(cluster)
    if role == "first":
        return specs[0]
    if role == "manager":
        return next(spec for spec in specs if spec.name == manager)
    return next(spec for spec in specs if spec.name not in (manager, specs[0].name))


async def kill_node(cluster: LocalCluster, role: str, clock: float, loader: asyncio.subprocess.Process) -> Kill:
    spec = await asyncio.to_thread(victim, cluster, role)
    pid = cluster.running_pids()[spec.name]
    os.kill(pid, signal.SIGKILL)
    kill = Kill(role, spec.name, time.monotonic() - clock, during_load=loader.returncode is None)
    log(f"chaos: SIGKILL {spec.name} ({role}), pid {pid}, at {kill.killed_at:.1f}s")
    return kill


async def restart(cluster: LocalCluster, kill: Kill, clock: float) -> None:
    await asyncio.to_thread(cluster.start, lambda line: log(f"cluster: {line}"))
    kill.restarted_at = time.monotonic() - clock
    await asyncio.to_thread(wait_green, cluster)
    kill.green_at = time.monotonic() - clock
    log(f"chaos: {kill.node} back at {kill.restarted_at:.1f}s, green at {kill.green_at:.1f}s")


def wait_green(cluster: LocalCluster) -> None:
    deadline = time.monotonic() + GREEN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        for spec in cluster.specs():
            try:
                url = f"{spec.url}/_cluster/health?wait_for_status=green&timeout=5s"
                with urllib.request.urlopen(url, timeout=10) as answer:
                    if json.loads(answer.read()).get("status") == "green":
                        return
            except (OSError, ValueError):
                continue
        time.sleep(0.5)
    raise RuntimeError(f"the cluster did not turn green within {GREEN_TIMEOUT_SECONDS:.0f}s")


async def verify(urls: str, expected: Expected, options: Options) -> dict[str, Any]:
    """What the index holds after the chaos: the load's ids (exactly), the versioned ids' newest, the fixed counts."""
    client = client_for(urls)
    names = IndexNames(PREFIX)
    try:
        await client.indices.refresh(index=names.read_alias)
        distinct, doubled, held = await id_counts(client, names, LOADED)
        newest = await newest_versions(client, names)
        after = await fixed_answers(client, names)
    finally:
        await client.close()
    return {
        "in_index": held,
        "distinct_ids": distinct,
        "lost": options.records - distinct,
        "duplicated": doubled,
        "versions_newest": newest,
        "fixed_after": {"total": after.total, "by_model": after.by_model},
    }


async def id_counts(client: AsyncOpenSearch, names: IndexNames, tenant: str) -> tuple[int, int, int]:
    """(distinct ids, ids held more than once, documents) of a tenant, exactly: a composite aggregation's pages."""
    distinct = doubled = held = 0
    after: dict[str, Any] | None = None
    while True:
        composite: dict[str, Any] = {"size": 10_000, "sources": [{"id": {"terms": {"field": "id"}}}]}
        if after is not None:
            composite["after"] = after
        body = {"size": 0, "query": {"term": {"tenant_id": tenant}}, "aggs": {"ids": {"composite": composite}}}
        page = (await client.search(index=names.read_alias, body=body, request_timeout=300))["aggregations"]["ids"]
        for bucket in page["buckets"]:
            distinct += 1
            held += bucket["doc_count"]
            doubled += bucket["doc_count"] > 1
        after = page.get("after_key")
        if not page["buckets"] or after is None:
            return distinct, doubled, held


async def newest_versions(client: AsyncOpenSearch, names: IndexNames) -> dict[str, int]:
    body = {"size": 10_000, "query": {"term": {"tenant_id": VERSIONED}}, "_source": ["completion"]}
    hits = (await client.search(index=names.read_alias, body=body))["hits"]["hits"]
    newest = sum(hit["_source"]["completion"] == f"version {VERSIONS - 1}" for hit in hits)
    return {"ids": len(hits), "newest": newest}


def result(options: Options, seen: Run, verified: dict[str, Any], expected: Expected, seconds: float) -> dict[str, Any]:
    queries = query_figures(seen)
    counts = seen.load_result.get("counts", {})
    kills = [
        {
            **asdict(kill),
            "down_s": round(kill.restarted_at - kill.killed_at, 1),
            "to_green_s": round(kill.green_at - kill.restarted_at, 1),
        }
        for kill in seen.kills
    ]
    figures = {
        "queries": queries,
        "kills": kills,
        "load": {
            "records": options.records,
            "exit": seen.load_exit,
            "seconds": round(seen.load_seconds, 1),
            "loaded": counts.get("created", 0) + counts.get("updated", 0),
            "superseded": counts.get("superseded", 0),
            "rejected": counts.get("rejected", 0),
            **{k: verified[k] for k in ("in_index", "lost", "duplicated")},
        },
        "versions": {"exit": seen.versions_exit, **verified["versions_newest"]},
        "fixed": {"before": {"total": expected.total, "by_model": expected.by_model}, "after": verified["fixed_after"]},
    }
    return {
        "date": dt.date.today().isoformat(),
        "command": "python -m bench.chaos " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "machine": machine.describe(),
        "load_average_after": machine.load_average(),
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()},
        "seconds": round(seconds, 1),
        **figures,
        "checks": checks(options, figures),
    }


def query_figures(seen: Run) -> dict[str, Any]:
    samples = seen.samples
    windows = [(kill.killed_at, kill.green_at or float("inf")) for kill in seen.kills]
    two_nodes = [(kill.killed_at, kill.restarted_at or float("inf")) for kill in seen.kills]
    failover = [s for s in samples if any(start <= s.sent <= end for start, end in windows)]
    latencies = sorted(s.latency for s in samples)
    return {
        "sent": len(samples),
        "ok": sum(s.status == 200 and s.correct for s in samples),
        "failed_5xx": sum(s.status >= 500 for s in samples),
        "failed_5xx_with_two_nodes": sum(
            s.status >= 500 and any(a <= s.sent <= b for a, b in two_nodes) for s in samples
        ),
        "no_answer": sum(s.status == 0 for s in samples),
        "wrong": sum(s.status == 200 and not s.correct for s in samples),
        "other_status": sum(0 < s.status < 500 and s.status != 200 for s in samples),
        "rate_per_s": round(len(samples) / max(s.sent for s in samples), 1) if samples else 0.0,
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1) if latencies else None,
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "max_failover_ms": round(max((s.latency for s in failover), default=0.0) * 1000, 1),
        "during_failover": len(failover),
    }


def checks(options: Options, figures: dict[str, Any]) -> list[dict[str, Any]]:
    queries, load_figures, versions = figures["queries"], figures["load"], figures["versions"]
    return [
        check("no 5xx, no unanswered query", queries["failed_5xx"] + queries["no_answer"] == 0, queries),
        check("every answer correct", queries["wrong"] + queries["other_status"] == 0, queries["wrong"]),
        check("at least 20 queries/s", queries["rate_per_s"] >= min(20.0, options.qps * 0.9), queries["rate_per_s"]),
        check("loader exit 0", load_figures["exit"] == 0, load_figures["exit"]),
        check("no record lost", load_figures["lost"] == 0, load_figures["lost"]),
        check("no record doubled", load_figures["duplicated"] == 0, load_figures["duplicated"]),
        check("versions loader exit 0", versions["exit"] == 0, versions["exit"]),
        check(
            "newest version kept",
            versions["ids"] == versions["newest"] == options.version_ids,
            versions,
        ),
        check("fixed counts unchanged", figures["fixed"]["before"] == figures["fixed"]["after"], figures["fixed"]),
        check("every node killed turned green", all(k["green_at"] > 0 for k in figures["kills"]), figures["kills"]),
    ]


def check(name: str, ok: bool, detail: Any) -> dict[str, Any]:
    return {"name": name, "ok": bool(ok), "detail": detail}


def render(result: dict[str, Any]) -> str:
    q, load_figures = result["queries"], result["load"]
    lines = [
        f"chaos: {load_figures['records']:,} records, {len(result['kills'])} kill(s), {result['seconds']:.0f}s",
        f"queries: {q['sent']:,} sent at {q['rate_per_s']}/s, {q['failed_5xx']} failed (5xx), "
        f"{q['no_answer']} unanswered, {q['wrong']} wrong; p50 {q['p50_ms']} ms, p99 {q['p99_ms']} ms, "
        f"max {q['max_ms']} ms, max during failover {q['max_failover_ms']} ms",
        f"load: exit {load_figures['exit']}, {load_figures['loaded']:,} loaded in {load_figures['seconds']}s, "
        f"{load_figures['lost']} lost, {load_figures['duplicated']} duplicated",
    ]
    for kill in result["kills"]:
        lines.append(
            f"kill {kill['node']} ({kill['role']}{', during the load' if kill['during_load'] else ''}): "
            f"down {kill['down_s']}s, back to green in {kill['to_green_s']}s"
        )
    lines += [f"{'ok  ' if c['ok'] else 'FAIL'} {c['name']}" for c in result["checks"]]
    return "\n".join(lines)


def reliability_page(result: dict[str, Any]) -> str:
    cpu = result["machine"].get("cpu")
    return (
        "# Reliability\n\n"
        "Figures of the failover check (`python -m bench.chaos`, described in its docstring and the README's\n"
        '"Several hosts, failover and timeouts"), rewritten by each full run.\n\n'
        f"- date: {result['date']}; machine: {result['machine']['cores']} cores, "
        f"{(result['machine']['memory_bytes'] or 0) / 2**30:.0f} GB, {cpu}\n"
        f"- command: `{result['command']}`\n\n"
        "```\n" + render(result) + "\n```\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())
