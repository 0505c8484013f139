"""While shards are unavailable (a node left, replicas recovering) the 503 says so, rather than "overloaded"."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import TransportError

from core.settings import ServiceSettings
from core.templates import IndexNames, apply_templates, delete_all
from service.app import create_app
from service.engine_errors import CLUSTER_NOT_READY_MESSAGE, RECOVERING_MESSAGE, classify
from service.keys import KeyStore
from tests.api_server import ApiTestServer

Api = TestClient[web.Request, web.Application]


@pytest.fixture
async def red_index(client: AsyncOpenSearch) -> AsyncIterator[IndexNames]:
    """A prefix whose read alias covers one index none of whose shards can start (as when the node holding the
    only copy is gone): every search of it fails on every shard."""
    names = IndexNames(prefix=f"test-red-{uuid.uuid4().hex[:10]}")
    await apply_templates(client, names)
    await client.indices.delete(index=names.first_index)
    await client.indices.create(
        index=f"{names.prefix}-000002",
        body={"settings": {"index.routing.allocation.require._name": "no-such-node", "number_of_replicas": 0}},
        wait_for_active_shards=0,
    )
    try:
        yield names
    finally:
        await delete_all(client, names)


async def test_unavailable_shards_are_a_503_that_says_so(client: AsyncOpenSearch, red_index: IndexNames) -> None:
    key, _ = await KeyStore(client, red_index, 0).create("acme")
    settings = ServiceSettings(index_prefix=red_index.prefix, key_cache_seconds=0)
    async with TestClient(ApiTestServer(create_app(client, settings))) as api:
        for path in ("/api/v1/requests", "/api/v1/requests/req-1"):
            response = await api.get(path, headers={"Authorization": key})
            assert response.status == 503, await response.text()
            assert (await response.json()) == {"error": RECOVERING_MESSAGE}
            assert response.headers["Retry-After"] == "1"


# Error answers as OpenSearch 3 gives them (captured from a real node), for the cases a test cannot stage on a
# one-node engine that must keep serving the rest of the suite.
NO_CLUSTER_MANAGER = {
    "error": {
        "root_cause": [
            {"type": "cluster_block_exception", "reason": "blocked by: [SERVICE_UNAVAILABLE/2/no cluster-manager];"}
        ],
        "type": "cluster_block_exception",
        "reason": "blocked by: [SERVICE_UNAVAILABLE/2/no cluster-manager];",
    },
    "status": 503,
}
READ_BLOCKED = {
    "error": {
        "root_cause": [
            {"type": "cluster_block_exception", "reason": "index [x] blocked by: [FORBIDDEN/7/index read (api)];"}
        ],
        "type": "cluster_block_exception",
        "reason": "index [x] blocked by: [FORBIDDEN/7/index read (api)];",
    },
    "status": 403,
}
NO_SHARD = {
    "error": {
        "root_cause": [
            {"type": "no_shard_available_action_exception", "reason": "No shard available for [get [x][1]]"}
        ],
        "type": "no_shard_available_action_exception",
        "reason": "No shard available for [get [x][1]]",
    },
    "status": 503,
}
REJECTED = {
    "error": {
        "root_cause": [{"type": "rejected_execution_exception", "reason": "rejected execution of search"}],
        "type": "rejected_execution_exception",
        "reason": "rejected execution of search",
    },
    "status": 429,
}


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (503, NO_CLUSTER_MANAGER, CLUSTER_NOT_READY_MESSAGE),
        (503, NO_SHARD, RECOVERING_MESSAGE),
        (429, REJECTED, "The search engine is overloaded; try again shortly."),
        (403, READ_BLOCKED, "The search engine failed to answer; try again shortly."),
    ],
)
def test_engine_answers_map_to_what_is_happening(status: int, body: dict[str, object], message: str) -> None:
    error = body["error"]
    assert isinstance(error, dict)
    failure = classify(TransportError(status, error["type"], body))
    assert failure is not None
    assert (failure.answer.status, failure.answer.message) == (503, message)
