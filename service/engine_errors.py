"""What an OpenSearch failure means for the client, and how it is logged.

The engine's trouble is a 503 with `Retry-After`, never a 500, and its message says what is going on (unreachable,
timed out, shards recovering, cluster not ready, overloaded). In the log, failures are grouped by kind (FailureLog):
during an outage every request fails the same way, and a line with a traceback per request (thousands in seconds)
buried everything else without saying more than one line with a count.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from opensearchpy.exceptions import ConnectionError, ConnectionTimeout, NotFoundError, RequestError, TransportError

from service.errors import ApiError

log = logging.getLogger(__name__)
RETRY_AFTER = {"Retry-After": "1"}
UNAVAILABLE_STATUSES = {429, 502, 503, 504}
QUERY_TOO_COMPLEX = frozenset({"too_many_nested_clauses", "too_many_clauses"})
# Copies of some shards are not started: a node left and its replicas are being promoted or rebuilt, or the index
# is still being created. OpenSearch answers 503 with one of these (a search whose every shard failed says
# `search_phase_execution_exception`, often with an empty root cause).
SHARDS_UNAVAILABLE = frozenset(
    {
        "search_phase_execution_exception",
        "no_shard_available_action_exception",
        "unavailable_shards_exception",
        "primary_missing_action_exception",
        "shard_not_found_exception",
    }
)
# The cluster itself cannot serve: no elected cluster manager, or its state not recovered yet after a restart.
CLUSTER_NOT_READY = frozenset(
    {
        "cluster_block_exception",
        "cluster_manager_not_discovered_exception",
        "master_not_discovered_exception",
        "not_cluster_manager_exception",
    }
)
LOG_INTERVAL_SECONDS = 10.0

UNREACHABLE_MESSAGE = "The search engine is unavailable or timed out; try again shortly."
NOT_READY_MESSAGE = "The request index is not ready yet; try again shortly."
RECOVERING_MESSAGE = "Some of the request index's shards are unavailable (recovering); try again shortly."
CLUSTER_NOT_READY_MESSAGE = (
    "The search engine cluster is not ready (no elected cluster manager, or recovering its state); try again shortly."
)
OVERLOADED_MESSAGE = "The search engine is overloaded; try again shortly."
FAILED_MESSAGE = "The search engine failed to answer; try again shortly."


@dataclass(frozen=True)
class EngineFailure:
    """A failed engine call, classified: the answer for the client and the line for the log."""

    answer: ApiError
    kind: str  # what the log groups by
    detail: str  # what the first line of a group says
    level: int = logging.WARNING


def classify(error: Exception) -> EngineFailure | None:
    """What a failed engine call becomes, or None if it is not an engine failure."""
    if isinstance(error, ConnectionTimeout | asyncio.TimeoutError | TimeoutError):
        return EngineFailure(ApiError(503, UNREACHABLE_MESSAGE, RETRY_AFTER), "engine timed out", _cause(error))
    if isinstance(error, ConnectionError):
        return EngineFailure(ApiError(503, UNREACHABLE_MESSAGE, RETRY_AFTER), "engine unreachable", _cause(error))
    if isinstance(error, NotFoundError):
        return EngineFailure(ApiError(503, NOT_READY_MESSAGE, RETRY_AFTER), "request index missing", _reason(error))
    if isinstance(error, RequestError):
        # The builder validates everything it sends, so this is a query the engine finds too costly
        # (e.g. a search expanding to too many clauses): the client can change it.
        message = f"The search engine rejected this query ({_reason(error)}); simplify search or filter."
        return EngineFailure(ApiError(400, message), "engine rejected a query", _reason(error))
    if isinstance(error, TransportError):
        return _classify_answer(error)
    return None


def _classify_answer(error: TransportError) -> EngineFailure:
    """An error answer from the engine, by its status and error types."""
    status = error.status_code if isinstance(error.status_code, int) else None
    kinds = _error_types(error)
    if kinds & QUERY_TOO_COMPLEX:
        # The builder counts clauses before asking (service.search_text); should an estimate ever fall short,
        # a retry would fail the same way, so this is the client's to change, not a 503.
        message = "search: the query expands to more clauses than the engine allows; use fewer terms."
        return EngineFailure(ApiError(400, message), "query too complex for the engine", _reason(error))
    if status == 503 and kinds & CLUSTER_NOT_READY:  # (a 403 block is an index set read-only on purpose)
        return EngineFailure(ApiError(503, CLUSTER_NOT_READY_MESSAGE, RETRY_AFTER), "cluster not ready", _reason(error))
    if status == 503 and kinds & SHARDS_UNAVAILABLE:
        return EngineFailure(ApiError(503, RECOVERING_MESSAGE, RETRY_AFTER), "shards unavailable", _reason(error))
    if status in UNAVAILABLE_STATUSES:
        return EngineFailure(ApiError(503, OVERLOADED_MESSAGE, RETRY_AFTER), f"engine status {status}", _reason(error))
    # Not a known passing condition: logged as an error, with what the engine said.
    detail = f"{error.error}: {str(error.info)[:500]}"
    return EngineFailure(ApiError(503, FAILED_MESSAGE, RETRY_AFTER), f"engine error {status}", detail, logging.ERROR)


def api_error_for(error: Exception) -> ApiError | None:
    """The ApiError a failed engine call becomes, or None if it is not an engine failure (nothing is logged)."""
    failure = classify(error)
    return failure.answer if failure is not None else None


def _error_types(error: TransportError) -> set[str]:
    """The error's type and its root causes' types."""
    info = error.info if isinstance(error.info, dict) else {}
    body = info.get("error")
    kinds = {str(error.error)}
    if isinstance(body, dict):
        kinds.add(str(body.get("type")))
        for cause in body.get("root_cause") or []:
            if isinstance(cause, dict):
                kinds.add(str(cause.get("type")))
    return kinds


def _reason(error: TransportError) -> str:
    info = error.info if isinstance(error.info, dict) else {}
    body = info.get("error")
    if not isinstance(body, dict):
        return str(error.error)[:200]
    root = (body.get("root_cause") or [{}])[0]
    reason = (root.get("reason") if isinstance(root, dict) else None) or body.get("reason") or error.error
    return str(reason)[:200]


def _cause(error: Exception) -> str:
    """`ConnectionRefusedError: ...` rather than opensearch-py's wrapper text."""
    cause = error.info if isinstance(error, TransportError) and isinstance(error.info, BaseException) else error
    text = str(cause) or "no answer within the request timeout"
    return f"{type(cause).__name__}: {text}"[:300]


