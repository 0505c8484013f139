"""Exporting every request a query matches, shared by `GET /api/v1/export` (service.export_api) and
`llmsearch export` (cli.export): the engine-side scan and the NDJSON/CSV rows.

The scan opens a point in time (PIT) on the read alias and pages through it with `search_after`, so there is no
10,000-result window and documents indexed or updated meanwhile neither shift nor repeat. The sort is the list's
(the requested field, then `id`): within a tenant `id` is unique (the document `_id` is `<tenant>:<id>`), so every
position is distinct and `search_after` cannot return a request twice. The sort values are plain field values, so
a later scan on a new PIT continues from them too (the CLI's resume). `_shard_doc` is deliberately not used: it
only separates copies of one id in two index generations, its values mean nothing to another PIT, and OpenSearch
3.8 was measured to pick between such ties inconsistently at page boundaries anyway (it skipped one copy in 18 of
30 tries).

At most one engine page is held at a time, and each hit is let go of once its row is rendered, so memory stays
flat however many requests match. The PIT is deleted when the scan ends, however it ends (a client gone, an
engine error, a cancelled task); should even that fail, its keep-alive frees it within a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any, Literal, Protocol

import orjson
from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import OpenSearchException

from core.fields import FIELDS, RETURNED, Origin
from service.csv_safe import spreadsheet_safe
from service.page import request_object
from service.params import ParameterError, RequestsQuery
from service.query import SortValue, build_search_body

log = logging.getLogger(__name__)

PAGE_SIZE = 1000
# How long the engine keeps the PIT between two pages; each page renews it. A client that stops reading for
# longer loses its export (the next page fails), but an abandoned PIT never outlives it by much.
KEEP_ALIVE = "1m"
ExportFormat = Literal["ndjson", "csv"]
FORMATS: tuple[ExportFormat, ...] = ("ndjson", "csv")
Hit = dict[str, Any]
_FILTER_PATH = "pit_id,hits.total.value,hits.hits._source,hits.hits.sort"
# Computed when a document is indexed, so the loader refuses them as input: a CSV, which must load back, leaves
# them out.
DERIVED_RETURNED = tuple(name for name in RETURNED if FIELDS[name].origin is Origin.DERIVED)
CSV_REQUIRED = ("id", "createdAt")  # the columns the CSV loader insists on


def export_body(query: RequestsQuery, tenant: str, source_fields: Sequence[str]) -> dict[str, Any]:
    """The search body of an export: `build_search_body`'s, with search_after paging in place of `from`.

    The list's own body is taken and adjusted, never rebuilt: the tenant term, the filter, the search and the sort
    (with its `id` tiebreak) then cannot differ between what a client lists and what it exports. `size`, `pit`
    and `search_after` are set per page by `ExportScan`.
    """
    body = build_search_body(query, tenant)
    del body["from"]
    # Counted exactly once, on the first page, when asked (ExportScan); other pages count no further than the
    # engine's default 10,000. Not `false`: OpenSearch 3.8 then pre-filters shards by the search_after values and
    # fails (a NullPointerException, HTTP 500) when one is null, as it is after a request without the sort field.
    del body["track_total_hits"]
    body["_source"] = list(source_fields)
    return body


class ExportScan:
    """One pass over what `body` matches, in its sort order, after `after` (sort values) if given.

        async with ExportScan(client, names.read_alias, body, timeout=60, routing=tenant_routing(tenant)) as scan:
            async for hit in scan.hits():
                ...  # hit["_source"], hit["sort"]

    Entering opens the PIT and fetches the first page, so a failing query fails there (before an HTTP answer has
    begun); leaving deletes the PIT. `count_total` asks the first page for the exact number of matches (`total`).
    `routing` is the routing value of the tenant whose requests `body` selects (core.routing).
    """

    def __init__(
        self,
        client: AsyncOpenSearch,
        index: str,
        body: dict[str, Any],
        *,
        timeout: float,
        after: list[SortValue] | None = None,
        page_size: int = PAGE_SIZE,
        count_total: bool = False,
        routing: str | None = None,
    ) -> None:
        self._client = client
        self._index = index
        self._routing = routing
        self._body = body
        self._timeout = timeout
        self._after = after
        self._page_size = page_size
        self._count_total = count_total
        self._pit_id: str | None = None
        self._first: list[Hit] = []
        self.total: int | None = None

    async def __aenter__(self) -> ExportScan:
        # The point in time covers the shards `routing` (the tenant's, core.routing) leads to: pages search those only.
        created = await self._client.create_pit(
            index=self._index, keep_alive=KEEP_ALIVE, routing=self._routing, request_timeout=self._timeout
        )
        self._pit_id = created["pit_id"]
        try:
            self._first = await self._page(self._after, count_total=self._count_total)
        except BaseException:
            await self._release()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self._release()

    async def hits(self) -> AsyncIterator[Hit]:
        page, self._first = self._first, []
        while page:
            after, last = page[-1]["sort"], len(page) < self._page_size
            page.reverse()
            while page:
                yield page.pop()  # the page shrinks as it is written: nothing is kept once rendered
            if last:
                return
            page = await self._page(after)

    async def _page(self, after: list[SortValue] | None, *, count_total: bool = False) -> list[Hit]:
        body = {**self._body, "size": self._page_size, "pit": {"id": self._pit_id, "keep_alive": KEEP_ALIVE}}
        if after is not None:
            body["search_after"] = after
        if count_total:
            body["track_total_hits"] = True
        # A shard that fails must fail the export, not leave a silent gap in it.
        result = await self._client.search(
            body=body,
            filter_path=_FILTER_PATH,
            allow_partial_search_results=False,
            request_timeout=self._timeout,
        )
        self._pit_id = result.get("pit_id", self._pit_id)
        hits = result.get("hits", {})
        if count_total:
            self.total = int(hits["total"]["value"])
        found: list[Hit] = hits.get("hits", [])
        return found

    async def _release(self) -> None:
        pit_id, self._pit_id = self._pit_id, None
        if pit_id is None:
            return
        # Shielded: a task cancelled mid-export (server shut-down, Ctrl+C) must still free the engine's context,
        # and a second cancellation must not cut the deletion short; it then finishes on its own.
        deletion = asyncio.ensure_future(
            self._client.delete_pit(body={"pit_id": [pit_id]}, request_timeout=self._timeout)
        )
        deletion.add_done_callback(_log_failed_deletion)
        # A failure is logged (the callback) and otherwise ignored: the export itself is not worse for it.
        with contextlib.suppress(OpenSearchException, OSError, TimeoutError):
            await asyncio.shield(deletion)


def _log_failed_deletion(deletion: asyncio.Future[Any]) -> None:
    error = None if deletion.cancelled() else deletion.exception()
    if isinstance(error, OpenSearchException | OSError | TimeoutError):
        log.warning("could not delete an export's point in time (%s); it expires within %s", error, KEEP_ALIVE)
    elif error is not None:
        log.error("deleting an export's point in time failed", exc_info=error)


class Rows(Protocol):
    """How each request becomes bytes of one format."""

    extension: str
    content_type: str
    source_fields: list[str]
    """What to ask the engine for: the rows' fields and whatever rendering them needs."""

    def header(self) -> bytes: ...

    def row(self, source: dict[str, Any]) -> bytes: ...


