"""Log lines: one JSON object each (the default, for log collectors) or text for a person at a terminal.

Every line has `time` (ISO 8601, UTC), `level`, `logger` and `message`, and, when it was logged while serving a
request, that request's `request_id` (service.observability.request_context). Structured fields a line carries
(`extra={"fields": {...}}`, as the access log does) become keys of their own; a traceback is the `exc_info` string.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from functools import lru_cache
from typing import Any, Literal, TextIO

import orjson

from service.observability.request_context import current_request

LogFormat = Literal["json", "text"]
FIELDS = "fields"  # the `extra` key whose dict of structured fields a line carries


@lru_cache(maxsize=2)
def _utc_second(second: int) -> str:
    """Formatted once per second: lines come many to a second."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def _utc_time(record: logging.LogRecord) -> str:
    return f"{_utc_second(int(record.created))}.{int(record.msecs):03d}Z"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The line's structured fields, with the current request's id unless they name one."""
    fields: dict[str, Any] = getattr(record, FIELDS, None) or {}
    if "request_id" not in fields:
        facts = current_request()
        if facts is not None:
            return {"request_id": facts.request_id, **fields}
    return fields


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _utc_time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        # default=str: a field of a type JSON lacks is written as its text rather than losing the line.
        try:
            return orjson.dumps(entry, default=str).decode()
        except orjson.JSONEncodeError:
            # Text orjson refuses (a lone surrogate, which a client's bytes can become): the json module escapes it.
            return json.dumps(entry, default=str, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """`<time> <level> <logger>: <message> key=value ...`."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_utc_time(record)} {record.levelname} {record.name}: {record.getMessage()}"
        fields = _fields(record)
        if fields:
            line += " " + " ".join(f"{name}={value}" for name, value in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def log_handler(log_format: LogFormat, stream: TextIO | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    return handler


def configure_logging(log_format: LogFormat) -> None:
    """The process's logging: INFO and up, to stderr, in `log_format` (replacing any earlier set-up)."""
    logging.basicConfig(level=logging.INFO, handlers=[log_handler(log_format)], force=True)
