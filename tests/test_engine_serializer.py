"""The client's JSON serializer: orjson for speed, the library's own encoder for types orjson does not know."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from opensearchpy import AsyncOpenSearch

from core.engine import FastJSONSerializer
from core.templates import IndexNames


def test_round_trip_and_fallbacks() -> None:
    serializer = FastJSONSerializer()
    data = {"text": "東京 ☃", "n": 1, "f": 0.5, "when": datetime(2026, 1, 2, tzinfo=UTC), "id": uuid.UUID(int=1)}
    encoded = serializer.dumps(data)
    assert isinstance(encoded, str)
    assert json.loads(encoded) == {
        "text": "東京 ☃",
        "n": 1,
        "f": 0.5,
        "when": "2026-01-02T00:00:00+00:00",
        "id": "00000000-0000-0000-0000-000000000001",
    }
    assert json.loads(serializer.dumps({"cost": Decimal("1.25"), 3: "int key"})) == {"cost": 1.25, "3": "int key"}
    assert serializer.dumps('{"already": "text"}') == '{"already": "text"}'
    assert serializer.loads('{"a": [1, 2.5, null, "é"]}') == {"a": [1, 2.5, None, "é"]}


async def test_the_client_uses_it_against_the_engine(client: AsyncOpenSearch, index_names: IndexNames) -> None:
    assert isinstance(client.transport.serializer, FastJSONSerializer)
    found = await client.search(index=index_names.read_alias, body={"query": {"match_all": {}}, "size": 1})
    assert found["hits"]["total"]["value"] >= 0
