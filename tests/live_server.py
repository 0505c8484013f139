"""The real service on a real port, in a thread with its own event loop: for clients that block (schemathesis)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web

from core.engine import make_client
from core.settings import OpenSearchSettings, ServiceSettings
from service.app import create_app
from service.server import ApiRunner


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def live_service(opensearch_url: str, settings: ServiceSettings) -> Iterator[str]:
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()
    failure: list[BaseException] = []

    async def serve() -> None:
        client = make_client(opensearch_url, OpenSearchSettings(url=opensearch_url))
        runner = ApiRunner(create_app(client, settings))
        try:
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            ready.set()
            await stop.wait()
        finally:
            await runner.cleanup()
            await client.close()

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
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()
