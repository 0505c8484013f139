"""The real service on a real port, in a thread with its own event loop, whose OpenSearch connection goes through a
TcpProxy (tests/tcp_proxy.py) that a test can cut and restore: an engine outage as the browser sees it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

from aiohttp import web

from core.engine import make_client
from core.settings import OpenSearchSettings, ServiceSettings
from service.app import create_app
from service.server import ApiRunner
from tests.live_server import free_port
from tests.tcp_proxy import TcpProxy


class PageServer:
    def __init__(self, base_url: str, loop: asyncio.AbstractEventLoop, proxy: TcpProxy) -> None:
        self.base_url = base_url
        self._loop = loop
        self._proxy = proxy

    def _run(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)

    def cut_engine(self) -> None:
        """The engine goes away: the proxy stops listening and drops every open connection."""
        self._run(self._proxy.stop())

    def restore_engine(self) -> None:
        self._run(self._proxy.start())


@contextmanager
def page_server(opensearch_url: str, settings: ServiceSettings) -> Iterator[PageServer]:
    target = urlparse(opensearch_url)
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()
    failure: list[BaseException] = []
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 9200)

    async def serve() -> None:
        await proxy.start()
        engine = f"http://127.0.0.1:{proxy.port}"
        client = make_client(engine, OpenSearchSettings(url=engine, timeout_seconds=10))
        runner = ApiRunner(create_app(client, settings))
        try:
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            ready.set()
            await stop.wait()
        finally:
            await runner.cleanup()
            await client.close()
            await proxy.stop()

    def main() -> None:
        try:
            loop.run_until_complete(serve())
        except BaseException as error:
            failure.append(error)
            ready.set()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    ready.wait(30)
    if failure:
        raise RuntimeError(f"page server failed to start: {failure[0]!r}")
    try:
        yield PageServer(f"http://127.0.0.1:{port}", loop, proxy)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()
