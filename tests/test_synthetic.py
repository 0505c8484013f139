"""The synthetic generator: deterministic, resumable, valid records, and the mix it promises."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from core.documents import RawRequest, RequestDocument
from core.pricing import PricingTable
from loaders.synthetic import (
    CJK_WORD,
    CJK_WORD_FREQUENCY,
    COMMON_WORD,
    COMMON_WORD_FREQUENCY,
    RARE_PHRASE,
    REFERENCE_TIME,
    WINDOW_DAYS,
    generate,
)
from loaders.synthetic.banks import load_banks
from loaders.synthetic.datafiles import Table
from loaders.synthetic.slots import check_slots
from loaders.synthetic.templates import Template

SAMPLE = 20_000
TEXT_FIELDS = ("request_body", "completion", "response_body", "streamed_response_body")
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return list(generate(SAMPLE))


@pytest.fixture(scope="module")
def texts(records: list[dict[str, Any]]) -> list[str]:
    """Each record's searchable text, as the frequency constants count it."""
    return ["\n".join(record[name] for name in TEXT_FIELDS if record[name]) for record in records]


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags)


def _digest(records: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(records, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# -- determinism -----------------------------------------------------------------------------------------------


def test_same_seed_same_records() -> None:
    assert list(generate(500, seed=7)) == list(generate(500, seed=7))


def test_different_seeds_differ() -> None:
    first, second = list(generate(200, seed=1)), list(generate(200, seed=2))
    assert [r["request_body"] for r in first] != [r["request_body"] for r in second]
    assert {r["id"] for r in first}.isdisjoint(r["id"] for r in second)


def test_start_skips_ahead_like_slicing() -> None:
    assert list(generate(1_000, seed=3, start=700)) == list(generate(1_000, seed=3))[700:]


def test_a_record_depends_only_on_seed_and_number() -> None:
    assert list(generate(300, seed=5)) == list(generate(1_500, seed=5))[:300]
    assert list(generate(10, start=20)) == []


def test_negative_arguments_are_rejected() -> None:
    with pytest.raises(ValueError):
        list(generate(10, start=-1))


def test_output_does_not_depend_on_string_hashing() -> None:
    """Another process with another PYTHONHASHSEED must produce the same bytes."""
    script = (
        "import hashlib, json\nfrom loaders.synthetic import generate\n"
        "print(hashlib.sha256(json.dumps(list(generate(300, seed=11)), sort_keys=True, ensure_ascii=False)"
        ".encode()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == _digest(list(generate(300, seed=11)))


# -- validity --------------------------------------------------------------------------------------------------


def test_ids_are_unique(records: list[dict[str, Any]]) -> None:
    assert len({record["id"] for record in records}) == SAMPLE


def test_every_record_becomes_a_document(records: list[dict[str, Any]]) -> None:
    pricing = PricingTable.default()
    for record in records:
        raw = RawRequest.model_validate(record)
        cost = pricing.price(raw.model, raw.prompt_tokens, raw.completion_tokens)
        document = RequestDocument.from_raw(raw, tenant_id="tenant-a", cost=cost)
        assert document.id == record["id"]
        assert raw.request_body is None or document.prompt or raw.url == "/v1/models"


def test_bodies_are_json_text(records: list[dict[str, Any]]) -> None:
    for record in records:
        for name in ("request_body", "response_body"):
            if record[name] is not None:
                json.loads(record[name])


def test_timestamps_fall_in_the_window(records: list[dict[str, Any]]) -> None:
    earliest = REFERENCE_TIME - timedelta(days=WINDOW_DAYS + 1)
    for record in records:
        created = datetime.fromisoformat(record["createdAt"])
        updated = datetime.fromisoformat(record["updatedAt"])
        assert earliest <= created < REFERENCE_TIME
        assert updated >= created


def test_streams_reassemble_to_the_completion(records: list[dict[str, Any]]) -> None:
    streamed = [record for record in records if record["streamed"]]
    assert streamed
    for record in streamed[:500]:
        assert _reassemble(record["streamed_response_body"]) == record["completion"]


def _reassemble(body: str) -> str:
    text = ""
    for line in body.splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        event = json.loads(line.removeprefix("data: "))
        if event.get("type") == "response.output_text.delta":
            text += event["delta"]
        elif "choices" in event:
            choice = event["choices"][0]
            text += choice["delta"].get("content", "") if "delta" in choice else choice["text"]
    return text


# -- the promised mix ------------------------------------------------------------------------------------------


def test_endpoints_and_body_shapes(records: list[dict[str, Any]]) -> None:
    urls = Counter(record["url"] for record in records)
    assert urls["/v1/chat/completions"] > SAMPLE / 2
    for url in ("/v1/completions", "/v1/embeddings", "/v1/responses", "/v1/models"):
        assert urls[url] > 0, url
    bodies = [json.loads(r["request_body"]) for r in records if r["url"] == "/v1/chat/completions"]
    roles = Counter(message["role"] for body in bodies for message in body["messages"])
    assert roles["system"] > 0 and roles["assistant"] > 0
    assert any(isinstance(message["content"], list) for body in bodies for message in body["messages"])
    assert all("prompt" in json.loads(r["request_body"]) for r in records if r["url"] == "/v1/completions")
    assert all("input" in json.loads(r["request_body"]) for r in records if r["url"] == "/v1/embeddings")
    assert all(r["method"] == ("GET" if r["url"] == "/v1/models" else "POST") for r in records)


def test_streamed_cached_and_failed_requests(records: list[dict[str, Any]]) -> None:
    assert 0.1 < _share([r["streamed"] for r in records]) < 0.4
    assert 0.01 < _share([r["cached"] for r in records]) < 0.1
    statuses = Counter(record["status"] for record in records)
    assert {400, 401, 429, 500, 503} <= set(statuses)
    assert statuses[200] / SAMPLE > 0.95
    for record in records:
        if record["status"] != 200:
            assert record["completion"] is None and record["completion_tokens"] is None
            assert "error" in json.loads(record["response_body"])
        if record["streamed"]:
            assert record["streamed_response_body"]


def test_cost_is_left_to_pricing_on_most_records(records: list[dict[str, Any]]) -> None:
    assert 0.01 < _share([record["cost"] is not None for record in records]) < 0.1


def test_models_include_ones_pricing_cannot_price(records: list[dict[str, Any]]) -> None:
    pricing = PricingTable.default()
    models = Counter(record["model"] for record in records if record["model"])
    assert len(models) >= 12
    unknown = {model for model in models if pricing.resolve(model) is None}
    assert "my-local-llama" in unknown
    assert pricing.resolve("ft:gpt-4o-mini-2024-07-18:acme::9fQx2Lk") == "ft:gpt-4o-mini"
    assert any(model.startswith("ft:") for model in models)
    assert sum(models[model] for model in unknown) / SAMPLE < 0.05


def test_token_counts_track_text_length(records: list[dict[str, Any]]) -> None:
    english_chat = [
        r for r in records if r["url"] == "/v1/chat/completions" and r["completion"] and r["completion"].isascii()
    ]
    short = [r["completion_tokens"] for r in english_chat if len(r["completion"]) < 200]
    long = [r["completion_tokens"] for r in english_chat if len(r["completion"]) > 1000]
    assert short and long
    assert sum(long) / len(long) > 3 * sum(short) / len(short)


def test_users_apps_and_addresses(records: list[dict[str, Any]]) -> None:
    users = Counter(record["user_id"] for record in records if record["user_id"])
    assert 200 <= len(users) <= 400
    assert users.most_common(1)[0][1] / SAMPLE > 0.03  # skewed: a few heavy users
    assert 3 <= len({record["app_id"] for record in records if record["app_id"]}) <= 10
    versions = Counter(ipaddress.ip_address(record["ip"]).version for record in records if record["ip"])
    assert versions[4] > versions[6] > 0


def test_metadata_headers_become_metadata(records: list[dict[str, Any]]) -> None:
    with_metadata = [r for r in records if any(k.startswith("x-metadata-") for k in r["request_headers"])]
    assert 0.5 < len(with_metadata) / SAMPLE < 0.95
    keys = Counter(
        key for r in with_metadata for key in RequestDocument.from_raw(RawRequest.model_validate(r), "t").metadata
    )
    assert {"env", "feature", "team", "customer_tier"} <= set(keys)


def test_languages_include_cjk(texts: list[str]) -> None:
    assert 0.05 < _share([bool(CJK.search(text)) for text in texts]) < 0.3
    for sample in ("天気", "人工知能", "서울", "¿", "ü", "é"):
        assert any(sample in text for text in texts), sample


def test_some_bodies_are_long(records: list[dict[str, Any]]) -> None:
    long = [r for r in records if len((r["request_body"] or "").encode()) > 10_000]
    assert 0.0005 < len(long) / SAMPLE < 0.01
    assert max(len(r["request_body"].encode()) for r in long) > 40_000


def test_benchmark_terms_occur_at_their_documented_rates(texts: list[str]) -> None:
    lowered = [text.lower() for text in texts]
    assert _share([_has_word(text, COMMON_WORD) for text in lowered]) == pytest.approx(COMMON_WORD_FREQUENCY, abs=0.02)
    assert _share([CJK_WORD in text for text in texts]) == pytest.approx(CJK_WORD_FREQUENCY, abs=0.01)
    # About 1 in 5,000: 4 expected in the sample; a Poisson count outside 1..12 would be far-fetched.
    rare = sum(RARE_PHRASE in text for text in texts)
    assert 1 <= rare <= 12
    for word in RARE_PHRASE.split():  # the words alone are not rare, so a phrase query has work to do
        assert sum(_has_word(text, word) for text in lowered) > 5 * rare


def _has_word(text: str, word: str) -> bool:
    # The substring test first: a regex scan of every text would dominate the test's time.
    return word in text and re.search(rf"\b{word}\b", text) is not None


# -- the banks as data -----------------------------------------------------------------------------------------


def test_templates_fill_slots_in_order_of_occurrence() -> None:
    template = Template.compile('{{"order": "{order}"}} for {name}, again {order}')
    assert template.slots == ("order", "name", "order")
    assert template.text.format("A-1", "Ana", "A-1") == '{"order": "A-1"} for Ana, again A-1'
    for typo in ("{0}", "{}", "{name.upper}", "{name:>9}", "{name!r}"):
        with pytest.raises(ValueError, match="not a plain slot name"):
            Template.compile(typo)


def test_a_template_slot_without_a_value_fails_at_load() -> None:
    """Caught before the first record: a rare template might otherwise first be filled millions of records in."""
    banks = load_banks()
    check_slots(banks)
    broken = replace(banks, slots=replace(banks.slots, questions=(Template.compile("Is {velvet} up?"),)))
    with pytest.raises(ValueError, match="velvet"):
        check_slots(broken)


def test_data_file_errors_name_the_file_and_key() -> None:
    table = Table({"apps": [{"name": "x", "weight": "heavy"}]}, "traffic.toml")
    with pytest.raises(ValueError, match=re.escape("traffic.toml apps[0]: weight must be a number")):
        table.tables("apps")[0].number("weight")
    with pytest.raises(ValueError, match=re.escape("traffic.toml: models is missing")):
        table.table("models")
