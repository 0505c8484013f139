"""`python -m bench.analyzer`: the CJK analysis change, the old text mapping against the new, side by side.

The request template now indexes text with `multilingual_index` (`cjk_bigram` with `output_unigrams`) and searches
it with `multilingual` (bigrams only), so one CJK character finds the texts that hold it; before, text was indexed
and searched with `multilingual`, bigrams only, which indexes a run of CJK characters as its bigrams and a single
character only when it stands alone. What that costs: index size, and the speed of ordinary two-character searches.

Data: the same M synthetic records (default 300,000, seed 0, tenant `bench`) loaded by the loader
(`loaders.run.load` over `SyntheticSource`, backfill on) into two prefixes of one node: `<prefix>-new` with
today's template, `<prefix>-old` with the template changed in memory back to the old text mapping (every text
field `{"type": "text", "analyzer": "multilingual"}`). Each prefix gets its template and first index before the
load and the loader is told not to apply templates, so the old mapping stays; the script checks the mapping it
got. After the loads' merges settle, both are force-merged to one segment (`--no-force-merge` skips it), so the
store sizes compare like for like and neither side searches more segments than the other. Sizes are recorded
before and after the force merge.

Queries go straight to OpenSearch with the body `service.query.build_search_body` makes for the API parameters of
the main benchmark's Q7 (pageSize 20, newest first, exact total) and the service's `filter_path`, interleaved
old/new round by round (`bench.run.main_steps`) at concurrency 1 and 16 through `bench/loadgen.py`:

- Q7 `天気`: two characters, one bigram on both sides, so the same hits; new must not be more than 20% slower (p50).
- C1 `天`, C2 `京`: one character. Old finds only texts where it stands alone (none in this data); new finds every
  text that holds it. Their new/old latency ratio compares fetching a page against finding nothing: it is what the
  answer costs, not a slowdown of the same work; the hit counts are the result.

Writes `<out>/<date>-analyzer[-quick].json`; exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import machine, node
from bench.run import REPO, comma_numbers, direct_search, log, main_steps, run_loadgen, save_and_report, search_body
from bench.workload import Query
from core.engine import make_client
from core.settings import OpenSearchSettings
from core.templates import IndexNames, apply_templates, delete_all, request_template
from loaders import synthetic
from loaders.options import LoadOptions
from loaders.run import load
from loaders.sources.synthetic_source import SyntheticSource

FULL_DOCS = 300_000
QUICK_DOCS = 20_000
SIDES = ("old", "new")
MAX_Q7_SLOWDOWN = 1.2  # new/old p50 of a two-character search
OLD_TEXT_MAPPING = {"type": "text", "analyzer": "multilingual"}
NEW_TEXT_MAPPING = {"type": "text", "analyzer": "multilingual_index", "search_analyzer": "multilingual"}
QUERIES = (
    Query("Q7", f"two characters `{synthetic.CJK_WORD}` (one bigram)", search=synthetic.CJK_WORD),
    Query("C1", "one character `天`", search="天"),
    Query("C2", "one character `京`", search="京"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.analyzer", description=__doc__.split("\n")[0])
    parser.add_argument("--opensearch-url", default="http://127.0.0.1:9400", help="default: the benchmark node")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DOCS:,} records, fewer requests (< 1 minute)")
    parser.add_argument(
        "--docs", type=int, help=f"records in each prefix (default {FULL_DOCS:,}; quick {QUICK_DOCS:,})"
    )
    parser.add_argument("--requests", type=int, help="timed requests per cell (default 200; quick 40)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per cell (default 4; quick 2)")
    parser.add_argument("--cell-seconds", type=float, help="time budget per cell (default 60; quick 10)")
    parser.add_argument("--concurrency", default="1,16", help="closed-loop clients (default 1,16)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tenant", default="bench")
    parser.add_argument("--prefix", default="cjk", help="the sides go in <prefix>-old and <prefix>-new")
    parser.add_argument("--no-force-merge", dest="force_merge", action="store_false", help="time as loaded")
    parser.add_argument("--keep-data", action="store_true", help="leave both prefixes in the node afterwards")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="where the JSON goes")
    return parser


def settle(args: argparse.Namespace) -> dict[str, Any]:
    quick = bool(args.quick)
    return {
        "docs": args.docs or (QUICK_DOCS if quick else FULL_DOCS),
        "seed": args.seed,
        "quick": quick,
        "tenant": args.tenant,
        "prefixes": {side: f"{args.prefix}-{side}" for side in SIDES},
        "requests": args.requests or (40 if quick else 200),
        "rounds": args.rounds or (2 if quick else 4),
        "cell_seconds": args.cell_seconds or (10.0 if quick else 60.0),
        "concurrency": comma_numbers(args.concurrency),
        "force_merge": args.force_merge,
    }


# -- the two indices ------------------------------------------------------------------------------------------


def old_template(names: IndexNames) -> dict[str, Any]:
    """Today's template with every text field mapped as before the change (bigrams to index and to search)."""
    body = request_template(names)
    properties = body["template"]["mappings"]["properties"]
    for name, mapping in properties.items():
        if mapping.get("type") == "text":
            properties[name] = dict(OLD_TEXT_MAPPING)
    return body


