"""`GET /api/v1/export` through the real app and engine: every matching request once (past 10,000), the list's
objects, CSV that is spreadsheet-safe and loads back to the same documents, gzip, back-pressure, and the point in
time released when a client goes away or the engine fails mid-stream."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import gzip
import io
import json
import re
import socket
import struct
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from core.engine import make_client
from core.fields import RETURNED, SORTABLE
from core.settings import OpenSearchSettings, ServiceSettings
from core.templates import IndexNames
from loaders.sources.csv_source import CsvSource
from service.app import create_app
from service.export import ExportScan, export_body, rows_for
from service.keys import KeyStore
from service.params import parse_query
from tests.api_server import ApiTestServer
from tests.dataset import TENANT_A, TENANT_B, index_documents, tenant_documents
from tests.export_data import TRICKY_TEXTS, bulk_documents, tenant_sources, tricky_documents, varied_documents
from tests.tcp_proxy import TcpProxy
from tests.test_load_support import fresh_index, options, run_load

Api = TestClient[web.Request, web.Application]
URL = "/api/v1/export"
BIG, SMALL = 4_000, 7_000  # requests of ~4.5 KB and ~300 B: over 10,000 in all, and pages of ~4.5 MB
VARIED = 60


@pytest.fixture(scope="module")
async def key_a(client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore) -> str:
    documents = [
        *varied_documents(TENANT_A, VARIED),
        *tricky_documents(TENANT_A),
        *bulk_documents(TENANT_A, BIG, "big", 4_500),
        *bulk_documents(TENANT_A, SMALL, "small", 20),
        *tenant_documents(TENANT_B, 30),
        *tricky_documents(TENANT_B),  # the same ids as TENANT_A's
    ]
    await index_documents(client, index_names, documents)
    key, _ = await keys.create(TENANT_A)
    return key


@pytest.fixture(scope="module")
async def key_b(keys: KeyStore, key_a: str) -> str:
    key, _ = await keys.create(TENANT_B)
    return key


async def export(api: Api, key: str, **params: str) -> aiohttp.ClientResponse:
    response = await api.get(URL, params=params, headers={"Authorization": key})
    assert response.status == 200, await response.text()
    return response


async def ndjson(api: Api, key: str, **params: str) -> list[dict[str, Any]]:
    text = await (await export(api, key, **params)).text()
    assert text.endswith("\n") or not text
    return [json.loads(line) for line in text.splitlines()]


async def listed(api: Api, key: str, **params: str) -> list[dict[str, Any]]:
    response = await api.get("/api/v1/requests", params={**params, "pageSize": "1000"}, headers={"Authorization": key})
    body = await response.json()
    assert response.status == 200, body
    requests: list[dict[str, Any]] = body["requests"]
    return requests


async def test_every_request_of_the_tenant_once_past_ten_thousand(api: Api, key_a: str) -> None:
    started = time.monotonic()
    lines = await ndjson(api, key_a, fields="id,app_id")
    print(f"exported {len(lines):,} requests in {time.monotonic() - started:.1f}s")
    ids = [line["id"] for line in lines]
    assert len(ids) == VARIED + len(TRICKY_TEXTS) + BIG + SMALL > 10_000
    assert len(set(ids)) == len(ids)
    assert all(set(line) == {"id", "app_id"} for line in lines)
    assert {line["app_id"] for line in lines} == {"varied", "tricky", "big", "small"}  # nothing of TENANT_B's


async def test_ndjson_lines_are_the_list_objects_in_the_list_order(api: Api, key_a: str) -> None:
    for params in ({"app_id": "varied"}, {"app_id": "tricky", "sortBy": "cost", "sortOrder": "asc"}):
        assert await ndjson(api, key_a, **params) == await listed(api, key_a, **params)
    chosen = {"filter": json.dumps({"status": [200, 201]}), "search": "answer", "fields": "id,status,cost"}
    lines = await ndjson(api, key_a, app_id="varied", **chosen)
    assert lines == await listed(api, key_a, app_id="varied", **chosen)
    assert lines and all(set(line) == {"id", "status", "cost"} and line["status"] in ("200", "201") for line in lines)


async def test_another_tenant_exports_only_its_own(api: Api, key_b: str) -> None:
    lines = await ndjson(api, key_b)
    assert len(lines) == 30 + len(TRICKY_TEXTS)
    assert not any(line["app_id"] in ("varied", "big", "small") for line in lines)


@pytest.mark.parametrize("field", SORTABLE)
@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_search_after_pages_follow_every_sort_through_missing_values(
    api: Api, client: AsyncOpenSearch, index_names: IndexNames, key_a: str, field: str, order: str
) -> None:
    """Small pages, so each page boundary goes through `search_after` with every kind of sort value (missing
    keyword/IP as null, missing double as "Infinity", dates and their missing sentinel, scores)."""
    params = {"app_id": "varied", "sortBy": field, "sortOrder": order}
    if field == "relevance":
        params["search"] = "lighthouse | weather | refund"
    query = parse_query(params, list(params))
    body = export_body(query, TENANT_A, ["id"])
    async with ExportScan(client, index_names.read_alias, body, timeout=30, page_size=7, count_total=True) as scan:
        ids = [hit["_source"]["id"] async for hit in scan.hits()]
    expected = [request["id"] for request in await listed(api, key_a, **params, fields="id")]
    assert scan.total == len(expected)
    assert ids == expected


async def test_headers_name_the_attachment(api: Api, key_a: str) -> None:
    response = await export(api, key_a, app_id="varied")
    assert response.headers["Content-Type"] == "application/x-ndjson"
    assert response.headers["Transfer-Encoding"] == "chunked"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="requests-acme-\d{8}T\d{6}Z\.ndjson"', disposition), disposition
    response = await export(api, key_a, app_id="varied", format="csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].endswith('.csv"')


async def test_gzip_when_asked(api: Api, key_a: str) -> None:
    plain = await (await export(api, key_a, app_id="big")).read()
    url = api.make_url(URL).with_query(app_id="big")
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        async with session.get(url, headers={"Authorization": key_a, "Accept-Encoding": "gzip"}) as response:
            assert response.status == 200
            assert response.headers["Content-Encoding"] == "gzip"
            packed = await response.read()
        async with session.get(url, headers={"Authorization": key_a, "Accept-Encoding": "identity"}) as response:
            assert "Content-Encoding" not in response.headers
            assert await response.read() == plain
    assert gzip.decompress(packed) == plain
    assert len(packed) < len(plain) / 10


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


async def test_csv_header_cells_and_spreadsheet_escapes(api: Api, key_a: str) -> None:
    text = await (await export(api, key_a, app_id="tricky", format="csv", sortBy="id", sortOrder="asc")).text()
    rows = csv_rows(text)
    header = [name for name in RETURNED if name != "duration_ms"]
    assert rows[0] == header
    cells = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert len(cells) == len(TRICKY_TEXTS)
    completions = {row["completion"] for row in cells}
    # Every cell a spreadsheet would run (= + - @ tab CR) and every cell starting with the quote gets a quote.
    assert "'=1+1" in completions and "'-2 minus" in completions and "'+3 plus" in completions
    assert "'@SUM(A1:A2)" in completions and "'\tstarts with a tab" in completions
    assert "'\rstarts with a carriage return" in completions
    assert "''quoted already" in completions and "'''" in completions and "''" in completions
    assert "a, b, and c" in completions and "plain text" in completions
    assert not [cell for row in cells for cell in row.values() if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert {row["cached"] for row in cells} <= {"true", "false"}
    assert (
        json.loads(next(row for row in cells if row["completion"] == "plain text")["metadata"])["note"] == "plain text"
    )
    fields_only = csv_rows(await (await export(api, key_a, app_id="tricky", format="csv", fields="model,cost")).text())
    assert fields_only[0] == ["id", "createdAt", "model", "cost"]  # the loader's required columns always come


async def test_csv_loads_back_into_another_tenant_as_the_same_documents(
    api: Api, client: AsyncOpenSearch, index_names: IndexNames, key_a: str, tmp_path: Path
) -> None:
    selection = {"filter": json.dumps({"app_id": ["tricky", "varied"]}), "format": "csv"}
    path = tmp_path / "export.csv"
    path.write_bytes(await (await export(api, key_a, **selection)).read())
    original = {
        request_id: source
        for request_id, source in (await tenant_sources(client, index_names, TENANT_A)).items()
        if source["app_id"] in ("tricky", "varied")
    }
    async with fresh_index(client) as names:
        result = await run_load(CsvSource(path, 1 << 24), client, names, "other", options(tmp_path))
        assert (result.counts.created, result.counts.rejected) == (len(original), 0)
        copied = await tenant_sources(client, names, "other")
    assert copied.keys() == original.keys()
    for request_id, source in original.items():
        assert copied[request_id] == source, request_id


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"pageSize": "10"}, "pageSize: an export streams every matching request"),
        ({"pageNumber": "2"}, "pageNumber: an export streams every matching request"),
        ({"format": "xml"}, "format: 'xml' is not one of ndjson, csv"),
        ({"format": "csv", "fields": "id,duration_ms"}, "fields: duration_ms is computed"),
        ({"format": "csv", "format ": "csv"}, "format : unknown parameter; the parameters are"),
        ({"sortBy": "prompt"}, "sortBy: 'prompt' is not sortable"),
        ({"fields": "tenant_id"}, "fields: unknown field 'tenant_id'"),
        ({"filter": "{"}, "filter:"),
        ({"search": "***"}, "search:"),
    ],
)
async def test_bad_parameters_are_400s_naming_them(api: Api, key_a: str, params: dict[str, str], message: str) -> None:
    response = await api.get(URL, params=params, headers={"Authorization": key_a})
    assert response.status == 400
    body = await response.json()
    assert body["error"].startswith(message), body


async def test_a_parameter_twice_is_a_400(api: Api, key_a: str) -> None:
    response = await api.get(f"{URL}?format=csv&format=ndjson", headers={"Authorization": key_a})
    assert response.status == 400
    assert (await response.json())["error"].startswith("format: given more than once")


async def test_auth_and_method_errors_are_the_lists(api: Api, key_a: str) -> None:
    response = await api.get(URL)
    assert (response.status, await response.json()) == (401, {"error": "You must be logged in or provide an API key."})
    response = await api.get(URL, headers={"Authorization": "Bearer nope"})
    assert (response.status, await response.json()) == (401, {"error": "Invalid API key."})
    for method in ("POST", "PUT", "DELETE", "HEAD"):
        response = await api.request(method, URL, headers={"Authorization": key_a})
        assert response.status == 405 and response.headers["Allow"] == "GET", method
        if method != "HEAD":
            assert await response.json() == {"error": "Method not allowed"}


async def search_queries(client: AsyncOpenSearch, names: IndexNames) -> int:
    stats = await client.indices.stats(index=names.read_alias, metric="search")
    return int(stats["_all"]["primaries"]["search"]["query_total"])


async def open_contexts(client: AsyncOpenSearch) -> int:
    stats = await client.nodes.stats(metric="indices", index_metric="search")
    return sum(int(node["indices"]["search"]["open_contexts"]) for node in stats["nodes"].values())


async def pit_ids(client: AsyncOpenSearch) -> set[str]:
    return {pit["pit_id"] for pit in (await client.get_all_pits()).get("pits", [])}


async def test_a_failed_point_in_time_deletion_is_logged_not_raised(
    client: AsyncOpenSearch, opensearch_url: str, index_names: IndexNames, key_a: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Deleting the PIT is clean-up: when it fails (the engine away), that is logged, and the export (which may
    have been sent whole) is not failed for it; the PIT's keep-alive frees it."""
    target = urlparse(opensearch_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 9200)
    await proxy.start()
    url = f"http://127.0.0.1:{proxy.port}"
    proxied = make_client(url, OpenSearchSettings(url=url, timeout_seconds=5))
    query = parse_query({"app_id": "varied"}, ["app_id"])
    before = await pit_ids(client)
    try:
        async with ExportScan(proxied, index_names.read_alias, export_body(query, TENANT_A, ["id"]), timeout=5) as scan:
            ids = [hit["_source"]["id"] async for hit in scan.hits()]
            await proxy.stop()
    finally:
        await proxied.close()
        await client.delete_pit(body={"pit_id": sorted(await pit_ids(client) - before)})
    assert len(ids) == VARIED
    assert "could not delete an export's point in time" in caplog.text


