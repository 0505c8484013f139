"""`python -m bench.page`: the built-in page (`/`) in headless Chromium on the demo data.

What it measures, each the median of `--runs`:
- **first load**: a fresh browser context (empty cache), the key already in sessionStorage, from navigation start to
  the page's first `llmsearch:ready` mark: the HTML, the scripts and styles, `/api/v1/schema`, `/api/v1/me`, then
  the list and the charts' answers (`/api/v1/requests` with highlights, two one-request calls for the range,
  `/api/v1/analytics`) rendered. Bytes: what crossed the wire (Resource Timing `transferSize`, headers included),
  split into the page's own files and the API's answers.
- **reload**: the same in a context that has the files cached (answered 304 by their ETags).
- **search round trip**: in a loaded page, from submitting a search to the table and the charts rendered again
  (terms rotate so no two consecutive searches are the same).

The service is `llmsearch serve` in a subprocess on a free port, over the demo tenant (`./dev serve`'s data; loaded
when missing) in `--prefix`. Chromium is Debian's (`/usr/bin/chromium`, or `LLMSEARCH_CHROMIUM`).
Writes `<out>/<date>-page.json` and prints a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import statistics
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, sync_playwright

from bench import machine
from bench.api import free_port, start_service, stop_service
from cli.demo import prepare_demo
from core.engine import make_client
from core.settings import OpenSearchSettings
from core.templates import IndexNames

REPO = Path(__file__).resolve().parent.parent
VIEWPORT = {"width": 1280, "height": 800}
TERMS = ("refund", "please", "weather", "invoice", "天気", "deadline", "translate")

_COLLECT = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const ready = performance.getEntriesByName("llmsearch:ready")[0];
  const resources = performance.getEntriesByType("resource").map((r) => ({
    name: new URL(r.name).pathname, transfer: r.transferSize, body: r.encodedBodySize, ms: r.duration,
  }));
  return { ready: ready.startTime, html: nav.transferSize, htmlBody: nav.encodedBodySize, resources };
}"""
_SEARCH = """async (term) => {
  const before = document.body.dataset.ready;
  const start = performance.now();
  document.getElementById("search").value = term;
  document.getElementById("query-bar").requestSubmit();
  await new Promise((done) => {
    const check = () => (document.body.dataset.ready !== before ? done() : requestAnimationFrame(check));
    check();
  });
  return performance.now() - start;
}"""


async def demo_key(url: str, prefix: str) -> str:
    client = make_client(url, OpenSearchSettings(url=url))
    try:
        return await prepare_demo(client, IndexNames(prefix))
    finally:
        await client.close()


def load_once(browser: Browser, base: str, key: str, screenshot: Path | None = None) -> dict[str, Any]:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.add_init_script(f"sessionStorage.setItem('llmsearch.key', {json.dumps(key)})")
    page = context.new_page()
    page.goto(f"{base}/")
    page.wait_for_function("() => performance.getEntriesByName('llmsearch:ready').length > 0", timeout=60_000)
    first: dict[str, Any] = page.evaluate(_COLLECT)
    page.reload()
    page.wait_for_function("() => performance.getEntriesByName('llmsearch:ready').length > 0", timeout=60_000)
    again: dict[str, Any] = page.evaluate(_COLLECT)
    if screenshot is not None:
        page.fill("#search", "refund")
        page.press("#search", "Enter")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(screenshot))
    context.close()
    return {"first": first, "reload": again}


def wire(load: dict[str, Any]) -> dict[str, int]:
    static = load["html"] + sum(r["transfer"] for r in load["resources"] if not r["name"].startswith("/api/"))
    api = sum(r["transfer"] for r in load["resources"] if r["name"].startswith("/api/"))
    return {"static_bytes": static, "api_bytes": api, "requests": 1 + len(load["resources"])}


def search_times(browser: Browser, base: str, key: str, runs: int) -> list[float]:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.add_init_script(f"sessionStorage.setItem('llmsearch.key', {json.dumps(key)})")
    page = context.new_page()
    page.goto(f"{base}/")
    page.wait_for_function("() => performance.getEntriesByName('llmsearch:ready').length > 0", timeout=60_000)
    page.evaluate(_SEARCH, "warm-up")
    times = [float(page.evaluate(_SEARCH, TERMS[i % len(TERMS)])) for i in range(runs)]
    context.close()
    return times


def summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 1), "min": round(min(values), 1), "max": round(max(values), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.page", description=__doc__.split("\n")[0])
    parser.add_argument("--opensearch-url", default=os.environ.get("OPENSEARCH_URL", "http://127.0.0.1:9200"))
    parser.add_argument(
        "--prefix", default="llm-requests", help="index prefix of the demo data (default: ./dev serve's)"
    )
    parser.add_argument("--runs", type=int, default=7, help="loads and searches, each (default 7)")
    parser.add_argument("--chromium", default=os.environ.get("LLMSEARCH_CHROMIUM") or shutil.which("chromium"))
    parser.add_argument("--screenshot", type=Path, help="also save a 1280x800 screenshot of the page here")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args(argv)
    if not args.chromium:
        parser.error("no chromium found: install Debian's 'chromium' or pass --chromium")
    key = asyncio.run(demo_key(args.opensearch_url, args.prefix))
    port = free_port()
    service = start_service(args.opensearch_url, args.prefix, port, args.out / "work" / "page-service.log")
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=args.chromium, headless=True)
            loads = [load_once(browser, base, key, args.screenshot if i == 0 else None) for i in range(args.runs)]
            searches = search_times(browser, base, key, args.runs)
            browser.close()
    finally:
        stop_service(service)
    first = [load["first"] for load in loads]
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine.describe(),
        "runs": args.runs,
        "first_load_ms": summary([load["ready"] for load in first]),
        "reload_ms": summary([load["reload"]["ready"] for load in loads]),
        "search_round_trip_ms": summary(searches),
        "first_load_wire": wire(first[0]),
        "reload_wire": wire(loads[0]["reload"]),
        "files": sorted(
            ({"path": r["name"], "transfer": r["transfer"], "body": r["body"]} for r in first[0]["resources"]),
            key=lambda r: str(r["path"]),
        ),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{dt.date.today().isoformat()}-page.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    fl, rl, sr = result["first_load_ms"], result["reload_ms"], result["search_round_trip_ms"]
    fw, rw = result["first_load_wire"], result["reload_wire"]
    print(f"first load (cold cache): median {fl['median']} ms (min {fl['min']}, max {fl['max']}), {args.runs} runs")
    print(
        f"  wire: {fw['static_bytes']:,} B page files + {fw['api_bytes']:,} B API answers in {fw['requests']} requests"
    )
    print(f"reload (files cached, 304s): median {rl['median']} ms; wire {rw['static_bytes']:,} + {rw['api_bytes']:,} B")
    print(f"search round trip (submit -> table and charts rendered): median {sr['median']} ms ({args.runs} searches)")
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
