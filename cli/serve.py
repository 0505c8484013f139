"""`llmsearch serve`: run the HTTP service (starting the local node when no OPENSEARCH_URL is set)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal

from aiohttp import web
from opensearchpy import AsyncOpenSearch

from cli.demo import prepare_demo
from cli.engine_url import resolve_url
from core.engine import make_client, make_service_client
from core.settings import OpenSearchSettings, ServiceSettings
from core.templates import IndexNames
from service.app import create_app
from service.observability.logs import configure_logging
from service.observability.metrics import METRICS, start_metrics_listener
from service.server import ApiRunner


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", help="listen address (default 127.0.0.1, LLMSEARCH_HOST)")
    serve.add_argument("--port", type=int, help="listen port (default 8080, LLMSEARCH_PORT)")
    serve.add_argument(
        "--demo", action="store_true", help="load demo data for tenant 'demo' (once) and print a fresh demo key"
    )
    serve.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v}
    settings = ServiceSettings(**overrides)
    configure_logging(settings.log_format)  # one JSON object a line, by default (LLMSEARCH_LOG_FORMAT)
    # opensearch-py logs every request at INFO: a log line per API call, and measurable CPU on the hot path.
    # Its warnings (failed requests) still come through; the service logs its own errors.
    logging.getLogger("opensearch").setLevel(logging.WARNING)
    os_settings = OpenSearchSettings()
    url = resolve_url(os_settings)
    asyncio.run(_serve(url, settings, os_settings, demo=args.demo))
    return 0


async def _serve(url: str, settings: ServiceSettings, os_settings: OpenSearchSettings, demo: bool) -> None:
    demo_key = await _demo_key(url, settings, os_settings) if demo else None
    client = make_service_client(url, os_settings, settings)
    try:
        await _run_until_stopped(client, url, settings, demo_key)
    finally:
        await client.close()


async def _demo_key(url: str, settings: ServiceSettings, os_settings: OpenSearchSettings) -> str:
    # A command's client: loading and refreshing take longer than the service's short query timeout allows.
    client = make_client(url, os_settings)
    try:
        return await prepare_demo(client, IndexNames(settings.index_prefix))
    finally:
        await client.close()


def serving_lines(base: str, engine_url: str, demo_key: str | None) -> list[str]:
    """What `serve` prints once it listens: where the API, its reference and the page are, and the demo key."""
    lines = [
        f"\nllm-request-search is serving at {base}/api/v1/requests (OpenSearch: {engine_url})",
        f"OpenAPI description: {base}/api/v1/openapi.json (rendered: {base}/docs)",
        f"The page (search, filters, charts): {base}/",
    ]
    if demo_key:
        lines += [
            f"Demo API key (tenant 'demo'): {demo_key}",
            f"  open {base}/ and paste it to sign in, or",
            f"Try: curl -H 'Authorization: Bearer {demo_key}' '{base}/api/v1/requests?search=refund&pageSize=2'",
        ]
    return [*lines, "Press Ctrl+C to stop."]


# The cyclic garbage collector's thresholds (Python's defaults: 700, 10, 10). An ingest call holds thousands of
# parsed records at once, several calls at a time, and the defaults ran collections over them again and again: 65 ->
# 61 µs of service CPU per ingested record with these (interleaved A/B, BENCHMARKS.md "Live ingest over HTTP,
# again"). The request paths' objects are freed by reference counting; the few cycles they make (an exception and
# its traceback, say) are collected a little later.
GC_THRESHOLDS = (50_000, 20, 100)


def tune_garbage_collector() -> None:
    """Collect less often, and never again scan what start-up made (modules, settings, the app): `gc.freeze`."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def _run_until_stopped(
    client: AsyncOpenSearch, url: str, settings: ServiceSettings, demo_key: str | None
) -> None:
    app = create_app(client, settings)
    runner = ApiRunner(app)  # its access log is the app's own (service.observability.access)
    await runner.setup()
    metrics_runner = None
    try:
        await web.TCPSite(runner, settings.host, settings.port).start()
        metrics_runner = await start_metrics_listener(app[METRICS], settings)  # with LLMSEARCH_METRICS=port
        tune_garbage_collector()
        print("\n".join(serving_lines(f"http://{settings.host}:{settings.port}", url, demo_key)), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        if metrics_runner is not None:
            await metrics_runner.cleanup()
        await runner.cleanup()
