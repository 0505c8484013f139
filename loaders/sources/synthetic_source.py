"""Generated requests (loaders.synthetic): `--count N --seed S`. Record i depends only on (seed, i), so a resume
regenerates exactly the records after the checkpoint."""

from __future__ import annotations

from collections.abc import Generator

from loaders import synthetic
from loaders.sources.base import Position, SourceRecord, SourceSize


class SyntheticSource:
    kind = "synthetic"

    def __init__(self, count: int, seed: int = 0) -> None:
        self.count = count
        self.seed = seed
        self._consumed = 0

    @property
    def identity(self) -> str:
        # The count is a bound, not part of the data: a resume may extend a run with a larger one.
        return f"{self.kind}:seed={self.seed}"

    @property
    def name(self) -> str:
        return f"synthetic-{self.seed}"

    @property
    def consumed(self) -> int:
        return self._consumed

    def _start(self, resume_after: Position | None) -> int:
        return int(resume_after.value) + 1 if resume_after is not None else 0

    def size(self, resume_after: Position | None) -> SourceSize | None:
        return SourceSize(total=max(0, self.count - self._start(resume_after)), unit="records")

    def records(self, resume_after: Position | None) -> Generator[SourceRecord, None, None]:
        start = self._start(resume_after)
        if start >= self.count:
            return
        for index, data in enumerate(synthetic.generate(self.count, seed=self.seed, start=start), start):
            self._consumed += 1
            yield SourceRecord(Position("index", index), data=data)
