"""Random draws, each costing a fixed number of `random()` calls: a record's bytes depend on the sequence of draws,
so a draw must never consume more or fewer numbers than it did when the data set was defined."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class Weighted(Generic[T]):
    """A weighted choice that costs one random() and a bisect."""

    __slots__ = ("_cumulative", "_items", "_last", "_total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self._items = [item for item, _ in pairs]
        self._cumulative = list(itertools.accumulate(weight for _, weight in pairs))
        self._total = self._cumulative[-1]
        self._last = len(self._items) - 1

    def pick(self, rng: random.Random) -> T:
        return self._items[bisect.bisect(self._cumulative, rng.random() * self._total, hi=self._last)]


def zipf(rng: random.Random, items: Sequence[T]) -> T:
    """Rank k (from 1) with probability about 1/(k ln n): the list's order is its frequency order."""
    return items[int(len(items) ** rng.random()) - 1]


def uniform(rng: random.Random, items: Sequence[T]) -> T:
    return items[int(rng.random() * len(items))]


def between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def order_number(rng: random.Random) -> str:
    return f"{'ABCDEFGHJK'[int(rng.random() * 10)]}-{between(rng, 100000, 999999)}"
