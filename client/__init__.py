"""A small client for llm-request-search: log requests live (`ingest`), search them and chart them.

    from client import AsyncClient
    async with AsyncClient("http://127.0.0.1:8080", api_key) as search_service:
        results = await search_service.ingest(records)      # batched, gzipped, retried; one result per record
        page = await search_service.search(search="refund", pageSize=20)
        chart = await search_service.analytics(groupBy="model", interval="hour")

`Client` offers the same calls without asyncio. It depends on aiohttp only, and on nothing else of this project.
"""

from client.api import AsyncClient, Client, ServiceError
from client.results import IngestResults, RecordResult

__all__ = ["AsyncClient", "Client", "IngestResults", "RecordResult", "ServiceError"]
