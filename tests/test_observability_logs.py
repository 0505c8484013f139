"""Request ids and log lines on a real app and node: one JSON access line per request, with the id the answer's
`X-Request-Id` carries, the tenant and key id, never the key or a body; the same id on every other line the request
causes; client ids taken only when safe."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from opensearchpy import AsyncOpenSearch

from core.settings import ServiceSettings
from core.templates import IndexNames
from service.engine_errors import ENGINE_FAILURES
from service.keys import KeyStore, Scope
from service.observability.access import ACCESS_LOGGER
from service.observability.logs import FIELDS, log_handler
from service.observability.request_context import REQUEST_ID_HEADER
from tests.dataset import TENANT_A, index_documents, tenant_documents
from tests.observability import served
from tests.tcp_proxy import TcpProxy

LIST = "/api/v1/requests"
GENERATED_ID = re.compile(r"[0-9a-f]{32}")
MARKER = "zebra-quartz-marker"  # a word in a request body and a query: it must reach no log line
Lines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def log_lines() -> Iterator[Lines]:
    """The JSON lines the process logs while the test runs (the formatter `llmsearch serve` uses), parsed."""
    stream = io.StringIO()
    handler = log_handler("json", stream)
    root, access = logging.getLogger(), logging.getLogger(ACCESS_LOGGER)
    levels = root.level, access.level
    root.addHandler(handler)
    access.setLevel(logging.INFO)
    root.setLevel(logging.WARNING)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        access.setLevel(levels[1])


@pytest.fixture(scope="module")
async def key_and_id(client: AsyncOpenSearch, index_names: IndexNames) -> tuple[str, str]:
    await index_documents(client, index_names, tenant_documents(TENANT_A, 3))
    key, record = await KeyStore(client, index_names, 0).create(TENANT_A, scopes=frozenset({Scope.READ, Scope.WRITE}))
    return key, record.key_id


def access_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["logger"] == ACCESS_LOGGER]


async def test_one_json_access_line_per_request_with_its_id_tenant_and_key_id(
    opensearch_url: str, index_names: IndexNames, key_and_id: tuple[str, str], log_lines: Lines
) -> None:
    key, key_id = key_and_id
    record = {
        "id": "log-1",
        "createdAt": datetime.now(UTC).isoformat(),
        "request_body": {"model": "gpt-4o", "messages": [{"role": "user", "content": f"tell me about {MARKER}"}]},
        "completion": MARKER,
    }
    async with served(opensearch_url, ServiceSettings(index_prefix=index_names.prefix)) as api:
        listed = await api.get(LIST, params={"search": MARKER}, headers={"Authorization": f"Bearer {key}"})
        by_id = await api.get(f"{LIST}/req-001", headers={"Authorization": key})
        ingested = await api.post("/api/v1/ingest", json=[record], headers={"Authorization": key})
        anonymous = await api.get(LIST)
        for probe in ("/healthz", "/readyz"):
            assert (await api.get(probe)).status == 200
    assert [r.status for r in (listed, by_id, ingested, anonymous)] == [200, 200, 200, 401]

    lines = access_lines(log_lines())
    assert len(lines) == 4  # one each, and none for the probes (nor aiohttp's own access line)
    for line, response in zip(lines, (listed, by_id, ingested, anonymous), strict=True):
        assert line["request_id"] == response.headers[REQUEST_ID_HEADER]
        assert GENERATED_ID.fullmatch(line["request_id"])
        assert line["status"] == response.status
        assert line["level"] == "INFO"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert [(line["method"], line["route"]) for line in lines] == [
        ("GET", LIST),
        ("GET", "/api/v1/requests/{id}"),
        ("POST", "/api/v1/ingest"),
        ("GET", LIST),
    ]
    assert [(line["tenant"], line["key_id"]) for line in lines] == [(TENANT_A, key_id)] * 3 + [(None, None)]
    assert len({line["request_id"] for line in lines}) == 4
    text = json.dumps(log_lines())
    assert key not in text and key[4:20] not in text  # no key, nor part of one
    assert MARKER not in text  # no body, no query string


async def test_a_safe_client_request_id_is_kept_and_an_unsafe_one_replaced(
    opensearch_url: str, index_names: IndexNames, log_lines: Lines
) -> None:
    unsafe = ["", "a" * 65, "has space", 'quote"brace{', "new\tline", "ü-nicode", "semi;colon", "slash/es"]
    async with served(opensearch_url, ServiceSettings(index_prefix=index_names.prefix)) as api:
        for safe in ("abc-123", "A.b_C-9", "x" * 64, "0b1e2d3c4f5a69788796a5b4c3d2e1f0"):
            response = await api.get(LIST, headers={REQUEST_ID_HEADER: safe})
            assert response.headers[REQUEST_ID_HEADER] == safe
        replaced = []
        for value in unsafe:
            response = await api.get(LIST, headers={REQUEST_ID_HEADER: value})
            replaced.append(response.headers[REQUEST_ID_HEADER])
        # Error answers and the probes carry it too.
        for path in ("/healthz", "/readyz", "/no/such/path"):
            assert GENERATED_ID.fullmatch((await api.get(path)).headers[REQUEST_ID_HEADER])
    assert all(GENERATED_ID.fullmatch(value) for value in replaced)
    assert len(set(replaced)) == len(unsafe)
    logged = [line["request_id"] for line in access_lines(log_lines())]
    assert logged[4:12] == replaced
    assert not any(value and value in json.dumps(log_lines()) for value in unsafe[1:])


async def test_a_streamed_answer_carries_the_request_id(
    opensearch_url: str, index_names: IndexNames, key_and_id: tuple[str, str], log_lines: Lines
) -> None:
    """The export sends its headers before its handler returns."""
    async with served(opensearch_url, ServiceSettings(index_prefix=index_names.prefix)) as api:
        response = await api.get("/api/v1/export", headers={"Authorization": key_and_id[0], REQUEST_ID_HEADER: "exp-1"})
        assert response.status == 200
        assert len((await response.text()).splitlines()) >= 3
        assert response.headers[REQUEST_ID_HEADER] == "exp-1"
    (line,) = access_lines(log_lines())
    assert (line["request_id"], line["route"], line["status"]) == ("exp-1", "/api/v1/export", 200)


async def test_every_line_of_a_request_carries_its_id(
    opensearch_url: str, index_names: IndexNames, log_lines: Lines
) -> None:
    """The unexpected error's line, traceback and all, has the id of the request that met it."""

    async def broken(request: web.Request) -> web.Response:
        logging.getLogger("tests.broken").warning("about to fail")
        raise RuntimeError("a bug")

    async with served(opensearch_url, ServiceSettings(index_prefix=index_names.prefix), {"/broken": broken}) as api:
        response = await api.get("/broken", headers={REQUEST_ID_HEADER: "bug-42"})
        assert response.status == 500
        assert response.headers[REQUEST_ID_HEADER] == "bug-42"
    lines = [line for line in log_lines() if line["request_id"] == "bug-42"]
    assert [(line["logger"], line["level"]) for line in lines] == [
        ("tests.broken", "WARNING"),
        ("service.app", "ERROR"),
        (ACCESS_LOGGER, "INFO"),
    ]
    assert "RuntimeError: a bug" in lines[1]["exc_info"] and "Traceback" in lines[1]["exc_info"]
    assert lines[2]["status"] == 500 and lines[2]["route"] == "/broken"


