"""The `filter` query parameter: react-querybuilder rule groups or a plain field map, to OpenSearch clauses.

`parse_filter(text)` gives the clauses to AND into `bool.filter`; `FilterError` (a ValueError) names what was wrong.
`OPERATORS` is the operator table, for the API description.
"""

from service.filters.errors import FilterError
from service.filters.limits import (
    MAX_CLAUSES,
    MAX_FILTER_LENGTH,
    MAX_GROUP_DEPTH,
    MAX_JSON_DEPTH,
    MAX_LIST_VALUES,
    MAX_PATTERN_LENGTH,
    MAX_RULES,
)
from service.filters.operators import OPERATORS, Arity, Operator
from service.filters.parse import parse_filter
from service.filters.targets import filterable_names

__all__ = [
    "MAX_CLAUSES",
    "MAX_FILTER_LENGTH",
    "MAX_GROUP_DEPTH",
    "MAX_JSON_DEPTH",
    "MAX_LIST_VALUES",
    "MAX_PATTERN_LENGTH",
    "MAX_RULES",
    "OPERATORS",
    "Arity",
    "FilterError",
    "Operator",
    "filterable_names",
    "parse_filter",
]
