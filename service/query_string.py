"""Decoding the raw query string strictly: every name and value must be well-formed percent-encoded UTF-8.

aiohttp (through yarl) decodes leniently: `%FF` becomes U+FFFD, a truncated `%E0%A4%A` stays as text and an
encoded surrogate slips through. A client that sent such bytes did not mean those characters, so each is a 400
that names the parameter instead of a search for something else.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


class QueryStringError(ValueError):
    """The message names the parameter and says what is wrong with its bytes."""


def decode_query(raw: str) -> list[tuple[str, str]]:
    """`name=value&...` as (name, value) pairs in order, `+` read as a space (HTML forms)."""
    pairs: list[tuple[str, str]] = []
    for part in raw.split("&"):
        if not part:
            continue
        raw_name, _, raw_value = part.partition("=")
        name = decode_percent(raw_name.replace("+", " "), "a parameter name")
        pairs.append((name, decode_percent(raw_value.replace("+", " "), f"{name}: the value")))
    return pairs


def decode_percent(text: str, subject: str) -> str:
    """`text` percent-decoded as UTF-8, strictly; `subject` starts the message (`user_id: the value`)."""
    if _BAD_ESCAPE.search(text):
        raise QueryStringError(f"{subject} has a '%' that is not followed by two hex digits (bad percent-encoding)")
    try:
        return unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        raise QueryStringError(f"{subject} is not valid UTF-8 once percent-decoded") from None
