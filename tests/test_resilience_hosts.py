"""Several engine hosts in one URL: calls go on to another host when one refuses, drops or hangs, for the service
and for the loader; a badly written URL is refused with the entry named."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch
from pydantic import ValidationError

from core.engine import is_read, make_client, make_service_client
from core.settings import OpenSearchSettings, ServiceSettings, split_hosts
from core.templates import IndexNames
from loaders.run import load
from loaders.sources.synthetic_source import SyntheticSource
from service.app import create_app
from service.keys import KeyStore
from tests.api_server import ApiTestServer
from tests.dataset import TENANT_A, index_documents, tenant_documents
from tests.tcp_proxy import TcpProxy
from tests.test_load_support import count, fresh_index, options, run_cli, run_load


def closed_port() -> int:
    """A port nothing listens on: connections to it are refused, like those to a killed node."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
async def hung_host(opensearch_url: str) -> AsyncIterator[str]:
    """A host that accepts connections and never answers, as a node stopped with SIGSTOP does."""
    target = urlparse(opensearch_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 9200)
    proxy.hang = True
    await proxy.start()
    yield f"http://127.0.0.1:{proxy.port}"
    await proxy.stop()


@pytest.fixture(scope="module")
async def api_key(client: AsyncOpenSearch, index_names: IndexNames) -> str:
    await index_documents(client, index_names, tenant_documents(TENANT_A, 5))
    key, _ = await KeyStore(client, index_names, 0).create(TENANT_A)
    return key


def test_the_url_may_name_several_hosts() -> None:
    settings = OpenSearchSettings(url="http://127.0.0.1:9600, http://127.0.0.1:9601,https://search.internal")
    assert settings.url is not None
    assert split_hosts(settings.url) == ["http://127.0.0.1:9600", "http://127.0.0.1:9601", "https://search.internal"]
    with pytest.raises(ValidationError, match="'http://b:96o1' is not a host URL"):
        OpenSearchSettings(url="http://a:9600,http://b:96o1")
    with pytest.raises(ValidationError, match="not a host URL"):
        OpenSearchSettings(url="ftp://a:9600")


async def test_reads_go_on_to_a_live_host_when_one_refuses(opensearch_url: str, index_names: IndexNames) -> None:
    url = f"http://127.0.0.1:{closed_port()},{opensearch_url}"
    client = make_client(url, OpenSearchSettings(url=url))
    try:
        for _ in range(20):  # the pool picks hosts in turn (and shuffled): the dead one comes up
            assert (await client.count(index=index_names.read_alias))["count"] >= 0
    finally:
        await client.close()


async def test_the_service_answers_through_a_hung_host_with_default_settings(
    opensearch_url: str, hung_host: str, index_names: IndexNames, api_key: str
) -> None:
    url = f"{hung_host},{opensearch_url}"
    settings = ServiceSettings(index_prefix=index_names.prefix, key_cache_seconds=60)
    client = make_service_client(url, OpenSearchSettings(url=url), settings)
    slowest = 0.0
    try:
        async with TestClient(ApiTestServer(create_app(client, settings))) as api:
            for _ in range(12):
                started = time.monotonic()
                response = await api.get("/api/v1/requests", headers={"Authorization": api_key})
                slowest = max(slowest, time.monotonic() - started)
                assert response.status == 200, await response.text()
                assert (await response.json())["totalCount"] == 5
    finally:
        await client.close()
    # At most one attempt waits out the timeout on the hung host (then it is set aside), and the call goes on.
    assert slowest <= 2 * settings.query_timeout_seconds, slowest


async def test_a_load_goes_on_when_the_first_host_is_down(
    client: AsyncOpenSearch, opensearch_url: str, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{closed_port()},{opensearch_url}"
    two_hosts = make_client(url, OpenSearchSettings(url=url))
    try:
        async with fresh_index(client) as names:
            result = await run_load(
                SyntheticSource(2000, seed=3), two_hosts, names, "acme", options(tmp_path, chunk_size=100)
            )
            assert (result.counts.created, result.counts.rejected) == (2000, 0)
            assert await count(client, names) == 2000
    finally:
        await two_hosts.close()


def test_the_load_command_takes_several_hosts(opensearch_url: str, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()},{opensearch_url}"
    prefix = f"test-load-hosts-{tmp_path.name[-8:].lower().replace('_', '-')}"
    done = run_cli(
        url,
        *("synthetic", "--count", "500", "--tenant", "acme", "--index-prefix", prefix),
        *("--state-dir", str(tmp_path), "--progress", "none", "--chunk-size", "100", "--json"),
    )
    try:
        assert done.returncode == 0, done.stderr
        assert '"created":500' in done.stdout.replace(" ", ""), done.stdout
        assert "Traceback" not in done.stderr, done.stderr
    finally:
        from tests.engine import delete_index_prefix

        delete_index_prefix(opensearch_url, prefix)


@pytest.mark.parametrize(
    ("method", "path", "read"),
    [
        ("POST", "/llm-requests/_search", True),
        ("POST", "/llm-requests/_count", True),
        ("GET", "/llm-requests-keys/_doc/abc", True),
        ("HEAD", "/llm-requests-000001", True),
        ("PUT", "/llm-requests-secrets", False),  # creating an index
        ("PUT", "/llm-requests-secrets/_create/cursor", False),
        ("POST", "/llm-requests/_search/point_in_time", False),
        ("PUT", "/llm-requests-000001/_settings", False),
    ],
)
def test_the_service_reads_fast_and_writes_patiently(method: str, path: str, read: bool) -> None:
    assert is_read(method, path) is read


async def test_a_load_waits_out_an_engine_that_is_briefly_away(
    client: AsyncOpenSearch, opensearch_url: str, tmp_path: Path
) -> None:
    """The load's first calls (the templates) meet refused connections; they are retried, not fatal."""
    target = urlparse(opensearch_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 9200)
    await proxy.start()
    await proxy.stop()  # the port is known; nothing listens on it for now
    url = f"http://127.0.0.1:{proxy.port}"
    away = make_client(url, OpenSearchSettings(url=url))
    lines: list[str] = []
    try:
        async with fresh_index(client) as names:
            opts = options(tmp_path, initial_backoff=0.3, max_backoff=1.0)
            loading = asyncio.create_task(
                load(
                    SyntheticSource(300, seed=4),
                    client=away,
                    names=names,
                    tenant="acme",
                    options=opts,
                    log=lines.append,
                )
            )
            await asyncio.sleep(1.0)
            await proxy.start()
            result = await loading
            assert (result.counts.created, result.counts.rejected) == (300, 0)
            assert any("applying the index templates failed (connection error" in line for line in lines), lines
    finally:
        await away.close()
        await proxy.stop()
