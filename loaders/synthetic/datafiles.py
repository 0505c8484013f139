"""Reading the TOML files beside this module, with each value's type checked as it is read: a typo in a data file
should fail at load with the file and key, not as a KeyError deep inside a record."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from loaders.synthetic.templates import Template

# Beside the code rather than via importlib.resources, like core/pricing.json: an editable install made while
# `loaders` had no __init__.py maps it as a namespace package, which importlib.resources cannot read from.
_DIRECTORY = Path(__file__).parent


class Table:
    """One TOML table, read key by key: `where` names it in error messages."""

    def __init__(self, raw: dict[str, Any], where: str) -> None:
        self.raw = raw
        self.where = where

    @classmethod
    def read(cls, file_name: str) -> Table:
        with (_DIRECTORY / file_name).open("rb") as file:
            return cls(tomllib.load(file), file_name)

    def _get(self, key: str, default: object = None) -> Any:
        if key in self.raw:
            return self.raw[key]
        if default is None:
            raise ValueError(f"{self.where}: {key} is missing")
        return default

    def _fail(self, key: str, expected: str) -> ValueError:
        return ValueError(f"{self.where}: {key} must be {expected}")

    def table(self, key: str) -> Table:
        value = self._get(key)
        if not isinstance(value, dict):
            raise self._fail(key, "a table")
        return Table(value, f"{self.where} [{key}]")

    def tables(self, key: str) -> list[Table]:
        value = self._get(key)
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self._fail(key, "an array of tables")
        return [Table(item, f"{self.where} {key}[{k}]") for k, item in enumerate(value)]

    def text(self, key: str, default: str | None = None) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def number(self, key: str, default: float | None = None) -> float:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(key, "a number")
        return value  # an int stays an int: weights then sum exactly as written

    def flag(self, key: str) -> bool:
        value = self._get(key, False)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def strings(self, key: str, default: tuple[str, ...] | None = None) -> tuple[str, ...]:
        value = self._get(key, default)
        if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
            raise self._fail(key, "an array of strings")
        return tuple(value)

    def integers(self, key: str) -> tuple[int, ...]:
        value = self._get(key)
        if not isinstance(value, list) or not all(
            isinstance(item, int) and not isinstance(item, bool) for item in value
        ):
            raise self._fail(key, "an array of integers")
        return tuple(value)

    def templates(self, key: str, default: tuple[str, ...] | None = None) -> tuple[Template, ...]:
        return tuple(Template.compile(source) for source in self.strings(key, default))

    def weighted(self, key: str) -> tuple[tuple[str, float], ...]:
        """[value, weight] pairs, in the order a weighted draw must see them."""
        value = self._get(key)
        if not isinstance(value, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) and _is_number(pair[1])
            for pair in value
        ):
            raise self._fail(key, "an array of [string, weight] pairs")
        return tuple((pair[0], pair[1]) for pair in value)

    def bounds(self, key: str, default: tuple[int, int]) -> tuple[int, int]:
        value = self._get(key, default)
        if not isinstance(value, list | tuple) or len(value) != 2 or not all(isinstance(v, int) for v in value):
            raise self._fail(key, "[low, high]")
        return value[0], value[1]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
