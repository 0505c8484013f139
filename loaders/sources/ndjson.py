"""NDJSON / JSONL, plain or gzip: one request object per line, field names as in the spec."""

from __future__ import annotations

import gzip
import json
from collections.abc import Generator

from loaders.sources.base import Position, SourceRecord
from loaders.sources.files import PROGRESS_EVERY, FileSource, open_stream, read_lines


class NdjsonSource(FileSource):
    kind = "ndjson"

    def records(self, resume_after: Position | None) -> Generator[SourceRecord, None, None]:
        line_number = int(resume_after.value) if resume_after else 0
        start = (resume_after.offset or 0) if resume_after else 0
        with open_stream(self.path, start) as (stream, raw):
            self._consumed = raw.tell()
            lines = read_lines(stream, start, self.max_record_bytes)
            while True:
                try:
                    item = next(lines, None)
                except (OSError, EOFError, gzip.BadGzipFile) as error:
                    # A truncated or corrupt .gz: what came before is loaded, the rest is unreadable.
                    position = Position("line", line_number + 1, None)
                    yield SourceRecord(position, error=f"unreadable from here on: {error}")
                    return
                if item is None:
                    self._consumed = raw.tell()
                    return
                line, length, offset = item
                line_number += 1
                if line_number % PROGRESS_EVERY == 0:
                    self._consumed = raw.tell()
                position = Position("line", line_number, offset)
                if line is None:
                    yield SourceRecord(
                        position, error=f"line is {length} bytes, over the limit of {self.max_record_bytes}"
                    )
                    continue
                if not line.strip():
                    continue  # blank lines separate nothing and are not records
                yield parse_line(position, line)


def parse_line(position: Position, line: bytes) -> SourceRecord:
    line = line.rstrip(b"\r\n")
    try:
        data = json.loads(line)
    except UnicodeDecodeError as error:
        return SourceRecord(position, error=f"not UTF-8: {error.reason} at byte {error.start}", raw=line)
    except ValueError as error:
        return SourceRecord(position, error=f"malformed JSON: {error}", raw=line)
    except RecursionError:
        return SourceRecord(position, error="malformed JSON: nested too deeply", raw=line)
    if not isinstance(data, dict):
        return SourceRecord(position, error=f"a line must be a JSON object, not {type(data).__name__}", raw=line)
    return SourceRecord(position, data=data, raw=line)
