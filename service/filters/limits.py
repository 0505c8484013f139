"""How big a filter may be. Each limit keeps one request from costing the cluster, or the parser, unbounded work."""

from __future__ import annotations

MAX_FILTER_LENGTH = 32_768
"""Characters of filter text (the query parameter, after URL decoding)."""

MAX_JSON_DEPTH = 32
"""Nesting of JSON arrays and objects; checked before decoding, so deep input never reaches a recursive parser."""

MAX_GROUP_DEPTH = 10
"""Rule groups inside rule groups; the top-level group is level 1."""

MAX_RULES = 500
"""Rules and groups in one filter, counted together."""

MAX_LIST_VALUES = 1000
"""Values in one `in`/`notIn` list."""

MAX_PATTERN_LENGTH = 256
"""Characters in a contains/beginsWith/endsWith value. Longer wildcard patterns make Lucene give up building the
automaton (`too_complex_to_determinize`) from around 300 repeated characters."""

MAX_CLAUSES = 1000
"""Leaf queries in the rendered filter. OpenSearch refuses a query with more than 1024
(`indices.query.bool.max_clause_count`); the rest of the search body needs a few of its own."""
