"""`GET /api/v1/export`: every request a query matches, streamed as NDJSON or CSV (service.export).

The selection and sort parameters are the list's, parsed by the same model (service.params); `format` picks the
rows. What can fail before the first byte (auth, parameters, opening the point in time, the first page) is
answered as the list answers it. Once the stream has begun, a status can no longer say anything:
- the client going away ends the export quietly, and the point in time is deleted;
- the engine failing mid-way closes the connection without the chunked body's terminating chunk, so no client
  mistakes the part it got for the whole (curl: "transfer closed with outstanding read data remaining").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

from aiohttp import web
from opensearchpy.exceptions import OpenSearchException
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.routing import tenant_routing
from service.auth import tenant_of_request
from service.context import SERVICES
from service.errors import METHOD_NOT_ALLOWED, ApiError
from service.export import FORMATS, ExportFormat, ExportScan, Rows, export_body, rows_for
from service.filters import FilterError
from service.params import ParameterError, RequestsQuery, parse_query
from service.query_string import QueryStringError, decode_query
from service.search_text import SearchError

log = logging.getLogger(__name__)

ALLOWED_METHODS = ("GET",)  # not HEAD: it would open a point in time to send nothing
# The list's paging, which an export (the whole result, in one stream) has no use for.
PAGING = ("pageSize", "pageNumber", "cursor")
PARAMETERS = (*(name for name in RequestsQuery.model_fields if name not in PAGING), "format")
CONTENT_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]")


class ExportOptions(BaseModel):
    """What the export adds to the list's parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Annotated[ExportFormat, Field(description="`ndjson` (default) or `csv`.")] = "ndjson"


def parse_export(pairs: Sequence[tuple[str, str]]) -> tuple[RequestsQuery, ExportFormat]:
    """The list's query model (without paging) and the format, from the decoded query string."""
    names = [name for name, _ in pairs]
    for name in names:
        if name in PAGING:
            raise ParameterError(
                f"{name}: an export streams every matching request, so it has no pages; leave out {', '.join(PAGING)}"
            )
        if name not in PARAMETERS:
            raise ParameterError(f"{name}: unknown parameter; the parameters are {', '.join(PARAMETERS)}")
    params = dict(pairs)
    chosen = params.pop("format", "").strip().lower() or "ndjson"
    query = parse_query(params, names)  # also refuses a parameter given twice, `format` included
    try:
        options = ExportOptions.model_validate({"format": chosen})
    except ValidationError:
        raise ParameterError(f"format: {chosen!r} is not one of {', '.join(FORMATS)}") from None
    return query, options.format


def attachment_name(tenant: str, rows: Rows, now: datetime) -> str:
    """`requests-<tenant>-<UTC time>.<ext>`, with what a file name or header cannot hold in a tenant id as `_`."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"requests-{_UNSAFE_IN_FILENAME.sub('_', tenant)}-{stamp}.{rows.extension}"


async def export_requests(request: web.Request) -> web.StreamResponse:
    if request.method not in ALLOWED_METHODS:
        raise ApiError(405, METHOD_NOT_ALLOWED, {"Allow": ", ".join(ALLOWED_METHODS)})
    services = request.app[SERVICES]
    tenant = await tenant_of_request(request.headers.get("Authorization"), services.keys)
    try:
        query, fmt = parse_export(decode_query(request.rel_url.raw_query_string))
        rows = rows_for(fmt, query)
        body = export_body(query, tenant, rows.source_fields)
    except (QueryStringError, ParameterError, SearchError) as error:
        raise ApiError(400, str(error)) from None
    except FilterError as error:
        raise ApiError(400, f"filter: {error}") from None

    timeout = services.settings.export_timeout_seconds
    written = 0
    scan = ExportScan(services.client, services.names.read_alias, body, timeout=timeout, routing=tenant_routing(tenant))
    async with scan:
        filename = attachment_name(tenant, rows, datetime.now(UTC))
        response = web.StreamResponse(
            headers={
                "Content-Type": CONTENT_TYPES[fmt],
                "Content-Disposition": f'attachment; filename="{filename}"',
            }
        )
        response.enable_compression()  # gzip (or deflate) when the client's Accept-Encoding asks; else as is
        await response.prepare(request)
        try:
            if header := rows.header():
                await response.write(header)
            async for hit in scan.hits():
                # write() waits (drain) whenever the client is behind: a slow reader slows the scan, never
                # piles pages up in memory.
                await response.write(rows.row(hit["_source"]))
                written += 1
        except ConnectionResetError:
            log.info("export for tenant %s: the client went away after %d requests", tenant, written)
            return response
        except (OpenSearchException, TimeoutError) as error:
            log.error("export for tenant %s failed after %d requests: %s", tenant, written, error)
            _cut_short(request)
            return response
        except Exception:
            # Past prepare() the error middleware's JSON answer can no longer be sent; the same cut is the answer.
            log.exception("export for tenant %s failed after %d requests", tenant, written)
            _cut_short(request)
            return response
    await response.write_eof()
    return response


def _cut_short(request: web.Request) -> None:
    """End the connection without the chunked body's last chunk: the client sees a broken transfer, not an end."""
    if request.transport is not None:
        request.transport.close()
