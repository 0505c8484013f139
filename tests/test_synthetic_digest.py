"""The synthetic generator's output, pinned byte for byte.

Benchmarks compare runs across commits, so a seed must keep meaning the same records: a refactor that moves a
random draw, reorders a bank or changes a template would silently change the data set. These digests were taken
from the pre-refactor generator (the single-module `loaders/synthetic.py` at commit c870b34); if one changes on
purpose, the benchmark baselines in BENCHMARKS.md change with it.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from loaders.synthetic import generate

# (count, seed, start) -> sha256 over one `json.dumps(record, sort_keys=True, ensure_ascii=False)` line per record.
DIGESTS: dict[tuple[int, int, int], str] = {
    (3_000, 0, 0): "9c968cf9e1e4a642087479ae2d64f04fa797107ba24325f916c5cba858eb25c2",
    (3_000, 1, 0): "e7e6df6042f1413959771300cbc481049c4cf6df537600e9bd42c6bf24204426",
    (3_000, 7, 0): "63b71c65c75f4fe0b52c1d48b1b82ce0532f4ffee0dbf8f873d2bdb1b7ad6114",
    # A resumed run far into the stream: record numbers above 2**16 in the seed's low bits.
    (125_000, 3, 122_000): "eb0007ed034d31314e0ee7d20939a68b2233b70a38966e52b70677f47b5ccb06",
    # A seed wider than 64 bits: only its low 64 bits count.
    (500, 2**70 + 5, 0): "6d9056436e296cd5b95509a177c06a3908f9958e701fd34f138f0169807f2417",
    # Large enough to include records carrying RARE_PHRASE (3 of them), pasted long documents and every error status.
    (20_000, 2, 0): "350b59db92033924dc0f14e7b904a1d9b8399336faeda692fb3f187ec1104b91",
}


@pytest.mark.parametrize(("count", "seed", "start"), list(DIGESTS))
def test_output_is_byte_identical_to_the_pinned_generator(count: int, seed: int, start: int) -> None:
    digest = hashlib.sha256()
    for record in generate(count, seed, start):
        digest.update(json.dumps(record, sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    assert digest.hexdigest() == DIGESTS[count, seed, start]
