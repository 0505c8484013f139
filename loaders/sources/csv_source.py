"""CSV with a header row naming the spec's fields; JSON bodies and headers are JSON text in their cells.

CSV has no null, so an empty cell means "not given". Rows may span lines (quoted newlines), so positions are row
numbers (the header is row 0) with the byte offset after the row for resuming.

A cell that begins with `'` followed by `=`, `+`, `-`, `@`, a tab, a carriage return or another `'` loses that
first `'`: it is the spreadsheet-safety prefix `GET /api/v1/export` and `llmsearch export` put before such cells
(service/csv_safe.py), so their CSV files load back to exactly the values exported.
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any, BinaryIO

from loaders.sources.base import RECORD_FIELDS, Position, SourceError, SourceRecord
from loaders.sources.files import PROGRESS_EVERY, FileSource, open_stream, read_lines

REQUIRED_COLUMNS = ("id", "createdAt")
# Cells that hold JSON objects the document model wants as objects (bodies may stay JSON text).
OBJECT_COLUMNS = frozenset({"metadata"})
# The export's spreadsheet-safety prefix, and what it may precede (the inverse of service/csv_safe.py, which this
# package cannot import; tests/test_csv_safe.py checks the pair round-trips).
SAFETY_QUOTE = "'"
_QUOTED_STARTS = frozenset("=+-@\t\r'")


class CsvSource(FileSource):
    kind = "csv"

    def __init__(self, path: Path, max_record_bytes: int) -> None:
        super().__init__(path, max_record_bytes)
        # The csv module refuses fields over its limit (128 KiB by default), which request bodies exceed.
        csv.field_size_limit(min(max_record_bytes, sys.maxsize))
        # Read now: a header the model cannot use stops the load before it touches the index.
        self.columns, self.data_start = self.header()

    def header(self) -> tuple[list[str], int]:
        """The column names and the offset of the first data row; a header the model cannot use is fatal."""
        with open_stream(self.path, None) as (stream, _raw):
            lines = _LineFeed(stream, 0, self.max_record_bytes)
            try:
                names = next(csv.reader(lines), None)
            except csv.Error as error:
                raise SourceError(f"{self.path}: unreadable CSV header: {error}") from error
        if not names:
            raise SourceError(f"{self.path}: empty file, expected a header row")
        names = [name.strip().lstrip("\ufeff") for name in names]
        unknown = [name for name in names if name not in RECORD_FIELDS]
        if unknown:
            raise SourceError(
                f"{self.path}: unknown column(s) {', '.join(map(repr, unknown))}; "
                f"the header must use the spec's field names: {', '.join(sorted(RECORD_FIELDS))}"
            )
        missing = [name for name in REQUIRED_COLUMNS if name not in names]
        if missing:
            raise SourceError(f"{self.path}: the header has no {', '.join(missing)} column")
        if len(set(names)) != len(names):
            raise SourceError(f"{self.path}: the header names a column twice")
        return names, lines.offset

    def records(self, resume_after: Position | None) -> Generator[SourceRecord, None, None]:
        names, data_start = self.columns, self.data_start
        row_number = int(resume_after.value) if resume_after else 0
        start = (resume_after.offset or data_start) if resume_after else data_start
        with open_stream(self.path, start) as (stream, raw):
            self._consumed = raw.tell()
            lines = _LineFeed(stream, start, self.max_record_bytes)
            reader = csv.reader(lines)
            while True:
                row_start = lines.offset
                try:
                    row = next(reader, None)
                except csv.Error as error:
                    row_number += 1
                    lines.not_utf8 = lines.oversized = False
                    yield SourceRecord(Position("row", row_number, lines.offset), error=f"malformed CSV: {error}")
                    continue
                except (OSError, EOFError, gzip.BadGzipFile) as error:
                    yield SourceRecord(Position("row", row_number + 1), error=f"unreadable from here on: {error}")
                    return
                if row is None:
                    self._consumed = raw.tell()
                    return
                row_number += 1
                if row_number % PROGRESS_EVERY == 0:
                    self._consumed = raw.tell()
                position = Position("row", row_number, lines.offset)
                if lines.not_utf8:
                    lines.not_utf8 = False
                    yield SourceRecord(position, error="not UTF-8", raw=row)
                elif lines.oversized or lines.offset - row_start > self.max_record_bytes:
                    lines.oversized = False
                    yield SourceRecord(
                        position,
                        error=f"row is {lines.offset - row_start} bytes, over the limit of {self.max_record_bytes}",
                    )
                elif not any(cell.strip() for cell in row):
                    continue  # a blank line is not a record
                else:
                    yield row_record(position, names, row)


def row_record(position: Position, names: list[str], row: list[str]) -> SourceRecord:
    if len(row) != len(names):
        return SourceRecord(position, error=f"row has {len(row)} fields, the header has {len(names)}", raw=row)
    data: dict[str, Any] = {}
    for name, text in zip(names, row, strict=True):
        if text == "":
            continue
        cell = without_safety_quote(text)
        if name in OBJECT_COLUMNS:
            try:
                data[name] = json.loads(cell)
            except (ValueError, RecursionError) as error:
                return SourceRecord(
                    position, error=f"{name}: malformed JSON: {error}", raw=dict(zip(names, row, strict=True))
                )
        else:
            data[name] = cell
    return SourceRecord(position, data=data, raw=dict(zip(names, row, strict=True)))


def without_safety_quote(cell: str) -> str:
    """`cell` without the export's spreadsheet-safety prefix, if it has one."""
    return cell[1:] if cell[:1] == SAFETY_QUOTE and cell[1:2] in _QUOTED_STARTS else cell


class _LineFeed:
    """Decoded lines for csv.reader over read_lines, with the byte offset consumed (the reader pulls exactly one
    row's lines).

    Undecodable bytes and over-long lines are noted rather than raised, so the row they fall in is rejected and
    the run goes on.
    """

    def __init__(self, stream: BinaryIO, offset: int, limit: int) -> None:
        self._lines = read_lines(stream, offset, limit)
        self.offset = offset
        self.not_utf8 = False
        self.oversized = False

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        line, _length, self.offset = next(self._lines)
        if line is None:
            self.oversized = True
            return "\n"
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            self.not_utf8 = True
            return line.decode("utf-8", errors="replace")
