"""Parsed rules and groups to OpenSearch clauses for `bool.filter`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from core.fields import Kind
from service.filters.errors import FilterError, shown
from service.filters.grammar import Rule, RuleGroup
from service.filters.limits import MAX_CLAUSES, MAX_LIST_VALUES
from service.filters.operators import Arity, Operator, find_operator, operators_for
from service.filters.queries import MATCH_ALL, Clause, all_of, any_of, negate, queries_for
from service.filters.targets import Target, UnknownField, resolve
from service.filters.values import BadValue, Value, check, in_order

# react-querybuilder's placeholder for "no field / operator chosen yet".
PLACEHOLDER = "~"
NUMERIC_KINDS = frozenset({Kind.INTEGER, Kind.NUMBER})
# react-querybuilder joins list values with commas and escapes commas inside a value as `\,`.
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")


def render_group(root: RuleGroup) -> list[Clause]:
    """The top-level group's clauses. An AND group's rules go straight into `bool.filter` (which ANDs them)."""
    if root.muted:
        return []
    clauses = _children(root, "")
    if not clauses or (root.combinator == "and" and not root.negated):
        return clauses
    return [_combine(root, clauses)]


def render_map(conditions: Sequence[tuple[str, Rule]]) -> list[Clause]:
    clauses = [render_rule(rule, where, strict=True) for where, rule in conditions]
    return [clause for clause in clauses if clause is not None]


def render_rule(rule: Rule, where: str, strict: bool = False) -> Clause | None:
    """The rule's clause, or None for a rule left unfinished in react-querybuilder's UI (placeholder field or
    operator, too few values), which its formatQuery leaves out. `strict` (the plain-map form, which no UI
    builds) reports those instead."""
    if not strict and PLACEHOLDER in (rule.field, rule.operator):
        return None
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
    if not strict and _too_few_values(operator, rule):
        return None
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
    rendered = (
        _render_node(child, f"{prefix}rules[{index}]") for index, child in enumerate(group.rules) if not child.muted
    )
    return [clause for clause in rendered if clause is not None]


def _too_few_values(operator: Operator, rule: Rule) -> bool:
    """`in`/`notIn` with no values or `between`/`notBetween` with fewer than two: react-querybuilder's UI makes
    these mid-edit, and its formatQuery leaves them out. A missing, null or boolean value gives it no list either
    (tests/test_filters_differential.py checks each against the library)."""
    if operator.arity not in (Arity.LIST, Arity.TWO):
        return False
    if not rule.has_value or rule.value is None or isinstance(rule.value, bool):
        return True
    if operator.arity is Arity.LIST:
        return not _as_list(rule.value)
    if operator.arity is Arity.TWO:
        bounds = _as_list(rule.value, keep_empty=True)[:2]
        return len(bounds) < 2 or "" in bounds  # a bound not typed in yet
    return False


def _render_node(node: RuleGroup | Rule, where: str) -> Clause | None:
    if isinstance(node, RuleGroup):
        return _combine(node, _children(node, where))
    return render_rule(node, where)


def _combine(group: RuleGroup, clauses: list[Clause]) -> Clause:
    if not clauses:
        # No rules (or only left-out ones): the group imposes nothing, negated or not, as react-querybuilder's SQL
        # (`1 = 1`) and Elasticsearch (`{}`) outputs have it.
        return MATCH_ALL
    joined = any_of(clauses) if group.combinator == "or" else all_of(clauses)
    return negate(joined) if group.negated else joined


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
    items = _as_list(rule.value, keep_empty=operator.arity is Arity.TWO)
    if len(items) > MAX_LIST_VALUES:
        raise BadValue(f"{len(items)} values given; the limit is {MAX_LIST_VALUES}")
    if operator.arity is Arity.TWO:
        if len(items) < 2:
            raise BadValue(f"expected two values (low, high), got {len(items)}: {shown(rule.value)}")
        items = items[:2]  # as formatQuery: further values are ignored
    if not items:
        raise BadValue(f"expected at least one value, got {shown(rule.value)}")
    values: list[Value] = []
    for index, item in enumerate(items):
        try:
            values.append(check(target.kind, item, operator.role))
        except BadValue as error:
            raise BadValue(f"value #{index + 1}: {error}") from None
    if operator.arity is Arity.TWO and not in_order(target.kind, values[0], values[1]):
        if target.kind in NUMERIC_KINDS:
            return [values[1], values[0]]  # formatQuery puts numeric bounds in order
        raise BadValue(f"the low value {shown(items[0])} is above the high value {shown(items[1])}")
    return values


def _as_list(raw: object, keep_empty: bool = False) -> list[Any]:
    """As react-querybuilder's toArray: array items trimmed (an empty string stays a value, `url in ("")` matches
    an empty URL); a string split on unescaped commas and trimmed, blanks dropped unless `keep_empty` (for the two
    bounds of a range, where a blank one means the rule is still being edited)."""
    if isinstance(raw, list):
        return [item.strip() if isinstance(item, str) else item for item in raw]
    if isinstance(raw, str):
        parts = [part.replace("\\,", ",").strip() for part in _UNESCAPED_COMMA.split(raw)]
        return parts if keep_empty else [part for part in parts if part]
    return [raw]  # one scalar (or a wrong type, which `check` reports)
