"""The pricing table: list prices, dated and fine-tuned names, unknown models and missing token counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.pricing import PricingFile, PricingTable


@pytest.fixture(scope="module")
def table() -> PricingTable:
    return PricingTable.default()


@pytest.mark.parametrize(
    ("model", "prompt_tokens", "completion_tokens", "expected"),
    [
        ("gpt-4o", 1_000_000, 0, 2.5),
        ("gpt-4o", 0, 1_000_000, 10.0),
        ("gpt-4o-mini", 1000, 500, 0.00045),
        ("gpt-4", 1000, 1000, 0.09),
        ("gpt-3.5-turbo", 2000, 1000, 0.0025),
        ("o1", 100, 100, 0.0075),
        ("text-embedding-3-small", 1_000_000, None, 0.02),
        ("text-davinci-003", 500, 500, 0.02),
    ],
)
def test_list_prices(
    table: PricingTable, model: str, prompt_tokens: int | None, completion_tokens: int | None, expected: float
) -> None:
    assert table.price(model, prompt_tokens, completion_tokens) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("model", "entry"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"),
        ("gpt-4-0613", "gpt-4"),
        ("gpt-4-32k-0613", "gpt-4-32k"),
        ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
        ("o1-mini-2024-09-12", "o1-mini"),
        ("o3-mini-2025-01-31", "o3-mini"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("mistral-large-latest", "mistral-large"),
        ("GPT-4o", "gpt-4o"),
    ],
)
def test_dated_and_variant_names_resolve_to_their_family(table: PricingTable, model: str, entry: str) -> None:
    assert table.resolve(model) == entry


def test_longest_prefix_wins(table: PricingTable) -> None:
    # Both gpt-4o and gpt-4o-mini are prefixes ending at a separator; the mini price must apply.
    assert table.price("gpt-4o-mini-2024-07-18", 1_000_000, 0) == pytest.approx(0.15)
    # A snapshot with a price of its own beats its family's entry.
    assert table.price("gpt-4o-2024-05-13", 1_000_000, 0) == pytest.approx(5.0)


def test_aliases_price_as_their_entry(table: PricingTable) -> None:
    assert table.resolve("gpt-4-1106-preview") == "gpt-4-turbo"


def test_prefix_must_end_at_a_separator(table: PricingTable) -> None:
    assert table.resolve("gpt-4.5") is None  # not gpt-4: "." is part of a version, not a separator
    assert table.resolve("o10") is None


def test_fine_tuned_models_use_fine_tuning_rates(table: PricingTable) -> None:
    assert table.resolve("ft:gpt-4o-mini:acme::abc123") == "ft:gpt-4o-mini"
    assert table.price("ft:gpt-4o-mini-2024-07-18:acme::abc123", 1_000_000, 1_000_000) == pytest.approx(1.5)
    assert table.resolve("ft:some-private-base:acme::x1") is None


@pytest.mark.parametrize("model", ["my-local-llama", "", None, "   "])
def test_unknown_or_missing_model_prices_as_none(table: PricingTable, model: str | None) -> None:
    assert table.price(model, 100, 100) is None


def test_missing_token_counts(table: PricingTable) -> None:
    assert table.price("gpt-4o", None, 1_000_000) == pytest.approx(10.0)
    assert table.price("gpt-4o", 1_000_000, None) == pytest.approx(2.5)
    assert table.price("gpt-4o", None, None) is None
    assert table.price("gpt-4o", 0, 0) == 0.0


def test_costs_are_rounded(table: PricingTable) -> None:
    cost = table.price("gpt-4o-mini", 7, 3)
    assert cost is not None
    assert cost == round(cost, 8)
    assert cost == pytest.approx(7 * 0.15e-6 + 3 * 0.6e-6)


def test_default_is_loaded_once() -> None:
    assert PricingTable.default() is PricingTable.default()


def test_packaged_file_covers_the_promised_models(table: PricingTable) -> None:
    for model in (
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4-turbo",
        "gpt-4",
        "gpt-3.5-turbo",
        "o1",
        "o1-mini",
        "o3",
        "o3-mini",
        "o4-mini",
        "text-embedding-3-small",
        "text-embedding-3-large",
        "text-davinci-003",
    ):
        assert table.resolve(model) == model


def _pricing_file(models: dict[str, object]) -> dict[str, object]:
    return {"currency": "USD", "per_tokens": 1_000_000, "as_of": "2025-01-01", "models": models}


@pytest.mark.parametrize(
    "models",
    [
        {"GPT-4o": {"prompt": 1, "completion": 1}},
        {"a": {"prompt": 1, "completion": 1}, "b": {"prompt": 1, "completion": 1, "aliases": ["a"]}},
        {"a": {"prompt": -1, "completion": 1}},
        {"a": {"prompt": 1}},
        {"a": {"prompt": 1, "completion": 1, "extra": 2}},
        {},
    ],
)
def test_invalid_pricing_files_are_rejected(models: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PricingFile.model_validate(_pricing_file(models))


def test_from_file(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(_pricing_file({"house-model": {"prompt": 1.0, "completion": 2.0}})))
    table = PricingTable.from_file(path)
    assert table.price("house-model-v2", 1_000_000, 1_000_000) == pytest.approx(3.0)
