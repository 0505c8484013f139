"""The client: HTTP calls to the service's API with aiohttp, ingest batching and retries."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote

import aiohttp

from client.results import IngestResults, RecordResult

# What a batch may hold: under the service's default limits (10,000 records, 10 MB decoded per call).
BATCH_RECORDS = 1000
BATCH_BYTES = 5 * 1024 * 1024
RETRY_STATUSES = frozenset({429, 502, 503, 504})


class ServiceError(Exception):
    """The service answered an error (its `error` text), or could not be reached after the retries."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(f"{status}: {message}" if status else message)
        self.status = status
        self.message = message


class AsyncClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 60.0,
        max_retries: int = 6,
        backoff: float = 0.5,
        max_backoff: float = 10.0,
        batch_records: int = BATCH_RECORDS,
        batch_bytes: int = BATCH_BYTES,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.batch_records = batch_records
        self.batch_bytes = batch_bytes
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        return self._session

    async def search(self, **params: Any) -> dict[str, Any]:
        """`GET /api/v1/requests` with these parameters (a dict `filter` is sent as JSON)."""
        return await self._get("/api/v1/requests", params)

    async def analytics(self, **params: Any) -> dict[str, Any]:
        """`GET /api/v1/analytics`; `from_` may stand for `from`, and lists (`groupBy`, `metrics`) are joined."""
        if "from_" in params:
            params["from"] = params.pop("from_")
        return await self._get("/api/v1/analytics", params)

    async def get(self, request_id: str, **params: Any) -> dict[str, Any]:
        """`GET /api/v1/requests/{id}`."""
        return await self._get(f"/api/v1/requests/{quote(request_id, safe='')}", params)

    async def _get(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        query = {name: _param(value) for name, value in params.items() if value is not None}
        async with self._http().get(self.base_url + path, params=query) as response:
            body: dict[str, Any] = await response.json(content_type=None)
            if response.status != 200:
                raise ServiceError(response.status, str(body.get("error", body)))
            return body

    async def ingest(self, records: Iterable[Mapping[str, Any]], *, refresh: bool = False) -> IngestResults:
        """Send `records` in batches and return one result per record, in order. A record is `ok` only when the
        service acknowledged it; what the engine was too busy for, or what failed to arrive (a restart, a cut
        connection), is sent again with backoff, which is always safe: an id is stored once, newest version kept."""
        results = IngestResults()
        batch: list[tuple[int, bytes]] = []
        size = 0
        for index, record in enumerate(records):
            encoded = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
            if batch and (len(batch) >= self.batch_records or size + len(encoded) > self.batch_bytes):
                results.records.extend(await self._send(batch, refresh))
                batch, size = [], 0
            batch.append((index, encoded))
            size += len(encoded) + 1
        if batch:
            results.records.extend(await self._send(batch, refresh))
        return results

    async def _send(self, batch: list[tuple[int, bytes]], refresh: bool) -> list[RecordResult]:
        """One batch until every record is acknowledged or refused, or the retries run out."""
        done: dict[int, RecordResult] = {}
        pending = batch
        for attempt in range(self.max_retries + 1):
            try:
                status, answer, retry_after = await self._post(pending, refresh)
            except (TimeoutError, aiohttp.ClientError, OSError) as error:
                status, answer, retry_after = None, {"error": f"no answer: {error!r}"}, None
            if status is not None and status not in RETRY_STATUSES and status >= 400 and status != 429:
                # The call itself was refused (400, 401, 403, 413): nothing was stored, and sending it again won't help.
                message = str(answer.get("error", answer))
                done.update({i: RecordResult(i, _id(body), False, message) for i, body in pending})
                return [done[i] for i, _ in batch]
            retry = self._account(pending, status, answer, done)
            if not retry:
                return [done[i] for i, _ in batch]
            pending = retry
            if attempt < self.max_retries:
                await asyncio.sleep(min(self.max_backoff, max(retry_after or 0, self.backoff * 2**attempt)))
        message = str(answer.get("error", "gave up after retries"))
        done.update({i: RecordResult(i, _id(body), False, f"not acknowledged: {message}") for i, body in pending})
        return [done[i] for i, _ in batch]

    @staticmethod
    def _account(
        pending: list[tuple[int, bytes]], status: int | None, answer: dict[str, Any], done: dict[int, RecordResult]
    ) -> list[tuple[int, bytes]]:
        """Record what the answer settles; return what must be sent again."""
        if status is None or (status in RETRY_STATUSES and "errors" not in answer):
            return pending  # nothing is known to be stored: send the whole batch again
        errors = {error["index"]: error for error in answer.get("errors", [])}
        retry = []
        for position, (i, body) in enumerate(pending):
            error = errors.get(position)
            if error is None:
                done[i] = RecordResult(i, _id(body), True)
            elif error.get("retryable"):
                retry.append((i, body))
            else:
                done[i] = RecordResult(i, _id(body), False, str(error["error"]))
        return retry

    async def _post(self, pending: list[tuple[int, bytes]], refresh: bool) -> tuple[int, dict[str, Any], float | None]:
        body = gzip.compress(b"\n".join(encoded for _, encoded in pending), compresslevel=5)
        headers = {"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}
        params = {"refresh": "wait_for"} if refresh else {}
        async with self._http().post(
            f"{self.base_url}/api/v1/ingest", data=body, headers=headers, params=params
        ) as response:
            answer: dict[str, Any] = await response.json(content_type=None)
            retry_after = response.headers.get("Retry-After")
            return response.status, answer, float(retry_after) if retry_after else None


class Client:
    """The same calls, for code without an event loop: each runs one on its own."""

    def __init__(self, base_url: str, api_key: str, **options: Any) -> None:
        self._args = (base_url, api_key)
        self._options = options

    def _run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        async def call() -> Any:
            async with AsyncClient(*self._args, **self._options) as client:
                return await getattr(client, method)(*args, **kwargs)

        return asyncio.run(call())

    def ingest(self, records: Iterable[Mapping[str, Any]], *, refresh: bool = False) -> IngestResults:
        results: IngestResults = self._run("ingest", records, refresh=refresh)
        return results

    def search(self, **params: Any) -> dict[str, Any]:
        page: dict[str, Any] = self._run("search", **params)
        return page

    def analytics(self, **params: Any) -> dict[str, Any]:
        chart: dict[str, Any] = self._run("analytics", **params)
        return chart

    def get(self, request_id: str, **params: Any) -> dict[str, Any]:
        found: dict[str, Any] = self._run("get", request_id, **params)
        return found


def _param(value: Any) -> str:
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _id(encoded: bytes) -> str | None:
    try:
        value = json.loads(encoded).get("id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None
