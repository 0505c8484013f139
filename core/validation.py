"""Pydantic validation errors as one line a person can act on: `where: what` for each problem.

The loader puts it in dead letters, the CLI in usage errors, the API in its 400s (with wording of its own on top).
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError
from pydantic_core import ErrorDetails

Locate = Callable[[ErrorDetails], str]


def error_location(detail: ErrorDetails, whole: str) -> str:
    """`messages.0.content`, or `whole` when the problem is with the input as a whole (an empty location)."""
    return ".".join(str(part) for part in detail["loc"]) or whole


def error_message(detail: ErrorDetails) -> str:
    # pydantic says "Extra inputs are not permitted", which does not tell the reader the name is the problem.
    return "unknown field" if detail["type"] == "extra_forbidden" else detail["msg"]


def describe_error(detail: ErrorDetails, whole: str, locate: Locate | None = None) -> str:
    where = locate(detail) if locate is not None else error_location(detail, whole)
    return f"{where}: {error_message(detail)}"


def describe_validation(error: ValidationError, whole: str, limit: int = 5, locate: Locate | None = None) -> str:
    """The first `limit` problems, `; `-separated, then how many more: short enough for one line.

    `locate` names where a problem is when the field path is not what the reader knows it by (a CLI flag, say).
    """
    details = error.errors(include_url=False)
    parts = [describe_error(detail, whole, locate) for detail in details[:limit]]
    if len(details) > limit:
        parts.append(f"and {len(details) - limit} more")
    return "; ".join(parts)
