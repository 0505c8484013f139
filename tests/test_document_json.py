"""The hot path of a load or an ingest call writes JSON with orjson where pydantic's own dumps define the result:
the indexed document (`document_json`, defined as `RequestDocument.model_dump_json()`) and the text a record's
version hash is taken of (`core.versioning._canonical`, defined as its `model_dump(mode="json",
exclude_defaults=True)` with sorted keys). Both must give the very same bytes as their definitions, for every
record: a difference in the document would change what the API returns, one in the hash would stop a re-run load
from rewriting the documents it indexed before (core.versioning).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone
from ipaddress import ip_address
from typing import Any

import orjson
import pytest

from core.documents import RawRequest, RequestDocument, document_json, document_values, whole_microseconds
from core.versioning import _canonical
from loaders import synthetic

CREATED = datetime(2026, 2, 1, 12, 30, 5, 123456, tzinfo=UTC)

EDGE_RECORDS: list[dict[str, Any]] = [
    {"id": "bare", "createdAt": "2026-02-01T00:00:00Z"},
    {"id": "naive time", "createdAt": "2026-02-01T10:00:00", "updatedAt": "2026-02-01T10:00:01.5"},
    {
        "id": "offsets",
        "createdAt": datetime(2026, 2, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        "updatedAt": datetime(2026, 2, 1, 1, tzinfo=timezone(timedelta(hours=-8))),
    },
    {
        "id": 'ünïcödé 東京 \u2028 control \x01 \x1f \x7f quote " backslash \\ </script>',
        "createdAt": CREATED,
        "completion": "Grüße 🎉 \n\t\r line \u2029 end",
        "request_body": {"messages": [{"role": "user", "content": "¿qué? 天気 \x00 nul"}], "temperature": 0.7},
        "response_body": {"choices": [{"text": 1e-7}], "big": 2**62, "neg": -0.0, "e": 1e22, "f": 123456.789},
        "metadata": {"env": "prod", "flag": True, "ratio": 0.25, "count": 3},
        "request_headers": {"X-Metadata-Team": "Search", "x-metadata-n": 5, "accept": "*/*"},
    },
    {"id": "ipv6", "createdAt": CREATED, "ip": "2001:DB8:0:0:0:0:0:1", "method": "post", "status": 0},
    {"id": "ipv4", "createdAt": CREATED, "ip": "10.0.0.255", "cost": 0.0, "prompt_tokens": 0, "cached": True},
    {"id": "costs", "createdAt": CREATED, "cost": 1.0000000000000002, "completion_tokens": 2**31 - 1},
    {"id": "body as text", "createdAt": CREATED, "request_body": '{"prompt": "as text"}', "response_body": "[1,2"},
    {"id": "lists", "createdAt": CREATED, "request_body": [1, "two", {"three": [None, False]}], "streamed": True},
]


def _records() -> list[dict[str, Any]]:
    synthetic_records = [json.loads(json.dumps(r, default=str)) for r in synthetic.generate(300, seed=7)]
    return EDGE_RECORDS + synthetic_records


@pytest.mark.parametrize("record", _records(), ids=lambda r: str(r["id"])[:24])
def test_document_json_is_the_models_own_json(record: dict[str, Any]) -> None:
    raw = RawRequest.model_validate(record)
    values = document_values(raw, "tenant-a", cost=0.000125)
    assert document_json(values) == RequestDocument.from_raw(raw, "tenant-a", cost=0.000125).model_dump_json()


@pytest.mark.parametrize("record", _records(), ids=lambda r: str(r["id"])[:24])
def test_canonical_text_is_the_dumped_records(record: dict[str, Any]) -> None:
    raw = RawRequest.model_validate(record)
    reference = orjson.dumps(raw.model_dump(mode="json", exclude_defaults=True), option=orjson.OPT_SORT_KEYS)
    assert _canonical(raw) == reference


def test_integers_orjson_cannot_write_still_give_a_document_and_a_hash() -> None:
    """Past 64 bits orjson refuses; both paths fall back to pydantic or json, which write them (the engine then
    refuses the document for its own reasons, reported like any refusal)."""
    raw = RawRequest.model_validate({"id": "huge", "createdAt": CREATED, "prompt_tokens": 2**70})
    values = document_values(raw, "tenant-a")
    assert document_json(values) == RequestDocument.from_raw(raw, "tenant-a").model_dump_json()
    nested = RawRequest.model_validate({"id": "huge body", "createdAt": CREATED, "request_body": {"n": 2**70}})
    assert json.loads(_canonical(nested)) == nested.model_dump(mode="json", exclude_defaults=True)


def test_a_tenant_that_cannot_be_one_is_refused_without_the_model() -> None:
    raw = RawRequest(id="x", createdAt=CREATED)
    with pytest.raises(ValueError, match="tenant_id"):
        document_values(raw, "has:colon")


@pytest.mark.parametrize(
    ("given", "stored"),
    [("10.1.2.3", "10.1.2.3"), ("2001:DB8::1", "2001:db8::1"), ("2001:db8::0:1", "2001:db8::1")],
)
def test_ip_addresses_are_stored_in_their_canonical_form(given: str, stored: str) -> None:
    assert RawRequest(id="x", createdAt=CREATED, ip=given).ip == stored


@pytest.mark.parametrize("given", ["010.1.2.3", "256.1.2.3", "1.2.3", "1.2.3.4.5", "1.2.3.x"])
def test_ipv4_lookalikes_are_still_refused(given: str) -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        RawRequest(id="x", createdAt=CREATED, ip=given)


def _random_ipv6(generator: random.Random) -> str:
    """Hextets that are often zero (so that runs of zeros of every length and place occur), some in upper case
    or with leading zeros."""
    hextets = [generator.choice([0, 0, 0, 1, 0xFFFF, generator.randrange(0x10000)]) for _ in range(8)]
    spellings = [generator.choice(["{:x}", "{:X}", "{:04x}"]).format(h) for h in hextets]
    return ":".join(spellings)


def test_ipv6_text_is_pythons_for_every_address() -> None:
    generator = random.Random(5)
    addresses = [_random_ipv6(generator) for _ in range(3000)]
    addresses += ["::", "::1", "1::", "::ffff:1.2.3.4", "::1.2.3.4", "fe80::1%eth0", "64:ff9b::1.2.3.4", " ::1"]
    for address in addresses:
        assert RawRequest(id="x", createdAt=CREATED, ip=address).ip == str(ip_address(address.strip())), address


@pytest.mark.parametrize("micros", [0, 1, -1, 999, -999, 1000, -1001, 86_400_000_000 * 400 + 7, -(10**15) - 3])
def test_whole_microseconds_is_the_division(micros: int) -> None:
    delta = timedelta(microseconds=micros)
    assert whole_microseconds(delta) == delta // timedelta(microseconds=1)
    assert whole_microseconds(delta) // 1000 == delta // timedelta(milliseconds=1)
