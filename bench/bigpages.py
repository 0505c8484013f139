"""`python -m bench.bigpages`: 16 concurrent `pageSize=1000` requests over large records, before and after.

The claim under test: with records of ~166 KB, a client asking for 1,000 of them at a time, 16 at once, gets no 5xx
from the current service (an answer over the 16 MB cap is a 400 saying to ask for less), and a client that asks for
less (`fields=`, or a page that fits, gzipped) gets its rows quickly.

Data: N records (default 3,000) for one tenant in prefix `bigpages`, each a long chat conversation (request body),
its completion and an OpenAI-style response body, about 166 KB of document JSON. The texts are drawn from
`loaders.synthetic`'s prompts and completions (templated, multilingual, with a long tail of rare words), so they
compress as the main benchmark's data does, not like one repeated character. Built with `RawRequest` /
`RequestDocument.from_raw` and indexed with `streaming_bulk`.

Sides, all through `bench/loadgen.py`, the service of a checkout of `--baseline` (default 874716a: no `fields`, no
gzip, no cap) and of this working tree running at once against the same OpenSearch and prefix, interleaved round
by round (A B C ... / ... C B A) so every side sees the same noise; each round asks for the next page (1, 2, 3, ...
as far as the data goes):

- `before_1000`: baseline, pageSize=1000, every field: what a client got before.
- `after_1000`: current, the same request: over the cap, so a 400 (counted as 4xx).
- `after_fields_1000`: current, pageSize=1000, `fields=id,createdAt,model,user_id,cost,prompt_tokens,...`.
- `after_gzip_80`: current, pageSize=80 (under the cap), every field, `Accept-Encoding: gzip`.
- `before_80`, `after_80`: baseline and current, pageSize=80, every field, no gzip.

What is a fair before/after, and what each ratio says:

- `after_1000` against `before_1000` is the same request but not the same work: a refusal against a page of
  ~100 MB. What it shows is the statuses (5xx or timeouts before, a 400 after) and the time to an answer; its
  latency ratio is not a speed-up.
- `after_fields_1000 / before_1000`: the same rows, only the fields a listing needs: the saving of asking for less,
  which the baseline could not do. Not the same answer, so not "the same work done faster".
- `after_gzip_80 / before_80` is the like-for-like pair: the same rows and fields. Its bytes ratio is gzip's saving
  on the wire; its latency ratio, on loopback, includes compressing and decompressing and gains nothing from the
  smaller transfer, so it is gzip's cost here (a real network would recover some of it).
  `after_gzip_80 / after_80` isolates gzip from the rest of the change, `after_80 / before_80` the rest.
- Records per second (2xx answers/s x rows per page) is the one figure that compares sides of different page sizes.

p50/p99 are over every answer, whatever its status (a 400 is an answer); `2xx p50` only over the successful ones.
Writes `<out>/<date>-bigpages[-quick].json`; exits 1 if a check fails (a 5xx from the current service, or a side
that counted other than N records).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import random
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import streaming_bulk

from bench import api, ingest, machine, node
from bench.overhead import checkout, commit_of
from bench.run import REPO, comma_numbers, log, run_loadgen, save_and_report, service_get
from core.documents import RawRequest, RequestDocument, extract_prompt
from core.pricing import PricingTable
from core.templates import IndexNames
from loaders import synthetic

FULL_DOCS = 3000
QUICK_DOCS = 200  # past the 16 MB cap at pageSize=1000 (an answer carries ~100 KB a record: no prompt)
RECORD_BYTES = 166_000
LISTING_FIELDS = "id,createdAt,model,user_id,cost,prompt_tokens,completion_tokens"
TEXT_POOL_RECORDS = 3000  # synthetic records whose texts make up the big ones: varied enough, built in seconds
MAX_PARAGRAPH_CHARS = 3000
# Of a document's bytes: the conversation appears twice (request_body and the prompt extracted from it), the
# completion twice (completion and response_body); a long context and a shorter answer, as in RAG-style traffic.
# Raw text bytes; JSON escaping and the other fields bring the document to about `--record-bytes` (measured).
REQUEST_SHARE, COMPLETION_SHARE = 0.357, 0.113
BULK_CHUNK_BYTES = 8 * 1024 * 1024
MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3-mini", "claude-3-5-sonnet")


@dataclass(frozen=True)
class Side:
    name: str
    baseline: bool
    page_size: int
    fields: str | None = None
    gzip: bool = False


SIDES: tuple[Side, ...] = (
    Side("before_1000", baseline=True, page_size=1000),
    Side("after_1000", baseline=False, page_size=1000),
    Side("after_fields_1000", baseline=False, page_size=1000, fields=LISTING_FIELDS),
    Side("after_gzip_80", baseline=False, page_size=80, gzip=True),
    Side("before_80", baseline=True, page_size=80),
    Side("after_80", baseline=False, page_size=80),
)
# (label, numerator side, denominator side, figure): every ratio is of two sides measured in the same run.
RATIOS: tuple[tuple[str, str, str, str], ...] = (
    ("time to an answer, same request (400 vs page)", "after_1000", "before_1000", "answered_p50_ms"),
    ("fields= vs every field, 2xx p50", "after_fields_1000", "before_1000", "p50_ms"),
    ("fields= vs every field, 2xx p99", "after_fields_1000", "before_1000", "p99_ms"),
    ("fields= vs every field, bytes", "after_fields_1000", "before_1000", "wire_bytes_mean"),
    ("gzip vs before, same rows, 2xx p50", "after_gzip_80", "before_80", "p50_ms"),
    ("gzip vs before, same rows, 2xx p99", "after_gzip_80", "before_80", "p99_ms"),
    ("gzip vs before, same rows, wire bytes", "after_gzip_80", "before_80", "wire_bytes_mean"),
    ("gzip alone (current), 2xx p50", "after_gzip_80", "after_80", "p50_ms"),
    ("rest of the change, same request, 2xx p50", "after_80", "before_80", "p50_ms"),
    ("records/s: gzip 80 vs before 1000", "after_gzip_80", "before_1000", "records_per_s"),
    ("records/s: fields 1000 vs before 1000", "after_fields_1000", "before_1000", "records_per_s"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.bigpages", description=__doc__.split("\n")[0])
    parser.add_argument("--opensearch-url", default="http://127.0.0.1:9400", help="default: the benchmark node")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DOCS} records, fewer requests (< 1 minute)")
    parser.add_argument("--docs", type=int, help=f"records (default {FULL_DOCS:,}; quick {QUICK_DOCS})")
    parser.add_argument("--record-bytes", type=int, default=RECORD_BYTES, help="document JSON per record, about")
    parser.add_argument("--requests", type=int, help="timed requests per side and concurrency (default 96; quick 32)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 6: pages 1-3 twice; quick 2)")
    parser.add_argument("--cell-seconds", type=float, help="time budget per side (default 600; quick 30)")
    parser.add_argument("--concurrency", default="16", help="closed-loop clients, comma-separated (default 16)")
    parser.add_argument("--timeout", type=float, default=120.0, help="client timeout per request, s (default 120)")
    parser.add_argument("--sides", default=",".join(s.name for s in SIDES), help="which sides (default all)")
    parser.add_argument("--baseline", default="874716a", help="revision of the 'before' service (default 874716a)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prefix", default="bigpages")
    parser.add_argument("--tenant", default="bench")
    parser.add_argument("--keep-data", action="store_true", help="leave the records in the node (reused next run)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="where the JSON goes")
    return parser


def settle(args: argparse.Namespace) -> dict[str, Any]:
    quick = bool(args.quick)
    wanted = [name for name in args.sides.split(",") if name]
    unknown = set(wanted) - {s.name for s in SIDES}
    if unknown:
        raise SystemExit(f"unknown sides {sorted(unknown)}; the sides are {', '.join(s.name for s in SIDES)}")
    return {
        "docs": args.docs or (QUICK_DOCS if quick else FULL_DOCS),
        "record_bytes": args.record_bytes,
        "seed": args.seed,
        "quick": quick,
        "requests": args.requests or (32 if quick else 96),
        "rounds": args.rounds or (2 if quick else 6),
        "cell_seconds": args.cell_seconds or (30.0 if quick else 600.0),
        "concurrency": comma_numbers(args.concurrency),
        "http_timeout_seconds": args.timeout,
        "sides": wanted,
        "prefix": args.prefix,
        "tenant": args.tenant,
        # Both services run with the environment's settings: unset, the production defaults.
        "service_opensearch_timeout": os.environ.get("OPENSEARCH_TIMEOUT_SECONDS", "default (10 s)"),
        "service_max_response_bytes": os.environ.get("LLMSEARCH_MAX_RESPONSE_BYTES", "default (16,000,000)"),
    }


# -- the records ----------------------------------------------------------------------------------------------


def text_pool(seed: int) -> list[str]:
    """Prompts and completions of ordinary synthetic records: the paragraphs big records are assembled from."""
    pool: list[str] = []
    for record in synthetic.generate(TEXT_POOL_RECORDS, seed=seed):
        for text in (extract_prompt(record.get("request_body")), record.get("completion")):
            if isinstance(text, str) and len(text) > 40:
                # The long bodies are cut, so that one draw cannot overshoot a record's size by tens of KB.
                pool.append(text[:MAX_PARAGRAPH_CHARS])
    return pool


def paragraphs(rng: random.Random, pool: list[str], size: int) -> Iterator[str]:
    """Random paragraphs from the pool until about `size` bytes of UTF-8 (CJK text takes three a character)."""
    total = 0
    while total < size:
        text = rng.choice(pool)
        total += len(text.encode())
        yield text


def conversation(rng: random.Random, pool: list[str], size: int) -> list[dict[str, str]]:
    """Alternating user and assistant turns, each a few paragraphs: a long context, as agents and RAG send."""
    texts = list(paragraphs(rng, pool, size))
    messages = [{"role": "system", "content": texts[0]}]
    for turn, start in enumerate(range(1, len(texts), 3)):
        role = "user" if turn % 2 == 0 else "assistant"
        messages.append({"role": role, "content": "\n\n".join(texts[start : start + 3])})
    if messages[-1]["role"] != "user":
        messages.append({"role": "user", "content": rng.choice(pool)})
    return messages


def big_record(number: int, seed: int, pool: list[str], record_bytes: int) -> RawRequest:
    rng = random.Random(seed * 1_000_003 + number)
    model = rng.choice(MODELS)
    messages = conversation(rng, pool, int(record_bytes * REQUEST_SHARE))
    completion = "\n\n".join(paragraphs(rng, pool, int(record_bytes * COMPLETION_SHARE)))
    prompt_tokens = sum(len(m["content"]) for m in messages) // 4  # about four characters a token
    completion_tokens = len(completion) // 4
    created = synthetic.REFERENCE_TIME - dt.timedelta(seconds=number * 37 + rng.randrange(30))
    openai_id = f"chatcmpl-big{seed}x{number:08d}"
    response = {
        "id": openai_id,
        "object": "chat.completion",
        "created": int(created.timestamp()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": completion}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
    }
    return RawRequest(
        id=f"big_{seed}_{number:08d}",
        createdAt=created,
        updatedAt=created + dt.timedelta(milliseconds=rng.randrange(2000, 60_000)),
        url="/v1/chat/completions",
        method="POST",
        status=200,
        user_id=f"user-{rng.randrange(400):03d}",
        app_id=rng.choice(("research-agent", "support-bot", "doc-qa")),
        model=model,
        openai_id=openai_id,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        completion=completion,
        request_body=json.dumps({"model": model, "messages": messages, "temperature": 0.2}, ensure_ascii=False),
        response_body=json.dumps(response, ensure_ascii=False),
    )


def actions(cfg: dict[str, Any], index: str, sizes: list[int]) -> Iterator[dict[str, Any]]:
    """Bulk actions for the records, built as they are sent (N x 166 KB need not sit in memory); `sizes` gets each
    document's bytes."""
    pool, pricing = text_pool(cfg["seed"]), PricingTable.default()
    for number in range(cfg["docs"]):
        raw = big_record(number, cfg["seed"], pool, cfg["record_bytes"])
        cost = pricing.price(raw.model, raw.prompt_tokens, raw.completion_tokens)
        document = RequestDocument.from_raw(raw, cfg["tenant"], cost)
        source = json.dumps(document.source(), ensure_ascii=False)
        sizes.append(len(source.encode()))
        yield {"_index": index, "_id": document.doc_id, "_source": source}


