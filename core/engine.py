"""The OpenSearch client, built from settings. Which URL it talks to is the caller's business (see cli/engine_url.py).

The URL may name several hosts, comma-separated (`http://a:9200,http://b:9200`): any node of a cluster answers any
request, so the client spreads calls over them and, when one fails to connect, drops its connection or times out,
sends the call again to another host. Every call we make may be repeated safely: reads (a point in time opened
twice leaves a spare that expires), and writes with a fixed `_id` (and an external version, for documents:
core.versioning). A failed host sits out `DEAD_HOST_SECONDS`, doubling
while it keeps failing, so a dead node costs one failed attempt now and then, not one per request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import orjson
from opensearchpy import AsyncOpenSearch, AsyncTransport
from opensearchpy.exceptions import ConnectionError, ConnectionTimeout, TransportError
from opensearchpy.serializer import JSONSerializer

from core.settings import OpenSearchSettings, ServiceSettings, split_hosts

# What our writers read of each document in a bulk answer (its `filter_path`): asked for alone, the engine leaves
# the rest of each item (`_index`, `_version`, `_shards`, `_seq_no`...) unwritten and the client leaves it unparsed,
# about a tenth of the service's CPU for an ingest call (profiled with py-spy). Live ingest reads each document's
# outcome, in the order sent; the loaders match results to records by `_id` and count created against updated.
BULK_OUTCOME_FIELDS = "items.*.status,items.*.error"
BULK_ITEM_FIELDS = f"items.*._id,items.*.result,{BULK_OUTCOME_FIELDS}"

# How long a host that failed is left out before it is tried again (doubling, up to 32 times, while it keeps failing).
DEAD_HOST_SECONDS = 5.0


class FastJSONSerializer(JSONSerializer):
    """orjson for the engine's answers and our bodies: parsing a page of hits is the service's largest CPU cost
    per request (measured with cProfile), and orjson does it several times faster than the json module."""

    def loads(self, s: str) -> Any:
        return orjson.loads(s)

    def dumps(self, data: Any) -> Any:
        if isinstance(data, str | bytes):
            return data
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            return super().dumps(data)  # types orjson does not know (numpy, pandas, ...)


class _QuietRequestFailures(logging.Filter):
    """Drops opensearch-py's own warning per failed request, with its traceback: every caller handles and reports
    the failure itself (the service once per kind per interval, loaders per retry), and during an outage those
    lines were nearly all of the log. The pool's line when it puts a host aside stays."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != REQUEST_FAILED_FORMAT


# Calls that only read, by the last segment of their path (besides every GET and HEAD).
READ_ENDPOINTS = frozenset({"_search", "_count", "_msearch", "_mget"})


class EngineCallObserver(Protocol):
    """Told about every engine call a client makes (its metrics, for the service): which kind of endpoint, how long
    it took with every retry on another host, and how it failed (None when it did not; `error_kind`)."""

    def __call__(self, endpoint: str, seconds: float, error: str | None) -> None: ...


# The kind of endpoint a call is, by the last segment of its path: a handful of values, so that a metric labelled
# with it stays small whatever the paths hold (index names, document ids).
ENDPOINT_KINDS = {
    "_search": "search",
    "_msearch": "search",
    "_count": "count",
    "_bulk": "bulk",
    "_mget": "get",
    "point_in_time": "point_in_time",
}


def endpoint_kind(url: str) -> str:
    path = url.partition("?")[0].rstrip("/")
    kind = ENDPOINT_KINDS.get(path.rsplit("/", 1)[-1])
    if kind is not None:
        return kind
    return "get" if "/_doc/" in path else "other"


def error_kind(error: Exception) -> str:
    """`timeout`, `connection`, `status_<code>` (the engine answered an error status; a 404 is also what looking up
    an id that does not exist, such as an unknown API key, answers) or `other`."""
    if isinstance(error, ConnectionTimeout):
        return "timeout"
    if isinstance(error, ConnectionError):
        return "connection"
    if isinstance(error, TransportError) and isinstance(error.status_code, int):
        return f"status_{error.status_code}"
    return "other"


