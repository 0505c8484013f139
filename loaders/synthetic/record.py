"""One record's state while it is built: its generator, what has been drawn for it, and its slot values."""

from __future__ import annotations

import random

from loaders.synthetic.banks import Task
from loaders.synthetic.draw import between, uniform
from loaders.synthetic.pools import Language, Pools, User


class Record:
    __slots__ = ("language", "pools", "prompt_index", "rare", "rng", "target", "task", "user", "values")

    def __init__(self, rng: random.Random, pools: Pools) -> None:
        self.rng = rng
        self.pools = pools
        self.language = pools.english
        self.task: Task = pools.banks.tasks["explain"]
        self.target: Language | None = None  # a translation's language
        self.user: User | None = None
        self.prompt_index = 0
        self.rare = False  # carries RARE_PHRASE: drawn once per record, whatever the endpoint
        # Slot values drawn so far: each slot is drawn on first use and then kept, so the prompt and the
        # completion agree (see slots.py).
        self.values: dict[str, str] = {}

    def sentences(self, low: int, high: int, language: Language | None = None) -> str:
        language = language or self.language
        pool = language.pool
        rng = self.rng
        picked = [pool[int(rng.random() * len(pool))] for _ in range(between(rng, low, high))]
        return language.bank.joiner.join(picked)

    def target_language(self) -> Language:
        if self.target is None:
            self.target = uniform(self.rng, self.pools.foreign)
        return self.target