async def test_the_engine_failure_line_carries_the_request_id(
    index_names: IndexNames, key_and_id: tuple[str, str], proxy: TcpProxy, log_lines: Lines
) -> None:
    url = f"http://127.0.0.1:{proxy.port}"
    settings = ServiceSettings(index_prefix=index_names.prefix, key_cache_seconds=60)
    async with served(url, settings) as api:
        headers = {"Authorization": key_and_id[0]}
        assert (await api.get(LIST, headers=headers)).status == 200
        ENGINE_FAILURES.flush()  # so that the next failure is logged in full, at once
        await proxy.stop()
        response = await api.get(LIST, headers={**headers, REQUEST_ID_HEADER: "down-1"})
        assert response.status == 503
        await proxy.start()
    lines = [line for line in log_lines() if line.get("request_id") == "down-1"]
    assert [line["logger"] for line in lines] == ["service.engine_errors", ACCESS_LOGGER]
    assert lines[0]["message"].startswith("engine unreachable")
    assert lines[1]["status"] == 503


async def test_protocol_errors_carry_a_request_id(opensearch_url: str, index_names: IndexNames) -> None:
    """Answered before any route runs (service.server), in JSON, with an id all the same."""
    async with served(opensearch_url, ServiceSettings(index_prefix=index_names.prefix)) as api:
        response = await api.get(LIST, headers={"X-Big": "k" * 17000})
        assert response.status == 431 and response.content_type == "application/json"
        assert GENERATED_ID.fullmatch(response.headers[REQUEST_ID_HEADER])


def test_the_text_format_is_one_line_with_the_fields() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.text_format")
    handler = log_handler("text", stream)
    logger.addHandler(handler)
    try:
        logger.warning("hello %s", "there", extra={FIELDS: {"request_id": "r-1", "status": 200}})
    finally:
        logger.removeHandler(handler)
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARNING tests.text_format: hello there request_id=r-1 status=200\n",
        stream.getvalue(),
    )


def test_a_line_with_text_json_cannot_hold_is_still_written() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.surrogate")
    handler = log_handler("json", stream)
    logger.addHandler(handler)
    try:
        logger.warning("unhandled error on GET /api/v1/requests?search=%s", "\ud800")
    finally:
        logger.removeHandler(handler)
    assert json.loads(stream.getvalue())["message"] == "unhandled error on GET /api/v1/requests?search=\ud800"