class _Transport(AsyncTransport):
    """opensearch-py's transport, plus: writes and index administration may get a longer default timeout than
    reads (`write_timeout`), hosts set aside as dead are closed too, and observers see every call (its kind of
    endpoint, duration and failure)."""

    def __init__(self, hosts: Any, *, write_timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(hosts, **kwargs)
        self.write_timeout = write_timeout
        self.observers: tuple[EngineCallObserver, ...] = ()

    async def perform_request(
        self,
        method: str,
        url: str,
        params: Any = None,
        body: Any = None,
        timeout: float | None = None,
        ignore: Any = (),
        headers: Any = None,
    ) -> Any:
        asked = timeout is not None or (params is not None and "request_timeout" in params)
        if not asked and self.write_timeout is not None and not is_read(method, url):
            timeout = self.write_timeout
        if not self.observers:
            return await super().perform_request(method, url, params, body, timeout, ignore, headers)
        started = time.perf_counter()
        try:
            result = await super().perform_request(method, url, params, body, timeout, ignore, headers)
        except Exception as error:
            self._tell(url, time.perf_counter() - started, error_kind(error))
            raise
        self._tell(url, time.perf_counter() - started, None)
        return result

    def _tell(self, url: str, seconds: float, error: str | None) -> None:
        endpoint = endpoint_kind(url)
        for observer in self.observers:
            observer(endpoint, seconds, error)

    async def close(self) -> None:
        """Close the connections of hosts set aside as dead too: opensearch-py closes only the live ones, and a
        dead host's session would be left open."""
        await super().close()
        for connection in getattr(self.connection_pool, "orig_connections", ()):
            await connection.close()


def observe_engine_calls(client: AsyncOpenSearch, observer: EngineCallObserver) -> Callable[[], None]:
    """Have `observer` told about every call `client` (made by `make_client`) makes; returns what stops it."""
    transport = client.transport
    if not isinstance(transport, _Transport):
        raise TypeError("the client was not made by core.engine.make_client: its calls cannot be observed")
    transport.observers = (*transport.observers, observer)

    def stop() -> None:
        transport.observers = tuple(o for o in transport.observers if o is not observer)

    return stop


def is_read(method: str, url: str) -> bool:
    return method in ("GET", "HEAD") or url.rstrip("/").rsplit("/", 1)[-1] in READ_ENDPOINTS


REQUEST_FAILED_FORMAT = "%s %s [status:%s request:%.3fs]"  # opensearchpy.connection.base.Connection.log_request_fail
_QUIET = _QuietRequestFailures()


def make_client(
    url: str, settings: OpenSearchSettings, *, timeout: float | None = None, write_timeout: float | None = None
) -> AsyncOpenSearch:
    """A client for the host(s) in `url`; `timeout` (default: the settings') bounds one attempt on one host, and
    `write_timeout`, when given, that of calls that do not only read (index creation, writes, settings).

    A call is tried on each host at most once (retries = hosts - 1), so it fails after at most hosts x timeout, and
    a single host keeps the old behaviour of failing at once: the API answers 503 fast, loaders retry with backoff.
    """
    hosts = split_hosts(url)
    logging.getLogger("opensearch").addFilter(_QUIET)  # once: a logger keeps a filter object only once
    auth = (settings.user, settings.password or "") if settings.user else None
    return AsyncOpenSearch(
        hosts=hosts,
        transport_class=_Transport,
        http_auth=auth,
        verify_certs=settings.verify_certs,
        timeout=timeout if timeout is not None else settings.timeout_seconds,
        max_retries=len(hosts) - 1,
        # A hung node (stopped, swapping, partitioned) accepts connections and never answers: only a timeout shows
        # it, so with another host to go to, a timeout moves on like a refused connection does.
        retry_on_timeout=len(hosts) > 1,
        dead_timeout=DEAD_HOST_SECONDS,
        write_timeout=write_timeout,
        pool_maxsize=settings.max_connections,
        http_compress=False,
        serializer=FastJSONSerializer(),
    )


def make_service_client(url: str, settings: OpenSearchSettings, service: ServiceSettings) -> AsyncOpenSearch:
    """The HTTP service's client: its reads (searches, counts, gets) default to the short `query_timeout_seconds`, so
    a hung engine is a 503 within about that long; what it writes or creates now and then (the templates at start,
    the cursor secret once, key records) keeps the commands' `timeout_seconds`, since creating an index can take
    seconds on a busy cluster; the export passes its own timeout."""
    return make_client(url, settings, timeout=service.query_timeout_seconds, write_timeout=settings.timeout_seconds)