# -- the dataset in the node ----------------------------------------------------------------------------------


def marker(cfg: dict[str, Any]) -> dict[str, Any]:
    return {key: cfg[key] for key in ("docs", "seed", "tenant", "record_bytes")} | {"kind": "bigpages"}


def dataset_present(client: OpenSearch, cfg: dict[str, Any]) -> bool:
    names = IndexNames(cfg["prefix"])
    if not client.indices.exists(index=node.meta_index(cfg["prefix"])):
        return False
    found = client.get(index=node.meta_index(cfg["prefix"]), id="dataset", ignore=[404])
    if not found.get("found") or {k: found["_source"].get(k) for k in marker(cfg)} != marker(cfg):
        return False
    return bool(int(client.count(index=names.read_alias)["count"]) == cfg["docs"])


def load(url: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """The records, indexed into a fresh prefix (or found there from a run with the same settings)."""
    client = node.sync_client(url)
    try:
        if dataset_present(client, cfg):
            log(f"reusing {cfg['docs']:,} big records in '{cfg['prefix']}'")
            return {"reused": True}
        node.drop_all(url, cfg["prefix"])
        ingest.reset_prefix(url, cfg["prefix"])  # the templates and the first index
        names = IndexNames(cfg["prefix"])
        log(f"indexing {cfg['docs']:,} records of ~{cfg['record_bytes'] / 1000:.0f} KB into '{cfg['prefix']}'")
        sizes: list[int] = []
        started = time.perf_counter()
        for ok, item in streaming_bulk(
            client, actions(cfg, names.write_alias, sizes), chunk_size=50, max_chunk_bytes=BULK_CHUNK_BYTES
        ):
            if not ok:
                raise RuntimeError(f"a record was rejected: {item}")
        client.indices.refresh(index=names.read_alias)
        seconds = time.perf_counter() - started
        client.index(index=node.meta_index(cfg["prefix"]), id="dataset", body=marker(cfg), refresh=True)
    finally:
        client.close()
    node.wait_for_merges(url, cfg["prefix"])
    log(f"indexed in {seconds:.0f}s, {sum(sizes) / len(sizes) / 1000:.0f} KB of JSON per record on average")
    return {
        "reused": False,
        "seconds": round(seconds, 1),
        "document_bytes_mean": round(sum(sizes) / len(sizes)),
        "document_bytes_min": min(sizes),
        "document_bytes_max": max(sizes),
    }


# -- the load generator's spec --------------------------------------------------------------------------------


def pages(side: Side, docs: int) -> list[int]:
    """The pages a side cycles through: 1 to 3, as far as the data reaches."""
    return list(range(1, min(3, math.ceil(docs / side.page_size)) + 1))


def rows_on(page: int, side: Side, docs: int) -> int:
    return max(0, min(side.page_size, docs - (page - 1) * side.page_size))


def side_targets(side: Side, base: str, key: str, docs: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"} | ({"Accept-Encoding": "gzip"} if side.gzip else {})
    out = {}
    for page in pages(side, docs):
        params = {"pageSize": str(side.page_size), "pageNumber": str(page)}
        if side.fields is not None:
            params["fields"] = side.fields
        out[f"{side.name}/p{page}"] = service_get(base, params, headers)
    return out


def steps(sides: list[Side], cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """Each round, every side once (order reversed every other round), each side on its next page."""
    rounds, out = cfg["rounds"], []
    for concurrency in cfg["concurrency"]:
        for number in range(rounds):
            for side in sides if number % 2 == 0 else list(reversed(sides)):
                cycle = pages(side, cfg["docs"])
                out.append(
                    {
                        "cell": f"{side.name}/c{concurrency}",
                        "target": f"{side.name}/p{cycle[number % len(cycle)]}",
                        "concurrency": concurrency,
                        "requests": math.ceil(cfg["requests"] / rounds),
                        "max_seconds": cfg["cell_seconds"] / rounds,
                        # A few untimed requests: a page of 100 MB warms what it needs in one go.
                        "warmup": 2 if number == 0 else 0,
                    }
                )
    return out


def measure(url: str, cfg: dict[str, Any], baseline: str, work: Path) -> dict[str, Any]:
    sides = [s for s in SIDES if s.name in cfg["sides"]]
    key = api.create_key(url, cfg["prefix"], cfg["tenant"])
    with contextlib.ExitStack() as stack:
        # Both services run at once, each idle while the other's side is timed; only those a chosen side needs.
        bases: dict[bool, str] = {}
        if any(side.baseline for side in sides):
            tree = stack.enter_context(checkout(baseline))
            bases[True] = stack.enter_context(api.service(url, cfg["prefix"], work / "baseline.log", checkout=tree))
        if not all(side.baseline for side in sides):
            bases[False] = stack.enter_context(api.service(url, cfg["prefix"], work / "current.log"))
        targets: dict[str, Any] = {}
        for side in sides:
            targets |= side_targets(side, bases[side.baseline], key, cfg["docs"])
        spec = {
            "targets": targets,
            "steps": steps(sides, cfg),
            "http_timeout_seconds": cfg["http_timeout_seconds"],
            "progress": True,
        }
        result: dict[str, Any] = run_loadgen(spec, work, "bigpages")
    return result


# -- the summary ----------------------------------------------------------------------------------------------


def summarize_side(cell: dict[str, Any], side: Side, docs: int) -> dict[str, Any]:
    statuses = {int(code): count for code, count in (cell.get("statuses") or {}).items()}
    rows = [rows_on(p, side, docs) for p in pages(side, docs)]
    mean_rows = sum(rows) / len(rows)
    by_class = {f"{k}xx": sum(n for code, n in statuses.items() if code // 100 == k) for k in (2, 4, 5)}
    return {
        "requests": cell["n"],
        **by_class,
        "timeouts": cell["timeouts"],
        "client_errors": cell["n"] - sum(statuses.values()) - cell["timeouts"],
        "statuses": cell.get("statuses") or {},
        "answered_p50_ms": cell.get("answered_p50_ms"),
        "answered_p99_ms": cell.get("answered_p99_ms"),
        "p50_ms": cell["p50_ms"],
        "p99_ms": cell["p99_ms"],
        "wire_bytes_mean": cell.get("wire_bytes_mean"),
        "body_bytes_mean": cell.get("body_bytes_mean"),
        "rows_per_page_mean": round(mean_rows, 1),
        "records_per_s": round(cell["rps"] * mean_rows, 1) if cell.get("rps") else None,
        "total_count": cell["total_count"],
        "first_error": cell["first_error"],
        "page_size": side.page_size,
        "fields": side.fields,
        "gzip": side.gzip,
        "service": "baseline" if side.baseline else "current",
    }


def ratios(per_side: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for label, top, bottom, figure in RATIOS:
        if top in per_side and bottom in per_side:
            a, b = per_side[top].get(figure), per_side[bottom].get(figure)
            value = round(a / b, 3) if a is not None and b else None
            out.append({"what": label, "sides": f"{top} / {bottom}", "figure": figure, "ratio": value})
    return out


def checks(result: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for concurrency, per_side in result["sides"].items():
        for name, side in per_side.items():
            if side["service"] == "current":
                ok = side["5xx"] == 0 and side["timeouts"] == 0
                out.append({"what": f"{name} {concurrency}: no 5xx or timeout", "ok": ok, "detail": side["statuses"]})
            if side["2xx"]:
                counted = side["total_count"] == result["config"]["docs"]
                out.append(
                    {"what": f"{name} {concurrency}: totalCount is N", "ok": counted, "detail": side["total_count"]}
                )
    return out


def run(args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    cfg = settle(args)
    work = Path(tempfile.mkdtemp(prefix="llmsearch-bigpages-"))
    started = time.time()
    result: dict[str, Any] = {
        "command": "python -m bench.bigpages " + shlex.join(argv),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "config": cfg,
        "baseline_commit": commit_of(args.baseline),
        "current_commit": commit_of("HEAD") + " + working tree",
        "machine": machine.describe() | {"load_average_start": machine.load_average()},
    }
    try:
        result["dataset"] = load(args.opensearch_url, cfg)
        cells = measure(args.opensearch_url, cfg, result["baseline_commit"], work)["cells"]
        sides = [s for s in SIDES if s.name in cfg["sides"]]
        result["sides"] = {
            f"c{c}": {s.name: summarize_side(cells[f"{s.name}/c{c}"], s, cfg["docs"]) for s in sides}
            for c in cfg["concurrency"]
        }
        result["ratios"] = {c: ratios(per_side) for c, per_side in result["sides"].items()}
        result["checks"] = checks(result)
        result["machine"]["load_average_end"] = machine.load_average()
        result["seconds"] = round(time.time() - started, 1)
        shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        log(f"work files (service logs, loadgen spec) kept in {work}")
        raise
    finally:
        if not args.keep_data:
            node.drop_all(args.opensearch_url, cfg["prefix"])
    return result


def render(result: dict[str, Any]) -> str:
    def num(value: Any, digits: int = 0) -> str:
        return "—" if value is None else f"{value:,.{digits}f}"

    data = result["dataset"]
    how = (
        "reused"
        if data["reused"]
        else f"{data['document_bytes_mean'] / 1000:.0f} KB a document, {data['seconds']}s to index"
    )
    lines = [f"bigpages: {result['config']['docs']:,} records ({how}); baseline {result['baseline_commit'][:10]}"]
    header = (
        "side                 reqs  2xx  4xx  5xx  t/o  err   p50 ms   p99 ms  2xx p50    wire KB    body KB  rec/s"
    )
    for concurrency, per_side in result["sides"].items():
        lines += ["", f"concurrency {concurrency[1:]}:", header]
        for name, s in per_side.items():
            lines.append(
                f"{name:<19} {s['requests']:>5} {s['2xx']:>4} {s['4xx']:>4} {s['5xx']:>4} {s['timeouts']:>4} "
                f"{s['client_errors']:>4} {num(s['answered_p50_ms']):>8} {num(s['answered_p99_ms']):>8} "
                f"{num(s['p50_ms']):>8} {num(_kb(s['wire_bytes_mean'])):>10} {num(_kb(s['body_bytes_mean'])):>10} "
                f"{num(s['records_per_s']):>6}"
            )
        lines.append("ratios (same run):")
        for row in result["ratios"][concurrency]:
            value = "—" if row["ratio"] is None else f"{row['ratio']:.3f}x"
            lines.append(f"  {row['what']:<44} {row['sides']:<32} {value}")
    lines.append("")
    lines += [f"CHECK {'ok' if c['ok'] else 'FAILED'}: {c['what']} ({c['detail']})" for c in result["checks"]]
    return "\n".join(lines)


def _kb(value: int | None) -> float | None:
    return None if value is None else value / 1000


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    result = run(args, argv)
    return save_and_report(
        result, args.out, f"{result['date']}-bigpages{'-quick' if result['config']['quick'] else ''}.json", render
    )


if __name__ == "__main__":
    sys.exit(main())
