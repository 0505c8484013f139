"""What a request cost: per-model token prices from `pricing.json`, for records that arrive without a cost.

Model names in logs are rarely the table's names (`gpt-4o-2024-08-06`, `ft:gpt-4o-mini:acme::abc123`), so a
name resolves to the longest table entry that is a prefix of it ending at a separator. An unknown model prices
as None rather than failing: the loader counts it and indexes the request without a cost.
"""

from __future__ import annotations

import functools
import json
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveInt, model_validator

# A prefix must end where the name has one of these, so `gpt-4` does not price `gpt-4o-…` or `gpt-4.5-…`.
SEPARATORS = frozenset("-:@")
COST_DECIMALS = 8  # a hundred-millionth of a dollar: below any single token's price, above float noise
# Beside this module rather than via importlib.resources: an editable install made while `loaders` had no
# __init__.py maps it as a namespace package, which importlib.resources cannot read from.
_PACKAGED_FILE = Path(__file__).with_name("pricing.json")
_MAX_CACHED_NAMES = 10_000  # model names come from the data; a flood of distinct ones must not grow memory


class ModelPrice(BaseModel):
    """One entry of the table: prices per `per_tokens` tokens, and other names that price the same."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: NonNegativeFloat
    completion: NonNegativeFloat
    aliases: tuple[str, ...] = ()


class PricingFile(BaseModel):
    """The shape of `pricing.json`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    comment: str = Field(default="", alias="_comment")
    currency: Literal["USD"]
    per_tokens: PositiveInt
    as_of: date
    models: dict[str, ModelPrice] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_are_lookup_keys(self) -> PricingFile:
        seen: set[str] = set()
        for name, entry in self.models.items():
            for key in (name, *entry.aliases):
                if key != key.strip().lower() or not key:
                    raise ValueError(f"model names are matched lowercased and trimmed; write {key!r} that way")
                if key in seen:
                    raise ValueError(f"{key!r} is listed twice, so its price would be ambiguous")
                seen.add(key)
        return self


class PricingTable:
    """Prices requests by model name and token counts."""

    def __init__(self, data: PricingFile) -> None:
        self.data = data
        self._by_name: dict[str, tuple[str, ModelPrice]] = {}
        for name, entry in data.models.items():
            for key in (name, *entry.aliases):
                self._by_name[key] = (name, entry)
        # Logs repeat a handful of model names millions of times; resolving each once keeps pricing cheap.
        self._resolved: dict[str, tuple[str, ModelPrice] | None] = {}

    @classmethod
    def from_file(cls, path: Path) -> PricingTable:
        return cls(PricingFile.model_validate(json.loads(path.read_text(encoding="utf-8"))))

    @classmethod
    def default(cls) -> PricingTable:
        """The table packaged with the loaders, read once per process."""
        return _packaged_table()

    def resolve(self, model: str | None) -> str | None:
        """The table entry a model name prices as, or None when no entry matches."""
        found = self._lookup(model)
        return found[0] if found else None

    def price(self, model: str | None, prompt_tokens: int | None, completion_tokens: int | None) -> float | None:
        """The cost in USD, or None when the model is unknown or missing or no token count is known."""
        if prompt_tokens is None and completion_tokens is None:
            return None
        found = self._lookup(model)
        if found is None:
            return None
        rates = found[1]
        cost = (
            (prompt_tokens or 0) * rates.prompt + (completion_tokens or 0) * rates.completion
        ) / self.data.per_tokens
        return round(cost, COST_DECIMALS)

    def _lookup(self, model: str | None) -> tuple[str, ModelPrice] | None:
        if not model:
            return None
        try:
            return self._resolved[model]
        except KeyError:
            found = self._longest_prefix(model.strip().lower())
            if len(self._resolved) < _MAX_CACHED_NAMES:
                self._resolved[model] = found
            return found

    def _longest_prefix(self, name: str) -> tuple[str, ModelPrice] | None:
        if name in self._by_name:
            return self._by_name[name]
        # Cutting at separators from the right tries the longest candidates first.
        for end in range(len(name) - 1, 0, -1):
            if name[end] in SEPARATORS and name[:end] in self._by_name:
                return self._by_name[name[:end]]
        return None


@functools.cache
def _packaged_table() -> PricingTable:
    return PricingTable.from_file(_PACKAGED_FILE)
