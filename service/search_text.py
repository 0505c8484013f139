"""The `search` parameter as a full-text query.

`simple_query_string` gives users the syntax they expect (all terms required, "quoted phrases", -exclusion,
a | b, parentheses) and never fails on odd input; `query_string` is not used because it lets clients name fields
and so reach past what we chose to search.
"""

from __future__ import annotations

from typing import Any

from core.fields import SEARCHED_TEXT_FIELDS

# AND/OR/NOT/PHRASE/PRECEDENCE is the documented syntax; ESCAPE and WHITESPACE keep `\` and spacing ordinary.
# Prefix, fuzzy and slop operators are off: they turn one term into many and are costly over large bodies.
FLAGS = "AND|OR|NOT|PHRASE|PRECEDENCE|ESCAPE|WHITESPACE"
MAX_SEARCH_LENGTH = 1000


def search_clause(text: str) -> dict[str, Any] | None:
    """A clause matching requests whose text contains the search, or whose `openai_id` is exactly it."""
    text = text.strip()
    if not text:
        return None
    return {
        "bool": {
            "should": [
                {
                    "simple_query_string": {
                        "query": text,
                        "fields": list(SEARCHED_TEXT_FIELDS),
                        "default_operator": "and",
                        "flags": FLAGS,
                        "lenient": True,
                    }
                },
                {"term": {"openai_id": text}},
            ],
            "minimum_should_match": 1,
        }
    }
