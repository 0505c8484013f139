"""The OpenSearch client, built from settings. Which URL it talks to is the caller's business (see cli/engine_url.py)."""

from __future__ import annotations

from typing import Any

import orjson
from opensearchpy import AsyncOpenSearch
from opensearchpy.serializer import JSONSerializer

from core.settings import OpenSearchSettings


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


def make_client(url: str, settings: OpenSearchSettings) -> AsyncOpenSearch:
    auth = (settings.user, settings.password or "") if settings.user else None
    return AsyncOpenSearch(
        hosts=[url],
        http_auth=auth,
        verify_certs=settings.verify_certs,
        timeout=settings.timeout_seconds,
        max_retries=0,  # the caller decides: the API answers 503 fast, loaders retry with backoff
        retry_on_timeout=False,
        pool_maxsize=settings.max_connections,
        http_compress=False,
        serializer=FastJSONSerializer(),
    )