class NdjsonRows:
    """One request object per line, exactly as in the list's `requests` array (`status` a string and all)."""

    extension = "ndjson"
    content_type = "application/x-ndjson"

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        self.source_fields = fields

    def header(self) -> bytes:
        return b""

    def row(self, source: dict[str, Any]) -> bytes:
        return orjson.dumps(request_object(source, self.fields), option=orjson.OPT_APPEND_NEWLINE)


class CsvRows:
    """A header row of the spec's field names, then one row per request, in the form the CSV loader reads back:
    empty for null, `true`/`false`, bodies as the JSON text they are stored as, `metadata` as JSON text, and
    every text cell spreadsheet-safe (service.csv_safe).

    `updatedAt` is left empty where the logged record had none (the index then holds `createdAt` and a null
    `duration_ms`), so that loading the file computes the same `duration_ms` (null, not 0).
    """

    extension = "csv"
    content_type = "text/csv"

    def __init__(self, fields: list[str]) -> None:
        chosen = set(fields) | set(CSV_REQUIRED)
        self.columns = [name for name in RETURNED if name in chosen and name not in DERIVED_RETURNED]
        needed = set(self.columns) | ({"createdAt", "duration_ms"} if "updatedAt" in self.columns else set())
        self.source_fields = [name for name in RETURNED if name in needed]
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)  # RFC 4180: quotes cells with , " or line breaks; CRLF rows

    def header(self) -> bytes:
        return self._line(self.columns)

    def row(self, source: dict[str, Any]) -> bytes:
        cells = [_cell(source.get(name)) for name in self.columns]
        if "updatedAt" in self.columns and _updated_at_was_absent(source):
            cells[self.columns.index("updatedAt")] = ""
        return self._line(cells)

    def _line(self, cells: list[str]) -> bytes:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(cells)
        return self._buffer.getvalue().encode()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # the shortest text that reads back as the same number
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return spreadsheet_safe(orjson.dumps(value).decode())  # metadata: a JSON object


def _updated_at_was_absent(source: dict[str, Any]) -> bool:
    # core.documents stores `updatedAt = record.updatedAt or createdAt` and a null duration without one; an
    # explicit updatedAt equal to createdAt has duration 0, and one before it differs from createdAt.
    return source.get("duration_ms") is None and source.get("updatedAt") == source.get("createdAt")


def rows_for(fmt: ExportFormat, query: RequestsQuery) -> Rows:
    """The rows of `fmt` for the fields `query` asks for; ParameterError when the format cannot hold them."""
    fields = query.returned_fields
    if fmt == "ndjson":
        return NdjsonRows(fields)
    derived = [name for name in DERIVED_RETURNED if name in fields]
    if query.fields is not None and derived:
        raise ParameterError(
            f"fields: {derived[0]} is computed from createdAt and updatedAt when a file is loaded, so a CSV export "
            "(which loads back) leaves it out; leave it out of fields, or export NDJSON"
        )
    return CsvRows(fields)
