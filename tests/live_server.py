"""The real service on a real port, in a thread with its own event loop: for clients that block (schemathesis, the
browser tests, the Python client). With `through_proxy`, its OpenSearch connection goes through a TcpProxy
(tests/tcp_proxy.py) that a test can cut and restore: an engine outage as a blocking client sees it."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
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
from tests.tcp_proxy import TcpProxy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def interrupt(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """Stop a `llmsearch serve` process as Ctrl+C does, and wait for it (killed if it takes over 20 s)."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    finally:
        process.kill()


class LiveService:
    def __init__(self, base_url: str, loop: asyncio.AbstractEventLoop, proxy: TcpProxy | None) -> None:
        self.base_url = base_url
        self._loop = loop
        self._proxy = proxy

    def _run(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)

    def _through(self) -> TcpProxy:
        if self._proxy is None:
            raise RuntimeError("this service was started without through_proxy")
        return self._proxy

    def cut_engine(self) -> None:
        """The engine goes away: the proxy stops listening and drops every open connection."""
        self._run(self._through().stop())

    def restore_engine(self) -> None:
        self._run(self._through().start())


@contextmanager
def running_service(
    opensearch_url: str, settings: ServiceSettings, *, through_proxy: bool = False
) -> Iterator[LiveService]:
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()
    failure: list[BaseException] = []
    target = urlparse(opensearch_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 9200) if through_proxy else None

    async def serve() -> None:
        engine = opensearch_url
        if proxy is not None:
            await proxy.start()
            engine = f"http://127.0.0.1:{proxy.port}"
        client = make_client(engine, OpenSearchSettings(url=engine))
        runner = ApiRunner(create_app(client, settings))
        try:
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            ready.set()
            await stop.wait()
        finally:
            await runner.cleanup()
            await client.close()
            if proxy is not None:
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
        raise RuntimeError(f"live service failed to start: {failure[0]!r}")
    try:
        yield LiveService(f"http://127.0.0.1:{port}", loop, proxy)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()


@contextmanager
def live_service(opensearch_url: str, settings: ServiceSettings) -> Iterator[str]:
    """The service's base URL."""
    with running_service(opensearch_url, settings) as service:
        yield service.base_url
