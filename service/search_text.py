"""The `search` parameter as a full-text query.

`simple_query_string` gives users the syntax they expect (all terms required, "quoted phrases", -exclusion,
a | b, parentheses) and never fails on odd input; `query_string` is not used because it lets clients name fields
and so reach past what we chose to search.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from core.fields import SEARCHED_TEXT_FIELDS

# AND/OR/NOT/PHRASE/PRECEDENCE is the documented syntax; ESCAPE and WHITESPACE keep `\` and spacing ordinary.
# Prefix, fuzzy and slop operators are off: they turn one term into many and are costly over large bodies.
FLAGS = "AND|OR|NOT|PHRASE|PRECEDENCE|ESCAPE|WHITESPACE"
MAX_SEARCH_LENGTH = 1000

# Runs of characters the index's analyzer (standard tokenizer + cjk_bigram) turns into terms: Han, kana and Hangul
# become overlapping bigrams, everything else one term per run of letters, digits and `_`; emoji are terms too.
_WORD_RUN = re.compile(r"\w+")
_CJK_RUN = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")


def is_term_character(char: str) -> bool:
    """Whether the analyzer keeps `char` as (part of) a term: letters, decimal digits, emoji and other symbols
    it reads as emoji (©, ™). Punctuation, spacing and number forms such as ½ or ① make no term."""
    category = unicodedata.category(char)
    return char.isalpha() or category == "Nd" or category == "So" or char == "_"


def has_terms(text: str) -> bool:
    """Whether `text` gives the analyzer anything to match; a phrase of punctuation matches no document."""
    return any(is_term_character(char) for char in text)


def term_count(text: str) -> int:
    """How many terms the analyzer makes of `text`, counted generously (never fewer than it makes)."""
    count = sum(1 for char in text if unicodedata.category(char) == "So")  # each emoji is a term of its own
    for run in _WORD_RUN.findall(text):
        for piece in _CJK_RUN.split(run):
            count += 1 if has_terms(piece) else 0
        count += sum(max(1, len(cjk) - 1) for cjk in _CJK_RUN.findall(run))
    return count


def clause_count(text: str) -> int:
    """Leaf queries `search_clause(text)` expands to: each term in every searched field, plus the openai_id term."""
    return term_count(text) * len(SEARCHED_TEXT_FIELDS) + 1


class SearchError(ValueError):
    """A search that can never run; the message starts with `search:` and says why."""


def search_clause(text: str, clause_budget: int) -> dict[str, Any] | None:
    """A clause matching requests whose text contains the search, or whose `openai_id` is exactly it.

    A search with no terms would match nothing (`****`), and one expanding past `clause_budget` leaf queries would
    be refused by OpenSearch every time: both are a SearchError, decided here rather than by the engine.
    """
    text = text.strip()
    if not text:
        return None
    if not has_terms(text):
        raise SearchError(
            f"search: {text[:40]!r} has nothing to search for: no letters, digits or emoji "
            "(leave search out, or empty, to match every request)"
        )
    clauses = clause_count(text)
    if clauses > clause_budget:
        raise SearchError(
            f"search: about {term_count(text)} terms, which expands to {clauses} OpenSearch clauses (each term is "
            f"looked up in {len(SEARCHED_TEXT_FIELDS)} fields); with the filter, at most {clause_budget} are "
            "allowed: search for fewer terms"
        )
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