async def put_old_template(client: Any, names: IndexNames) -> None:
    """The old template and the first index behind the aliases, as `apply_templates` puts them."""
    await client.indices.put_index_template(name=f"{names.prefix}-requests", body=old_template(names))
    await client.indices.create(
        index=names.first_index, body={"aliases": {names.write_alias: {"is_write_index": True}}}
    )


async def text_mappings(client: Any, names: IndexNames) -> dict[str, Any]:
    mapping = await client.indices.get_mapping(index=names.first_index)
    properties = mapping[names.first_index]["mappings"]["properties"]
    return {name: body for name, body in properties.items() if body.get("type") == "text"}


async def load_side(url: str, side: str, cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    """A fresh prefix with the side's mapping, then the records through the loader (which leaves templates be)."""
    names = IndexNames(cfg["prefixes"][side])
    client = make_client(url, OpenSearchSettings(url=url, timeout_seconds=300))
    try:
        await delete_all(client, names)
        if side == "old":
            await put_old_template(client, names)
        else:
            await apply_templates(client, names)
        mappings = await text_mappings(client, names)
        expected = OLD_TEXT_MAPPING if side == "old" else NEW_TEXT_MAPPING
        wrong = {name: body for name, body in mappings.items() if body != expected}
        if wrong or not mappings:
            raise RuntimeError(f"{names.first_index}: text fields not mapped as {expected}: {wrong or mappings}")
        options = LoadOptions(apply_templates=False, backfill="on", progress="none", state_dir=work / side)
        source = SyntheticSource(cfg["docs"], seed=cfg["seed"])
        result = await load(source, client=client, names=names, tenant=cfg["tenant"], options=options, log=log)
    finally:
        await client.close()
    if result.counts.rejected:
        raise RuntimeError(f"{names.prefix}: {result.counts.rejected} records rejected ({result.dead_letter_path})")
    return {"seconds": result.seconds, "docs_per_s": result.docs_per_s, "text_mapping": expected}


def sizes(url: str, prefix: str) -> dict[str, int]:
    client = node.sync_client(url)
    try:
        stats = client.indices.stats(index=IndexNames(prefix).read_alias, metric="store,docs,segments")
    finally:
        client.close()
    primaries = stats["_all"]["primaries"]
    return {
        "store_bytes": int(primaries["store"]["size_in_bytes"]),
        "docs": int(primaries["docs"]["count"]),
        "segments": int(primaries["segments"]["count"]),
    }


def force_merge(url: str, prefix: str) -> float:
    client = node.sync_client(url)
    started = time.perf_counter()
    try:
        # One segment of a few hundred MB takes minutes on two busy cores: well past the client's usual timeout.
        client.indices.forcemerge(index=IndexNames(prefix).read_alias, max_num_segments=1, request_timeout=3600)
    finally:
        client.close()
    return round(time.perf_counter() - started, 1)


def prepare(url: str, cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for side in SIDES:
        prefix = cfg["prefixes"][side]
        log(f"loading {cfg['docs']:,} synthetic records into '{prefix}' ({side} text mapping)")
        out[side] = {"load": asyncio.run(load_side(url, side, cfg, work))}
        node.wait_for_merges(url, prefix)
        out[side]["loaded"] = sizes(url, prefix)
    if cfg["force_merge"]:
        for side in SIDES:
            log(f"force-merging '{cfg['prefixes'][side]}' to one segment")
            out[side]["force_merge_seconds"] = force_merge(url, cfg["prefixes"][side])
            out[side]["merged"] = sizes(url, cfg["prefixes"][side])
    return out


# -- the timed queries ----------------------------------------------------------------------------------------


def targets(url: str, cfg: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for query in QUERIES:
        body = json.dumps(search_body(query, cfg["tenant"]))
        for side in SIDES:
            read_alias = IndexNames(cfg["prefixes"][side]).read_alias
            out[f"{query.id}/{side}"] = direct_search(url, read_alias, body)
    return out


def compare(cells: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
    """Per concurrency and query: each side's figures, the new/old ratios and the hit counts."""
    out: dict[str, Any] = {}
    for concurrency in cfg["concurrency"]:
        for query in QUERIES:
            old, new = (cells[f"{query.id}/{side}/c{concurrency}"] for side in SIDES)
            out[f"{query.id}/c{concurrency}"] = {
                "query": query.search,
                "old": _figures(old),
                "new": _figures(new),
                "p50_new_over_old": _quotient(new["p50_ms"], old["p50_ms"]),
                "p99_new_over_old": _quotient(new["p99_ms"], old["p99_ms"]),
            }
    return out


def _figures(cell: dict[str, Any]) -> dict[str, Any]:
    keys = ("n", "ok", "errors", "timeouts", "p50_ms", "p99_ms", "rps", "total_count", "first_error")
    return {key: cell.get(key) for key in keys}


def _quotient(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def size_ratios(data: dict[str, Any]) -> dict[str, float | None]:
    stages = ("loaded", "merged") if "merged" in data["old"] else ("loaded",)
    return {stage: _quotient(data["new"][stage]["store_bytes"], data["old"][stage]["store_bytes"]) for stage in stages}


def checks(result: dict[str, Any]) -> list[dict[str, Any]]:
    docs = result["config"]["docs"]
    out = [
        {"what": f"{side}: {docs:,} documents", "ok": result["dataset"][side]["loaded"]["docs"] == docs, "detail": ""}
        for side in SIDES
    ]
    for name, row in result["comparison"].items():
        old, new = row["old"], row["new"]
        failed = old["errors"] + new["errors"] + old["timeouts"] + new["timeouts"]
        out.append(
            {
                "what": f"{name}: no failed request",
                "ok": failed == 0,
                "detail": old["first_error"] or new["first_error"],
            }
        )
        hits = f"old {old['total_count']}, new {new['total_count']}"
        if name.startswith("Q7"):
            out.append(
                {"what": f"{name}: the same hits", "ok": old["total_count"] == new["total_count"], "detail": hits}
            )
            ratio = row["p50_new_over_old"]
            ok = ratio is not None and ratio <= MAX_Q7_SLOWDOWN
            out.append({"what": f"{name}: new p50 within {MAX_Q7_SLOWDOWN}x of old", "ok": ok, "detail": ratio})
        else:
            found = (new["total_count"] or 0) > (old["total_count"] or 0)
            out.append({"what": f"{name}: new finds what old cannot", "ok": found, "detail": hits})
    return out


def run(args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    cfg = settle(args)
    work = Path(tempfile.mkdtemp(prefix="llmsearch-analyzer-"))
    started = time.time()
    result: dict[str, Any] = {
        "command": "python -m bench.analyzer " + shlex.join(argv),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "config": cfg,
        "queries": [{"id": q.id, "title": q.title, "params": q.api_params()} for q in QUERIES],
        "machine": machine.describe() | {"load_average_start": machine.load_average()},
    }
    try:
        result["dataset"] = prepare(args.opensearch_url, cfg, work)
        result["size_new_over_old"] = size_ratios(result["dataset"])
        spec = {"targets": targets(args.opensearch_url, cfg), "steps": main_steps(list(QUERIES), cfg, SIDES)}
        result["comparison"] = compare(run_loadgen(spec | {"progress": True}, work, "analyzer")["cells"], cfg)
        result["checks"] = checks(result)
        result["machine"]["load_average_end"] = machine.load_average()
        result["seconds"] = round(time.time() - started, 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep_data:
            for prefix in cfg["prefixes"].values():
                node.drop_all(args.opensearch_url, prefix)
    return result


def render(result: dict[str, Any]) -> str:
    def ms(value: float | None) -> str:
        return "—" if value is None else f"{value:,.1f}"

    lines = [f"analyzer: {result['config']['docs']:,} records per side"]
    for side in SIDES:
        data = result["dataset"][side]
        stages = ", ".join(
            f"{stage} {data[stage]['store_bytes'] / 1e6:,.1f} MB ({data[stage]['segments']} segments)"
            for stage in ("loaded", "merged")
            if stage in data
        )
        lines.append(f"  {side}: {data['loaded']['docs']:,} docs; store {stages}")
    ratios = ", ".join(f"{stage} {value:.3f}x" for stage, value in result["size_new_over_old"].items() if value)
    lines += [f"  store size new/old: {ratios}", ""]
    lines.append(
        "cell          hits old   hits new   old p50   new p50   old p99   new p99   p50 new/old   p99 new/old"
    )
    for name, row in result["comparison"].items():
        old, new = row["old"], row["new"]
        lines.append(
            f"{name:<12} {old['total_count']!s:>9} {new['total_count']!s:>10} {ms(old['p50_ms']):>9} "
            f"{ms(new['p50_ms']):>9} {ms(old['p99_ms']):>9} {ms(new['p99_ms']):>9} "
            f"{_ratio(row['p50_new_over_old']):>13} {_ratio(row['p99_new_over_old']):>13}"
        )
    lines.append("")
    lines += [f"CHECK {'ok' if c['ok'] else 'FAILED'}: {c['what']} ({c['detail']})" for c in result["checks"]]
    return "\n".join(lines)


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}x"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    result = run(args, argv)
    return save_and_report(
        result, args.out, f"{result['date']}-analyzer{'-quick' if result['config']['quick'] else ''}.json", render
    )


if __name__ == "__main__":
    sys.exit(main())
