"""A loopback TCP proxy in front of the real engine, so tests can cut the engine off and bring it back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0
        self.hang = False  # accept connections but never answer: an engine that stopped responding
        self.refuse = False  # accept connections and close them at once: an engine that is down
        self.reply: bytes | None = None  # answer each request with this HTTP status instead of passing it on
        self.replied: list[int] = []
        self.bytes_from_target = 0  # what the engine sent back: shows whether a call fetched documents

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and cut every open connection, as an engine that went away would."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def cut(self) -> None:
        """Close every open connection (the listener stays), so the next call opens one under the current mode."""
        current = asyncio.current_task()
        tasks = [task for task in self._tasks if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if self.refuse:
            writer.close()
            return
        if self.reply is not None:
            await self._answer(reader, writer, int(self.reply))
            return
        self._tasks.add(task)  # type: ignore[arg-type]
        if self.hang:
            try:
                await reader.read()  # hold the connection open, answer nothing, until the client gives up
            finally:
                writer.close()
                self._tasks.discard(task)  # type: ignore[arg-type]
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer, self._count))
        finally:
            for w in (writer, up_writer):
                w.close()
            self._tasks.discard(task)  # type: ignore[arg-type]

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, status: int) -> None:
        """Read one request and answer `status` with an engine-like error body, then close (as a node that rejects
        work does, e.g. 429 when its write queue is full)."""
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            await reader.readexactly(length)
            body = (
                b'{"error":{"root_cause":[{"type":"es_rejected_execution_exception","reason":"injected"}],'
                b'"type":"es_rejected_execution_exception","reason":"injected"},"status":' + str(status).encode() + b"}"
            )
            writer.write(
                b"HTTP/1.1 " + str(status).encode() + b" Injected\r\ncontent-type: application/json\r\n"
                b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
            )
            await writer.drain()
            self.replied.append(status)
        writer.close()

    def _count(self, size: int) -> None:
        self.bytes_from_target += size


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: Callable[[int], None] | None = None
) -> None:
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        while data := await reader.read(65536):
            if count is not None:
                count(len(data))
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(Exception):
        writer.close()