@dataclass
class _Window:
    started: float
    count: int = 0  # failures after the first, not logged yet
    level: int = logging.WARNING
    timer: asyncio.TimerHandle | None = None


class FailureLog:
    """One log line per kind of failure per interval: the first failure of a kind at once, with its detail; the rest
    counted, and the count logged when the interval ends. While failures go on, one line per interval says how many;
    after a quiet interval the next failure is logged in full again."""

    def __init__(self, logger: logging.Logger, interval: float = LOG_INTERVAL_SECONDS) -> None:
        self.logger = logger
        self.interval = interval
        self._windows: dict[str, _Window] = {}

    def report(self, kind: str, detail: str, level: int = logging.WARNING) -> None:
        now = time.monotonic()
        window = self._windows.get(kind)
        if window is not None and now - window.started >= self.interval:
            self._close(kind)  # its timer did not run (no event loop): sum it up now
            window = self._windows.get(kind)
        if window is None:
            self._windows[kind] = _Window(now)
            self.logger.log(level, "%s: %s", kind, detail)
            return
        window.count += 1
        window.level = max(window.level, level)
        if window.timer is None:
            window.timer = _call_later(window.started + self.interval - now, self._close, kind)

    def flush(self) -> None:
        """Log every pending count now (at shutdown, or for a test)."""
        for kind in list(self._windows):
            self._close(kind, reopen=False)

    def _close(self, kind: str, reopen: bool = True) -> None:
        window = self._windows.pop(kind, None)
        if window is None:
            return
        if window.timer is not None:
            window.timer.cancel()
        if window.count:
            self.logger.log(window.level, "%s: %d more in the last %.0fs", kind, window.count, self.interval)
            if reopen:
                # Still failing: the next interval is counted too, without repeating the detail.
                self._windows[kind] = _Window(time.monotonic())


def _call_later(delay: float, callback: Callable[[str], None], kind: str) -> asyncio.TimerHandle | None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    # In an empty context: the count sums up many requests, so it must not carry the request id of the one that
    # happened to start the interval (service.observability.request_context).
    return loop.call_later(max(0.0, delay), callback, kind, context=contextvars.Context())


ENGINE_FAILURES = FailureLog(log)


def answer_engine_failure(error: Exception) -> ApiError | None:
    """The answer for a failed engine call, logged with the others of its kind; None if it is not one."""
    failure = classify(error)
    if failure is not None:
        ENGINE_FAILURES.report(failure.kind, failure.detail, failure.level)
    return failure.answer if failure is not None else None