@contextlib.asynccontextmanager
async def raw_export(api: Api, key: str, **params: str) -> AsyncIterator[tuple[asyncio.StreamReader, socket.socket]]:
    """A bare HTTP/1.1 connection asking for an export, with a small receive buffer: reading stops when the test
    stops reading, as a slow client's would."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (str(api.host), int(api.port or 0)))
    reader, writer = await asyncio.open_connection(sock=sock, limit=16 * 1024)
    writer.write(f"GET {URL}?{urlencode(params)} HTTP/1.1\r\nHost: test\r\nAuthorization: {key}\r\n\r\n".encode())
    await writer.drain()
    try:
        yield reader, sock
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def read_some(reader: asyncio.StreamReader, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = await asyncio.wait_for(reader.read(size - len(data)), 30)
        assert chunk, f"the stream ended after {len(data)} bytes"
        data += chunk
    return data


async def test_a_client_that_stops_reading_holds_the_scan_back(
    api: Api, client: AsyncOpenSearch, index_names: IndexNames, key_a: str
) -> None:
    """Back-pressure: while the client reads nothing, the service fetches no further pages (4 of ~4.5 MB here)
    than the socket buffers can hold, instead of reading the whole result into memory."""
    before = await search_queries(client, index_names)
    async with raw_export(api, key_a, app_id="big") as (reader, _sock):
        head = await read_some(reader, 8 * 1024)
        assert head.startswith(b"HTTP/1.1 200")
        await asyncio.sleep(2)  # ample time to fetch every page, were nothing holding the scan back
        during = await search_queries(client, index_names) - before
    print(f"pages fetched while the client read nothing: {during} of {BIG // 1000}")
    assert 1 <= during <= 2


async def test_a_client_that_goes_away_releases_the_point_in_time(
    api: Api, client: AsyncOpenSearch, key_a: str
) -> None:
    pits_before, contexts_before = await pit_ids(client), await open_contexts(client)
    async with raw_export(api, key_a, app_id="big") as (reader, sock):
        await read_some(reader, 4 * 1024)
        ours = await pit_ids(client) - pits_before
        assert ours, "the export's point in time is open while it streams"
        # Close with a reset, as a client that is killed does (nothing left unread is drained politely).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    deadline = time.monotonic() + 10
    while (
        ours & await pit_ids(client) or await open_contexts(client) > contexts_before
    ) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert not ours & await pit_ids(client), "the point in time outlived its export"
    assert await open_contexts(client) <= contexts_before


@pytest.fixture
async def proxied_api(opensearch_url: str, index_names: IndexNames) -> AsyncIterator[tuple[Api, TcpProxy]]:
    target = urlparse(opensearch_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 9200)
    await proxy.start()
    url = f"http://127.0.0.1:{proxy.port}"
    proxied = make_client(url, OpenSearchSettings(url=url, timeout_seconds=5))
    settings = ServiceSettings(index_prefix=index_names.prefix, key_cache_seconds=60)
    async with TestClient(ApiTestServer(create_app(proxied, settings))) as api:
        yield api, proxy
    await proxy.stop()
    await proxied.close()


async def test_an_engine_failure_mid_stream_breaks_the_transfer(proxied_api: tuple[Api, TcpProxy], key_a: str) -> None:
    """No status can be sent once the stream has begun, so the transfer is cut without its final chunk: the
    client sees an error, never a short export that looks complete."""
    api, proxy = proxied_api
    response = await api.get(URL, params={"app_id": "big"}, headers={"Authorization": key_a})
    assert response.status == 200
    received = len(await response.content.readexactly(64 * 1024))
    await proxy.stop()
    with pytest.raises(aiohttp.ClientPayloadError):
        while chunk := await response.content.read(64 * 1024):
            received += len(chunk)
    assert received < BIG * 4_500  # far from the whole export


def test_rows_refuse_fields_the_format_cannot_hold() -> None:
    query = parse_query({"fields": "cost"}, ["fields"])
    assert rows_for("csv", query).source_fields == ["id", "createdAt", "cost"]
    query = parse_query({"fields": "updatedAt"}, ["fields"])
    assert rows_for("csv", query).source_fields == ["id", "createdAt", "updatedAt", "duration_ms"]
