"""Parsed rules and groups to OpenSearch clauses for `bool.filter`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from service.filters.errors import FilterError, shown
from service.filters.grammar import Rule, RuleGroup
from service.filters.limits import MAX_CLAUSES, MAX_LIST_VALUES
from service.filters.operators import Arity, Operator, find_operator, operators_for
from service.filters.queries import MATCH_ALL, Clause, all_of, any_of, negate, queries_for
from service.filters.targets import Target, UnknownField, resolve
from service.filters.values import BadValue, Value, check, in_order

# react-querybuilder joins list values with commas and escapes commas inside a value as `\,`.
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")


def render_group(root: RuleGroup) -> list[Clause]:
    """The top-level group's clauses. An AND group's rules go straight into `bool.filter` (which ANDs them)."""
    if root.disabled:
        return []
    clauses = _children(root, "")
    if root.combinator == "and" and not root.negated:
        return clauses
    return [_combine(root, clauses)]


def render_map(conditions: Sequence[tuple[str, Rule]]) -> list[Clause]:
    return [render_rule(rule, where) for where, rule in conditions]


def render_rule(rule: Rule, where: str) -> Clause:
    try:
        target = resolve(rule.field)
    except UnknownField as error:
        raise FilterError(str(error), where) from None
    operator = find_operator(rule.operator)
    if operator is None:
        raise FilterError(
            f"unknown operator {shown(rule.operator)} on field {shown(rule.field)}; "
            f"{shown(rule.field)} takes {', '.join(operators_for(target))}",
            where,
        )
    if not operator.accepts(target):
        raise FilterError(_not_allowed(operator, target), where)
    try:
        values = _values(operator, target, rule)
    except BadValue as error:
        raise FilterError(f"field {shown(rule.field)}, operator {shown(operator.key)}: {error}", where) from None
    return operator.render(queries_for(target), values)


def count_clauses(clause: Clause) -> int:
    """Leaf queries, as OpenSearch counts them against `max_clause_count`."""
    inner: dict[str, Any] | None = clause.get("bool")
    if inner is None:
        return 1
    return sum(
        count_clauses(child) for occur in ("filter", "must", "should", "must_not") for child in inner.get(occur, [])
    )


def check_clause_count(clauses: Sequence[Clause]) -> None:
    total = sum(count_clauses(clause) for clause in clauses)
    if total > MAX_CLAUSES:
        raise FilterError(
            f"filter expands to {total} OpenSearch clauses; the limit is {MAX_CLAUSES} "
            "(in/notIn on text, date and CIDR values count one per value)"
        )


def _children(group: RuleGroup, where: str) -> list[Clause]:
    prefix = f"{where}." if where else ""
    return [
        _render_node(child, f"{prefix}rules[{index}]") for index, child in enumerate(group.rules) if not child.disabled
    ]


def _render_node(node: RuleGroup | Rule, where: str) -> Clause:
    if isinstance(node, RuleGroup):
        return _combine(node, _children(node, where))
    return render_rule(node, where)


def _combine(group: RuleGroup, clauses: list[Clause]) -> Clause:
    joined = any_of(clauses) if group.combinator == "or" else all_of(clauses)
    inner = joined if clauses else MATCH_ALL  # no rules: the group holds for every document
    return negate(inner) if group.negated else inner


def _not_allowed(operator: Operator, target: Target) -> str:
    allowed = ", ".join(operators_for(target))
    if target.whole_object:
        return (
            f"operator {shown(operator.key)} is not allowed on field {shown(target.name)}: the metadata object "
            f"only takes {allowed}; compare one key with metadata.<key>"
        )
    return (
        f"operator {shown(operator.key)} is not allowed on field {shown(target.name)}: "
        f"not supported for {target.described} fields (use {allowed})"
    )


def _values(operator: Operator, target: Target, rule: Rule) -> list[Value]:
    if operator.arity is Arity.NONE:
        return []  # react-querybuilder keeps whatever value the rule had before; it means nothing here
    if not rule.has_value:
        raise BadValue("a value is required")
    if operator.arity is Arity.ONE:
        if isinstance(rule.value, list):
            raise BadValue(f"expected one value, got a list {shown(rule.value)}")
        return [check(target.kind, rule.value, operator.role)]
    items = _as_list(rule.value)
    if len(items) > MAX_LIST_VALUES:
        raise BadValue(f"{len(items)} values given; the limit is {MAX_LIST_VALUES}")
    if operator.arity is Arity.TWO and len(items) != 2:
        raise BadValue(f"expected exactly two values (low, high), got {len(items)}: {shown(rule.value)}")
    if not items:
        raise BadValue(f"expected at least one value, got {shown(rule.value)}")
    values: list[Value] = []
    for index, item in enumerate(items):
        try:
            values.append(check(target.kind, item, operator.role))
        except BadValue as error:
            raise BadValue(f"value #{index + 1}: {error}") from None
    if operator.arity is Arity.TWO and not in_order(target.kind, values[0], values[1]):
        raise BadValue(f"the low value {shown(items[0])} is above the high value {shown(items[1])}")
    return values


def _as_list(raw: object) -> list[Any]:
    if isinstance(raw, list):
        return raw
    if isinstance(raw, str):
        parts = (part.replace("\\,", ",").strip() for part in _UNESCAPED_COMMA.split(raw))
        return [part for part in parts if part]
    return [raw]  # one scalar (or a wrong type, which `check` reports)
