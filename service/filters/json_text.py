"""Filter text to a JSON value, with the size limits applied before any recursive work is done."""

from __future__ import annotations

import json
import math
from typing import Any

from service.filters.errors import FilterError
from service.filters.limits import MAX_FILTER_LENGTH, MAX_JSON_DEPTH


def load_json(text: str) -> Any:
    """The decoded filter. NaN, Infinity, numbers too big for a double and repeated keys are errors: each would
    otherwise turn into something the client did not write (a non-JSON query body, or a silently dropped rule)."""
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(f"filter is {len(text)} characters long; the limit is {MAX_FILTER_LENGTH}")
    depth = nesting_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise FilterError(f"JSON nests {depth} arrays/objects deep; the limit is {MAX_JSON_DEPTH}")
    try:
        return json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            object_pairs_hook=_object_without_repeats,
        )
    except FilterError:
        raise
    except json.JSONDecodeError as error:
        raise FilterError(f"not valid JSON: {error.msg} at character {error.pos + 1}") from None
    except ValueError as error:  # e.g. an integer with more digits than int() accepts
        raise FilterError(f"not valid JSON: {error}") from None


def nesting_depth(text: str) -> int:
    """How deeply `[`/`{` nest outside strings. A plain scan: the input is capped, and a regex over JSON strings
    can go quadratic on unterminated ones."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _reject_constant(name: str) -> Any:
    raise FilterError(f"{name} is not a JSON number; use a finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise FilterError(f"number {text} is too large")
    return value


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise FilterError(f"key {json.dumps(key)} appears twice in one object")
        result[key] = value
    return result
