"""The route: a write-scoped key → the body, within limits → documents → one bulk request → an answer that accounts
for every record (200 all indexed, 207 some refused, 429 the engine was busy: which records to send again)."""

from __future__ import annotations

import asyncio

import orjson
from aiohttp import web

from core.pricing import PricingTable
from service.auth import tenant_of_request
from service.context import SERVICES, Services
from service.errors import METHOD_NOT_ALLOWED, ApiError
from service.handlers import JSON
from service.ingest.answer import busy_answer, ingest_answer
from service.ingest.body import Line, read_body, split_records
from service.ingest.records import Rejected, prepare_lines
from service.ingest.write import Written, write_documents
from service.keys import Scope
from service.observability.metrics import METRICS
from service.query_string import QueryStringError, decode_query

ALLOWED_METHODS = ("POST",)
INGEST_GATE = web.AppKey("ingest_gate", asyncio.Semaphore)
RETRY_AFTER = {"Retry-After": "1"}
# Records prepared before their part is sent: see prepare_and_write.
PART_RECORDS = 500


async def ingest(request: web.Request) -> web.Response:
    if request.method not in ALLOWED_METHODS:
        raise ApiError(405, METHOD_NOT_ALLOWED, {"Allow": ", ".join(ALLOWED_METHODS)})
    services = request.app[SERVICES]
    settings = services.settings
    tenant = await tenant_of_request(request.headers.get("Authorization"), services.keys, Scope.WRITE)
    refresh = _refresh(request)
    gate = request.app[INGEST_GATE]
    try:
        await asyncio.wait_for(gate.acquire(), settings.ingest_queue_seconds)
    except TimeoutError:
        raise ApiError(429, "The service is busy ingesting; send this call again shortly.", RETRY_AFTER) from None
    try:
        body = await read_body(request, settings.ingest_max_bytes)
        lines = split_records(body, request.content_type)
        del body
        if len(lines) > settings.ingest_max_records:
            raise ApiError(
                413, f"{len(lines):,} records in one call; at most {settings.ingest_max_records:,}: split the call."
            )
        written, rejected = await prepare_and_write(services, lines, tenant, refresh)
    finally:
        gate.release()
    rejected = sorted([*rejected, *written.rejected], key=lambda r: r.index)
    request.app[METRICS].records_ingested(written.accepted, written.superseded, len(rejected))
    if written.busy:
        return _json(429, busy_answer(written.accepted, rejected), RETRY_AFTER)
    answer = ingest_answer(written.accepted, written.superseded, rejected)
    return _json(207 if rejected else 200, answer)


async def prepare_and_write(
    services: Services, lines: list[Line], tenant: str, refresh: bool
) -> tuple[Written, list[Rejected]]:
    """Every record prepared and written, in parts of PART_RECORDS: each part's bulk request starts as soon as it is
    prepared, so the engine indexes one part while this process prepares the next, and two of its write threads
    share one call (against one request for the whole call: +31% records a second with one client, +5% with 16;
    interleaved A/B in BENCHMARKS.md). A failure of the engine propagates (a 503: nothing acknowledged, and every
    part is safe to send again)."""
    settings = services.settings
    pricing = PricingTable.default()
    rejected: list[Rejected] = []
    writes: list[asyncio.Task[Written]] = []
    try:
        for start in range(0, len(lines), PART_RECORDS):
            ready, refused = prepare_lines(
                lines[start : start + PART_RECORDS], tenant, pricing, settings.ingest_max_record_bytes, start
            )
            rejected.extend(refused)
            part = write_documents(
                services.client, services.names.write_alias, ready, refresh, settings.ingest_timeout_seconds
            )
            writes.append(asyncio.create_task(part))
            await asyncio.sleep(0)  # let the part's request go out before preparing the next
        parts = await asyncio.gather(*writes)
    except BaseException:
        for write in writes:
            write.cancel()
        await asyncio.gather(*writes, return_exceptions=True)
        raise
    return Written.merged(parts), rejected


def _refresh(request: web.Request) -> bool:
    """`?refresh=wait_for` answers once the records are searchable; without it they are within the refresh interval."""
    try:
        pairs = decode_query(request.rel_url.raw_query_string)
    except QueryStringError as error:
        raise ApiError(400, str(error)) from None
    params = dict(pairs)
    unknown = sorted(set(params) - {"refresh"})
    if unknown:
        raise ApiError(400, f"{unknown[0]}: unknown parameter; the only one is refresh")
    value = params.get("refresh", "false")
    if value not in ("false", "wait_for"):
        raise ApiError(400, f"refresh: {value!r} is neither false nor wait_for")
    return value == "wait_for"


def _json(status: int, answer: dict[str, object], headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(answer), content_type=JSON, headers=headers)
