"""Limits of the HTTP layer, in one place so the API description can state them."""

from __future__ import annotations

# aiohttp refuses request lines over 8 KiB by default. A filter may be 32 KiB of text (percent-encoded, up to 12
# bytes a character), so the line limit sits well past what the parameters allow and lets their own validation
# answer; past it the answer is 414.
MAX_REQUEST_LINE_BYTES = 1024 * 1024
MAX_FIELD_BYTES = 16 * 1024
"""One request header (name and value); past it the answer is 431."""
