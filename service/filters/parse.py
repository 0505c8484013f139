"""`parse_filter`: the `filter` query parameter to clauses for `bool.filter`."""

from __future__ import annotations

from service.filters.errors import FilterError
from service.filters.grammar import parse_group, parse_map
from service.filters.json_text import load_json
from service.filters.queries import Clause
from service.filters.render import check_clause_count, render_group, render_map


def parse_filter(text: str | None) -> list[Clause]:
    """Clauses to AND into `bool.filter`; `[]` for no filter (absent, empty, `{}`).

    Raises FilterError, and nothing else, for any other input that is not a filter this API can run.
    """
    if text is None or not text.strip():
        return []
    document = load_json(text)
    if not isinstance(document, dict):
        raise FilterError(
            'filter must be a JSON object: a rule group with "rules", or a map of field to value; '
            f"got {_json_type(document)}"
        )
    if not document:
        return []
    # The two forms are told apart by a top-level "rules" key.
    clauses = render_group(parse_group(document)) if "rules" in document else render_map(parse_map(document))
    check_clause_count(clauses)
    return clauses


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
