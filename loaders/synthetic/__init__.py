"""Deterministic synthetic request logs: demo data for the README and millions of documents for benchmarks.

`generate(count, seed, start)` yields raw records (plain dicts with the spec's field names, accepted by
`RawRequest.model_validate`). Record `i` depends only on `(seed, i)`: each record reseeds one `random.Random`
from both, so a resumed run starts at `start` without producing what came before, and a run split across
processes yields the same records as one run.

The mix imitates an OpenAI-style proxy's log: chat completions mostly, some Responses API, legacy completions,
embeddings and model listings; a dozen models at skewed frequencies (a few unknown to the pricing table); end
users with a long-tailed activity distribution; English text mostly, with Spanish, German, French, Japanese,
Chinese and Korean; streamed, cached and failed requests; `x-metadata-*` headers. Texts come from phrase banks
and templates with slots drawn from vocabularies ranked by a Zipf-like law, so there are common words and a
long tail of rare ones (made-up project codenames). Bodies are assembled as JSON text from templates with
strings escaped by the C encoder, because `json.dumps` on nested dicts per record would dominate the cost.

Search benchmarks rely on these constants. Frequencies are shares of records whose request body, completion,
response body or streamed body contains the text, measured over seeds 0-3 (500,000 records): `COMMON_WORD` (as a
word, any case) in about a third of records, `RARE_PHRASE` (as a phrase) in about 1 in 5,000 (each record with a
request text carries it with probability `RARE_PHRASE_RATE`), and `CJK_WORD` in about 3.3%.

The package: the banks (words, phrases, templates, apps, models) are data in the TOML files beside the code,
read by `banks`; `pools` builds what records draw from once per process; `records` builds one record, with
`bodies` for each endpoint's JSON, `text` for its texts and `slots` for the template slots they fill.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from typing import Any

from loaders.synthetic.constants import (
    BATCH_PRICED_RATE,
    CACHED_RATE,
    CJK_WORD,
    CJK_WORD_FREQUENCY,
    COMMON_WORD,
    COMMON_WORD_FREQUENCY,
    CONTENT_PARTS_RATE,
    ERROR_STATUSES,
    LONG_BODY_RATE,
    METADATA_RATE,
    MODEL_LISTING_RATE,
    MULTI_TURN_RATE,
    RARE_PHRASE,
    RARE_PHRASE_RATE,
    REFERENCE_TIME,
    STREAMED_RATE,
    SYSTEM_MESSAGE_RATE,
    WINDOW_DAYS,
)
from loaders.synthetic.pools import Pools, pools
from loaders.synthetic.record import Record
from loaders.synthetic.records import build
from loaders.synthetic.slots import check_slots

__all__ = [
    "BATCH_PRICED_RATE",
    "CACHED_RATE",
    "CJK_WORD",
    "CJK_WORD_FREQUENCY",
    "COMMON_WORD",
    "COMMON_WORD_FREQUENCY",
    "CONTENT_PARTS_RATE",
    "ERROR_STATUSES",
    "LONG_BODY_RATE",
    "METADATA_RATE",
    "MODEL_LISTING_RATE",
    "MULTI_TURN_RATE",
    "RARE_PHRASE",
    "RARE_PHRASE_RATE",
    "REFERENCE_TIME",
    "STREAMED_RATE",
    "SYSTEM_MESSAGE_RATE",
    "WINDOW_DAYS",
    "generate",
]


def generate(count: int, seed: int = 0, start: int = 0) -> Iterator[dict[str, Any]]:
    """Raw records number `start` to `count - 1` of the stream for `seed`."""
    if start < 0 or count < 0:
        raise ValueError("count and start must not be negative")
    built = _checked_pools()
    rng = random.Random()
    seed_bits = (seed & 0xFFFF_FFFF_FFFF_FFFF) << 64  # record numbers fill the low 64 bits of the seed
    for number in range(start, count):
        rng.seed(seed_bits | number)
        yield build(Record(rng, built), seed, number)


@functools.cache
def _checked_pools() -> Pools:
    built = pools()
    check_slots(built.banks)
    return built
