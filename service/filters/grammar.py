"""The two shapes a filter may take, parsed into pydantic models before anything is rendered.

(a) react-querybuilder's RuleGroupType: `{"combinator", "not"?, "rules": [rule | group]}`, rules being
    `{"field", "operator", "value"}`; react-querybuilder's own `id`, `valueSource`, `disabled` and `muted` keys are
    accepted, with the library's meaning: `disabled` only locks a rule in its UI (the rule still counts), `muted`
    leaves it out.
(b) A plain map of field to value: a scalar means equals, an array means in, `{"gte": ...}` objects are ranges and
    null means the field has no value.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictStr,
    Tag,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from service.filters.errors import FilterError, shown
from service.filters.limits import MAX_GROUP_DEPTH, MAX_RULES

COMBINATORS = ("and", "or")
RANGE_OPERATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
RULE_KEYS = ("field", "operator", "value", "id", "valueSource", "disabled", "muted")
GROUP_KEYS = ("combinator", "not", "rules", "id", "disabled", "muted")
# Keys that only a rule group has: in a plain map they mean a malformed group. (`id` is also a request field.)
GROUP_ONLY_KEYS = ("combinator", "not", "rules")


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    field: StrictStr
    operator: StrictStr
    value: Any = None
    id: StrictStr | None = None
    valueSource: StrictStr = "value"
    disabled: StrictBool = False  # read-only in react-querybuilder's UI; the rule still applies
    muted: StrictBool = False  # left out, as react-querybuilder's formatQuery leaves it out

    @property
    def has_value(self) -> bool:
        """Whether `value` was given at all; `null` is a value (and a wrong one for most operators)."""
        return "value" in self.model_fields_set

    @field_validator("valueSource")
    @classmethod
    def _plain_values_only(cls, source: str) -> str:
        if source != "value":
            raise PydanticCustomError(
                "value_source",
                "valueSource {source} is not supported: rules compare a field with a value, not with another field",
                {"source": shown(source)},
            )
        return source


def _node_tag(raw: Any) -> str:
    if isinstance(raw, dict):
        return "group" if "rules" in raw or "combinator" in raw else "rule"
    return "group" if isinstance(raw, RuleGroup) else "rule"


Node = Annotated[
    Annotated["RuleGroup", Tag("group")] | Annotated[Rule, Tag("rule")],
    Discriminator(_node_tag),
]


class RuleGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    combinator: StrictStr = "and"
    negated: StrictBool = Field(default=False, alias="not")
    rules: list[Node]
    id: StrictStr | None = None
    disabled: StrictBool = False
    muted: StrictBool = False

    @field_validator("combinator")
    @classmethod
    def _known_combinator(cls, combinator: str) -> str:
        if combinator.lower() not in COMBINATORS:
            raise PydanticCustomError(
                "combinator", 'combinator must be "and" or "or", got {got}', {"got": shown(combinator)}
            )
        return combinator.lower()


RuleGroup.model_rebuild()


def parse_group(document: dict[str, Any]) -> RuleGroup:
    try:
        group = RuleGroup.model_validate(document)
    except ValidationError as error:
        raise _filter_error(error) from None
    _check_size(group)
    return group


def parse_map(document: dict[str, Any]) -> list[tuple[str, Rule]]:
    """The plain-map form as rules, each labelled with where it came from (`cost.gte`) for error messages."""
    conditions: list[tuple[str, Rule]] = []
    for key, value in document.items():
        if key in GROUP_ONLY_KEYS:
            raise FilterError(f'found {shown(key)} but no "rules": a rule group needs a "rules" array')
        if value is None:
            conditions.append((key, Rule(field=key, operator="null")))
        elif isinstance(value, list):
            conditions.append((key, Rule(field=key, operator="in", value=value)))
        elif isinstance(value, dict):
            conditions.extend(_range_rules(key, value))
        else:
            conditions.append((key, Rule(field=key, operator="=", value=value)))
    if len(conditions) > MAX_RULES:
        raise FilterError(f"filter has {len(conditions)} conditions; the limit is {MAX_RULES}")
    return conditions


def _range_rules(key: str, bounds: dict[str, Any]) -> list[tuple[str, Rule]]:
    allowed = ", ".join(RANGE_OPERATORS)
    unknown = [name for name in bounds if name not in RANGE_OPERATORS]
    if unknown or not bounds:
        found = f"got {', '.join(shown(name) for name in unknown)}" if unknown else "got an empty object"
        raise FilterError(f"a range takes only the keys {allowed}; {found}", key)
    for pair in (("gt", "gte"), ("lt", "lte")):
        if all(name in bounds for name in pair):
            raise FilterError(f"a range takes {pair[0]} or {pair[1]}, not both", key)
    return [
        (f"{key}.{name}", Rule(field=key, operator=RANGE_OPERATORS[name], value=value))
        for name, value in bounds.items()
    ]


def _check_size(root: RuleGroup) -> None:
    count = 0
    pending: list[tuple[RuleGroup, int, str]] = [(root, 1, "")]
    while pending:
        group, depth, where = pending.pop()
        if depth > MAX_GROUP_DEPTH:
            raise FilterError(f"groups nest {depth} deep here; the limit is {MAX_GROUP_DEPTH}", where)
        count += len(group.rules)
        if count > MAX_RULES:
            raise FilterError(f"filter has more than {MAX_RULES} rules and groups; the limit is {MAX_RULES}")
        prefix = f"{where}." if where else ""
        pending.extend(
            (child, depth + 1, f"{prefix}rules[{index}]")
            for index, child in enumerate(group.rules)
            if isinstance(child, RuleGroup)
        )


def _filter_error(error: ValidationError) -> FilterError:
    problems = error.errors(include_url=False)
    where, message = _explain(problems[0])
    if len(problems) > 1:
        more = len(problems) - 1
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return FilterError(message, where)


def _explain(problem: ErrorDetails) -> tuple[str | None, str]:
    """Where (`rules[2].rules[0]`) and what, in the client's terms rather than pydantic's."""
    parts: list[str] = []
    node = "group"
    key: str | None = None
    loc = problem["loc"]
    position = 0
    while position < len(loc):
        item = loc[position]
        following = loc[position + 1] if position + 1 < len(loc) else None
        if item == "rules" and isinstance(following, int):
            parts.append(f"rules[{following}]")
            position += 2
            # pydantic puts the discriminator's tag after the index; it says which model the item was read as.
            tag = loc[position] if position < len(loc) else None
            if tag in ("group", "rule"):
                node = str(tag)
                position += 1
        else:
            key = str(item)
            position += 1
    where = ".".join(parts) or None
    kind, given = problem["type"], problem.get("input")
    keys = ", ".join(RULE_KEYS if node == "rule" else GROUP_KEYS)
    if kind == "missing":
        return where, f"a {node} needs {shown(key)}"
    if kind == "extra_forbidden":
        return where, f"unknown key {shown(key)} in a {node}; a {node} takes {keys}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        hint = ""
        if isinstance(given, str) and given.lower() in COMBINATORS:
            hint = '; combinators between rules are not supported, set the group\'s "combinator" instead'
        return where, f"expected a rule or group object, got {shown(given)}{hint}"
    if kind == "string_type":
        return where, f"{shown(key)} must be a string, got {shown(given)}"
    if kind == "bool_type":
        return where, f"{shown(key)} must be true or false, got {shown(given)}"
    if kind == "list_type":
        return where, f"{shown(key)} must be an array of rules and groups, got {shown(given)}"
    if key is not None and kind not in ("combinator", "value_source"):
        return where, f"{shown(key)}: {problem['msg']}"
    return where, problem["msg"]
