"""The data set's public parameters: the benchmark terms with their measured frequencies, the rates of the
request mix, and the time window."""

from __future__ import annotations

from datetime import UTC, datetime

# Fixed, never now(): the same seed must give the same timestamps on any day.
REFERENCE_TIME = datetime(2025, 7, 1, tzinfo=UTC)
WINDOW_DAYS = 90

# Search benchmark terms and the share of records that contain them (measured: see the package docstring).
COMMON_WORD = "please"
COMMON_WORD_FREQUENCY = 0.336
RARE_PHRASE = "velvet thunder protocol"  # each word occurs elsewhere, the phrase only where placed on purpose
RARE_PHRASE_RATE = 1 / 5000
CJK_WORD = "天気"  # Japanese "weather"
CJK_WORD_FREQUENCY = 0.033

LONG_BODY_RATE = 0.003  # prompts of tens of KB: a pasted document
MODEL_LISTING_RATE = 0.003  # GET /v1/models: no body, no model
STREAMED_RATE = 0.25
CACHED_RATE = 0.04
BATCH_PRICED_RATE = 0.02  # records whose cost the logger set itself (batch API: half the list price)
SYSTEM_MESSAGE_RATE = 0.6
MULTI_TURN_RATE = 0.2
CONTENT_PARTS_RATE = 0.1
METADATA_RATE = 0.8
ERROR_STATUSES: tuple[tuple[int, float], ...] = ((400, 0.005), (401, 0.0025), (429, 0.01), (500, 0.004), (503, 0.0025))
