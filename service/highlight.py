"""`highlight=true` on `GET /api/v1/requests`: each request object gets `highlights`, the words that matched in its
prompt and completion, from OpenSearch's highlighter.

A fragment is sent as a list of strings whose odd-numbered items (the 2nd, 4th, ...) are the matched words, so a
client never parses markup: `["Where is the ", "lighthouse", " keeper?"]`. The engine marks matches with two
private-use characters that the service splits on and that never reach the client. A field with no match gives its
first characters, unmarked, so the list doubles as a snippet. Logged text that itself holds those two characters
can at worst be shown marked where it was not matched: the split never produces anything but text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.params import ParameterError

PARAMETER = "highlight"
HIGHLIGHTED = ("prompt", "completion")
FRAGMENT_CHARS = 160
FRAGMENTS = 1
# Supplementary private-use characters (plane 16): what the engine puts around each match.
START = "\U0010fff0"
END = "\U0010fff1"
# The highlighter re-analyses a field's text; past this many characters it stops looking (the rest of a huge
# prompt is not searched for matches to mark) rather than fail the page.
MAX_ANALYZED_CHARS = 200_000
_TRUE = ("true", "1")
_FALSE = ("false", "0", "")

Fragment = list[str]


def take_highlight(pairs: Sequence[tuple[str, str]]) -> tuple[bool, list[tuple[str, str]]]:
    """Whether the query string asks for highlights, and its other parameters."""
    values = [value for name, value in pairs if name == PARAMETER]
    rest = [(name, value) for name, value in pairs if name != PARAMETER]
    if len(values) > 1:
        raise ParameterError(f"{PARAMETER}: given more than once; send each parameter at most once")
    if not values:
        return False, rest
    value = values[0].strip().lower()
    if value in _TRUE:
        return True, rest
    if value in _FALSE:
        return False, rest
    raise ParameterError(f"{PARAMETER}: {values[0]!r} is neither true nor false")


def add_highlight(body: dict[str, Any]) -> None:
    """Ask the engine for the matched words of `HIGHLIGHTED` in `body` (a page's search body)."""
    body["highlight"] = {
        "pre_tags": [START],
        "post_tags": [END],
        "fields": {name: {} for name in HIGHLIGHTED},
        "fragment_size": FRAGMENT_CHARS,
        "number_of_fragments": FRAGMENTS,
        "no_match_size": FRAGMENT_CHARS,
        "max_analyzer_offset": MAX_ANALYZED_CHARS,
    }


def split_fragment(text: str) -> Fragment:
    """`plain START match END plain` → `[plain, match, plain]`; unbalanced marks leave the text unmarked."""
    parts: Fragment = []
    rest = text
    while True:
        before, found, after = rest.partition(START)
        if not found:
            parts.append(before)
            break
        match, closed, tail = after.partition(END)
        if not closed or START in match:
            return [text.replace(START, "").replace(END, "")]
        parts.extend((before, match))
        rest = tail
    if any(END in part for part in parts[::2]):
        return [text.replace(START, "").replace(END, "")]
    return parts


def highlights_of(hit: dict[str, Any]) -> dict[str, list[Fragment]]:
    """The request object's `highlights`: each highlighted field that has text, its fragments."""
    found = hit.get("highlight") or {}
    return {name: [split_fragment(text) for text in found[name]] for name in HIGHLIGHTED if name in found}


def highlight_parameter() -> dict[str, Any]:
    """`highlight` in the OpenAPI document (a parameter of the list only)."""
    return {
        "name": PARAMETER,
        "in": "query",
        "required": False,
        "description": (
            f"`true` adds `highlights` to each request object: for {', '.join(f'`{n}`' for n in HIGHLIGHTED)}, "
            f"up to {FRAGMENTS} fragment of about {FRAGMENT_CHARS} characters around the words that `search` (or a "
            "text filter) matched. A fragment is a list of strings whose odd-numbered items (2nd, 4th, ...) are the "
            "matched words; a field without a match gives its first characters, unmarked. No markup is involved: "
            "render the strings as text (the `Highlights` schema). `false` (the default) leaves `highlights` out."
        ),
        "schema": {"type": "boolean", "default": False},
    }


def highlights_schema() -> dict[str, Any]:
    """The `highlights` property of a request object, present with `highlight=true`."""
    fragment = {
        "type": "array",
        "items": {"type": "string"},
        "description": "Text pieces; the odd-numbered ones (2nd, 4th, ...) are matched words.",
    }
    return {
        "type": "object",
        "description": (
            "The `highlights` key of each request object in a list answer asked with `highlight=true`: per field, its "
            "fragments ({} when the request has neither text)."
        ),
        "properties": {name: {"type": "array", "items": fragment} for name in HIGHLIGHTED},
        "additionalProperties": False,
        "examples": [{"prompt": [["Where is the ", "lighthouse", " keeper?"]], "completion": [["On the island."]]}],
    }
