"""The operator table: react-querybuilder's default operators, each a small object that knows its key, what it
means, how many values it takes, which kinds of field it applies to and how to render itself.

Adding an operator is adding one entry to `OPERATORS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from core.fields import Kind
from service.filters.queries import Clause, Queries, negate
from service.filters.targets import Target
from service.filters.values import Role, Value


class Arity(Enum):
    NONE = "none"  # the rule's value is ignored
    ONE = "one"
    TWO = "two"  # a JSON array or a comma-separated string of exactly two values
    LIST = "list"  # a JSON array or a comma-separated string of one or more values


EVERY_KIND = frozenset(Kind)
ORDERED = frozenset({Kind.KEYWORD, Kind.INTEGER, Kind.NUMBER, Kind.DATE, Kind.IP, Kind.METADATA})
STRINGS = frozenset({Kind.KEYWORD, Kind.TEXT, Kind.METADATA})
# Text is analysed into words, so "ends with" has no phrase query to stand on.
SUFFIXABLE = frozenset({Kind.KEYWORD, Kind.METADATA})


@dataclass(frozen=True)
class Operator:
    key: str
    description: str
    arity: Arity
    kinds: frozenset[Kind]
    build: Callable[[Queries, Sequence[Value]], Clause]
    role: Role = Role.MATCH

    def accepts(self, target: Target) -> bool:
        # The metadata object as a whole has presence but no value to compare.
        return target.kind in self.kinds and (self.arity is Arity.NONE or not target.whole_object)

    def render(self, queries: Queries, values: Sequence[Value]) -> Clause:
        return self.build(queries, values)

    def describe(self) -> dict[str, Any]:
        """For the API description."""
        return {
            "operator": self.key,
            "description": self.description,
            "values": self.arity.value,
            "kinds": sorted(kind.value for kind in self.kinds),
        }


def _negated(build: Callable[[Queries, Sequence[Value]], Clause]) -> Callable[[Queries, Sequence[Value]], Clause]:
    return lambda queries, values: negate(build(queries, values))


def _equals(q: Queries, v: Sequence[Value]) -> Clause:
    return q.equals(v[0])


def _one_of(q: Queries, v: Sequence[Value]) -> Clause:
    return q.one_of(v)


def _between(q: Queries, v: Sequence[Value]) -> Clause:
    return q.range({"gte": v[0], "lte": v[1]})


def _contains(q: Queries, v: Sequence[Value]) -> Clause:
    return q.contains(str(v[0]))


def _begins_with(q: Queries, v: Sequence[Value]) -> Clause:
    return q.begins_with(str(v[0]))


def _ends_with(q: Queries, v: Sequence[Value]) -> Clause:
    return q.ends_with(str(v[0]))


def _exists(q: Queries, v: Sequence[Value]) -> Clause:
    return q.exists()


def _bound(name: str) -> Callable[[Queries, Sequence[Value]], Clause]:
    return lambda q, v: q.range({name: v[0]})


OPERATORS: dict[str, Operator] = {
    op.key: op
    for op in (
        Operator("=", "equals (text fields: contains the phrase)", Arity.ONE, EVERY_KIND, _equals),
        Operator("!=", "does not equal (text: does not contain the phrase)", Arity.ONE, EVERY_KIND, _negated(_equals)),
        Operator("<", "less than", Arity.ONE, ORDERED, _bound("lt"), Role.BOUND),
        Operator(">", "greater than", Arity.ONE, ORDERED, _bound("gt"), Role.BOUND),
        Operator("<=", "less than or equal to", Arity.ONE, ORDERED, _bound("lte"), Role.BOUND),
        Operator(">=", "greater than or equal to", Arity.ONE, ORDERED, _bound("gte"), Role.BOUND),
        Operator(
            "contains",
            "contains the string (case-sensitive; text: the phrase)",
            Arity.ONE,
            STRINGS,
            _contains,
            Role.PATTERN,
        ),
        Operator(
            "beginsWith",
            "begins with the string (case-sensitive; text: has a word beginning with the one word given)",
            Arity.ONE,
            STRINGS,
            _begins_with,
            Role.PREFIX,
        ),
        Operator("endsWith", "ends with the string (case-sensitive)", Arity.ONE, SUFFIXABLE, _ends_with, Role.PATTERN),
        Operator(
            "doesNotContain", "does not contain the string", Arity.ONE, STRINGS, _negated(_contains), Role.PATTERN
        ),
        Operator(
            "doesNotBeginWith",
            "does not begin with the string (text: has no word beginning with it)",
            Arity.ONE,
            STRINGS,
            _negated(_begins_with),
            Role.PREFIX,
        ),
        Operator(
            "doesNotEndWith", "does not end with the string", Arity.ONE, SUFFIXABLE, _negated(_ends_with), Role.PATTERN
        ),
        Operator("null", "has no value", Arity.NONE, EVERY_KIND, _negated(_exists)),
        Operator("notNull", "has a value", Arity.NONE, EVERY_KIND, _exists),
        Operator("in", "equals one of the values", Arity.LIST, EVERY_KIND, _one_of),
        Operator("notIn", "equals none of the values", Arity.LIST, EVERY_KIND, _negated(_one_of)),
        Operator("between", "between the two values, both included", Arity.TWO, ORDERED, _between, Role.BOUND),
        Operator("notBetween", "outside the two values", Arity.TWO, ORDERED, _negated(_between), Role.BOUND),
    )
}

# react-querybuilder spells operators in camelCase; a client that lower-cases them still means the same one.
_BY_FOLDED_KEY = {key.lower(): op for key, op in OPERATORS.items()}


def find_operator(key: str) -> Operator | None:
    return OPERATORS.get(key) or _BY_FOLDED_KEY.get(key.lower())


def operators_for(target: Target) -> list[str]:
    return [op.key for op in OPERATORS.values() if op.accepts(target)]
