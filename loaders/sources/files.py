"""What the file sources share: opening plain or gzip files, identifying them, and reading lines within a limit."""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from loaders.sources.base import Position, SourceError, SourceSize

GZIP_MAGIC = b"\x1f\x8b"
# Enough of the head to tell two files apart without reading a large one through.
FINGERPRINT_BYTES = 64 * 1024
READ_BUFFER = 1024 * 1024
# How often (in lines or rows) a file source publishes its position for the progress display.
PROGRESS_EVERY = 256


def is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def fingerprint(path: Path) -> str:
    """Path plus a hash of the head: a log that grew since the crash still resumes, a replaced file does not."""
    with path.open("rb") as handle:
        head = handle.read(FINGERPRINT_BYTES)
    return f"{path.resolve()}#sha256:{hashlib.sha256(head).hexdigest()[:16]}"


def require_file(path: Path) -> Path:
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    return path


class FileSource:
    """The identity, name and progress of a source read from one file; subclasses add `kind` and `records`."""

    kind = "file"

    def __init__(self, path: Path, max_record_bytes: int) -> None:
        self.path = require_file(path)
        self.max_record_bytes = max_record_bytes
        self._identity = f"{self.kind}:{fingerprint(path)}"
        self._consumed = 0

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def consumed(self) -> int:
        return self._consumed

    def size(self, resume_after: Position | None) -> SourceSize | None:
        # Progress counts bytes of the file on disk (compressed for .gz), read from the start even on resume.
        return SourceSize(total=self.path.stat().st_size, unit="bytes")


@contextmanager
def open_stream(path: Path, offset: int | None) -> Iterator[tuple[BinaryIO, BinaryIO]]:
    """The decompressed stream positioned at `offset`, and the file underneath it (whose position is progress).

    Plain files seek; gzip streams cannot, so they decompress up to the offset and discard it.
    """
    try:
        raw = path.open("rb", buffering=READ_BUFFER)
    except OSError as error:
        raise SourceError(f"{path}: {error.strerror or error}") from error
    try:
        stream: BinaryIO = raw
        if raw.read(2) == GZIP_MAGIC:
            raw.seek(0)
            stream = io.BufferedReader(gzip.GzipFile(fileobj=raw, mode="rb"), buffer_size=READ_BUFFER)
        else:
            raw.seek(0)
        try:
            if offset:
                stream.seek(offset)
        except (OSError, EOFError) as error:
            raise SourceError(f"{path}: cannot reach the checkpoint's offset {offset}: {error}") from error
        yield stream, raw
    finally:
        raw.close()


def read_lines(stream: BinaryIO, start_offset: int, limit: int) -> Iterator[tuple[bytes | None, int, int]]:
    """(line, line length, offset after it) for each line; `None` for a line longer than `limit`.

    A line over the limit is skipped through in pieces, never held whole, so one runaway line cannot exhaust
    memory.
    """
    offset = start_offset
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            length = len(line)
            while True:
                piece = stream.readline(READ_BUFFER)
                length += len(piece)
                if not piece or piece.endswith(b"\n"):
                    break
            offset += length
            yield None, length, offset
            continue
        offset += len(line)
        yield line, len(line), offset
