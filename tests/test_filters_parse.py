"""The filter parser on its own: both forms, every operator's clause, every error path, the limits, and fuzzing.

What the clauses match on a real index is tests/test_filters_engine.py's job.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.fields import FIELDS, FILTERABLE
from service.filters import (
    MAX_CLAUSES,
    MAX_FILTER_LENGTH,
    MAX_GROUP_DEPTH,
    MAX_JSON_DEPTH,
    MAX_LIST_VALUES,
    MAX_PATTERN_LENGTH,
    MAX_RULES,
    OPERATORS,
    FilterError,
    parse_filter,
)
from service.filters.operators import operators_for
from service.filters.targets import resolve

NO_VALUE = object()


def rule(field: Any, operator: Any, value: Any = NO_VALUE, **extra: Any) -> dict[str, Any]:
    made: dict[str, Any] = {"field": field, "operator": operator, **extra}
    if value is not NO_VALUE:
        made["value"] = value
    return made


def group(*rules: Any, combinator: Any = "and", negated: bool | None = None, **extra: Any) -> dict[str, Any]:
    made = {"combinator": combinator, "rules": list(rules), **extra}
    if negated is not None:
        made["not"] = negated
    return made


def parse(document: Any) -> list[dict[str, Any]]:
    return parse_filter(json.dumps(document))


def one(field: str, operator: str, value: Any = NO_VALUE) -> dict[str, Any]:
    """The single clause one rule renders to."""
    clauses = parse(group(rule(field, operator, value)))
    assert len(clauses) == 1
    return clauses[0]


def failure(document: Any) -> FilterError:
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(FilterError) as caught:
        parse_filter(text)
    return caught.value


def not_(clause: dict[str, Any]) -> dict[str, Any]:
    return {"bool": {"must_not": [clause]}}


# --- no filter ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", [None, "", "   ", "{}", " { } ", '{"rules": []}', '{"combinator": "AND", "rules": []}']
)
def test_absent_or_empty_filter_is_no_clauses(text: str | None) -> None:
    assert parse_filter(text) == []


def test_filter_error_is_a_value_error_with_a_location() -> None:
    error = failure(group(rule("model", "=", "a"), group(rule("status", "=", "x"))))
    assert isinstance(error, ValueError)
    assert error.where == "rules[1].rules[0]"
    assert str(error).startswith("rules[1].rules[0]: ")


# --- the plain-map form ------------------------------------------------------------------------------------------


def test_plain_map_scalars_lists_ranges_and_metadata() -> None:
    clauses = parse(
        {"model": "gpt-4o", "status": [200, 201], "cost": {"gte": 0.01}, "cached": False, "metadata.env": "prod"}
    )
    assert clauses == [
        {"term": {"model": "gpt-4o"}},
        {"terms": {"status": [200, 201]}},
        {"range": {"cost": {"gte": 0.01}}},
        {"term": {"cached": False}},
        {"term": {"metadata.env": "prod"}},
    ]


def test_plain_map_id_is_the_request_field_not_a_group_key() -> None:
    assert parse({"id": "r1"}) == [{"term": {"id": "r1"}}]
    assert 'unknown field "disabled"' in failure({"disabled": True}).message


def test_plain_map_two_sided_range_and_null() -> None:
    assert parse({"prompt_tokens": {"gt": "10", "lte": 20}, "user_id": None}) == [
        {"range": {"prompt_tokens": {"gt": 10}}},
        {"range": {"prompt_tokens": {"lte": 20}}},
        not_({"exists": {"field": "user_id"}}),
    ]


@pytest.mark.parametrize(
    ("document", "where", "words"),
    [
        ({"cost": {}}, "cost", ["range", "gt, gte, lt, lte", "empty"]),
        ({"cost": {"gte": 1, "from": 2}}, "cost", ["range", '"from"']),
        ({"cost": {"gte": 1, "gt": 2}}, "cost", ["gt or gte"]),
        ({"cost": {"lt": 1, "lte": 2}}, "cost", ["lt or lte"]),
        ({"cost": {"gte": "cheap"}}, "cost.gte", ['"cost"', '">="', '"cheap"', "number"]),
        ({"status": []}, "status", ["at least one value"]),
        ({"status": [200, [201]]}, "status", ["value #2", "[201]"]),
        ({"tenant_id": "t"}, "tenant_id", ['unknown field "tenant_id"', "model", "metadata.<key>"]),
        ({"combinator": "and"}, None, ['"combinator"', '"rules"']),
        ({"model": "a", "not": True}, None, ['"not"', '"rules"']),
        ({"metadata": "x"}, "metadata", ['"metadata"', "null, notNull"]),
    ],
)
def test_plain_map_errors(document: dict[str, Any], where: str | None, words: list[str]) -> None:
    error = failure(document)
    assert error.where == where
    for word in words:
        assert word in error.message


# --- the rule-group form -----------------------------------------------------------------------------------------


def test_and_group_rules_go_straight_into_bool_filter() -> None:
    assert parse(group(rule("model", "=", "a"), rule("status", "=", 200))) == [
        {"term": {"model": "a"}},
        {"term": {"status": 200}},
    ]


def test_or_group_is_should_with_minimum_should_match() -> None:
    assert parse(group(rule("model", "=", "a"), rule("status", "=", 200), combinator="OR")) == [
        {"bool": {"should": [{"term": {"model": "a"}}, {"term": {"status": 200}}], "minimum_should_match": 1}}
    ]


def test_not_negates_the_whole_group_not_each_rule() -> None:
    # must_not [a, b] would mean (not a) and (not b); not (a and b) needs the and inside.
    assert parse(group(rule("model", "=", "a"), rule("status", "=", 200), negated=True)) == [
        not_({"bool": {"filter": [{"term": {"model": "a"}}, {"term": {"status": 200}}]}})
    ]


def test_nested_groups() -> None:
    document = group(
        rule("cached", "=", "true"),
        group(rule("model", "=", "a"), group(rule("status", ">=", "500"), negated=True), combinator="or"),
    )
    assert parse(document) == [
        {"term": {"cached": True}},
        {
            "bool": {
                "should": [{"term": {"model": "a"}}, not_({"range": {"status": {"gte": 500}}})],
                "minimum_should_match": 1,
            }
        },
    ]


def test_empty_groups_match_everything_and_their_negation_nothing() -> None:
    assert parse(group(group(), rule("model", "=", "a"), combinator="or")) == [
        {"bool": {"should": [{"match_all": {}}, {"term": {"model": "a"}}], "minimum_should_match": 1}}
    ]
    # An empty group imposes nothing, negated or not (react-querybuilder's SQL: `1 = 1`; Elasticsearch: `{}`).
    assert parse(group(negated=True)) == []
    assert parse(group(group(negated=True), rule("model", "=", "a"))) == [{"match_all": {}}, {"term": {"model": "a"}}]


def test_react_querybuilder_extras_are_accepted_muted_items_left_out_and_disabled_ones_kept() -> None:
    """As react-querybuilder's formatQuery: `disabled` only locks a rule in the UI, `muted` leaves it out."""
    document = {
        "id": "root",
        "combinator": "and",
        "not": False,
        "rules": [
            rule("model", "=", "a", id="r1", valueSource="value"),
            rule("status", "=", "nonsense", id="r2", muted=True),
            {"id": "g1", "combinator": "or", "muted": True, "rules": [rule("nope", "=", 1)]},
            rule("cached", "=", True, id="r3", disabled=True),
            {"id": "g2", "combinator": "or", "disabled": True, "rules": [rule("status", "=", 1)]},
        ],
    }
    assert parse(document) == [{"term": {"model": "a"}}, {"term": {"cached": True}}, {"term": {"status": 1}}]
    assert parse({**document, "muted": True}) == []
    assert parse({**document, "muted": False, "disabled": True}) == parse(document)
    assert "nonsense" in failure({**document, "rules": [rule("status", "=", "nonsense", disabled=True)]}).message


@pytest.mark.parametrize(
    "unfinished",
    [
        rule("~", "=", "500"),
        rule("status", "~", "500"),
        rule("status", "in", ""),
        rule("status", "in", []),
        rule("status", "notIn", " , "),
        rule("status", "between", "200"),
        rule("status", "between", "200,"),
        rule("status", "notBetween", ["200"]),
        rule("model", "notIn", None),  # formatQuery reads null, a missing value or a boolean as no values
        rule("status", "between"),
        rule("cached", "in", True),
        rule("status", "between", ["200", ""]),  # an empty array item is a bound not typed in yet
    ],
)
def test_rules_left_unfinished_in_the_ui_are_left_out(unfinished: dict[str, Any]) -> None:
    assert parse(group(unfinished, rule("cached", "=", True))) == [{"term": {"cached": True}}]
    assert parse(group(unfinished, negated=True)) == []  # all that is left is an empty group


def test_an_empty_string_in_a_list_array_is_a_value_as_in_format_query() -> None:
    """formatQuery renders `in` [" ", ""] as `user_id in ('', '')`: an empty user id or URL can be asked for."""
    assert parse(group(rule("user_id", "in", [" ", ""]))) == [{"terms": {"user_id": ["", ""]}}]
    assert parse(group(rule("url", "in", ["", "https://x"]))) == [{"terms": {"url": ["", "https://x"]}}]
    assert parse(group(rule("user_id", "in", " , "))) == []  # a typed string's blanks are no values


def test_between_takes_the_first_two_values_and_orders_numbers() -> None:
    expected = [{"range": {"status": {"gte": 200, "lte": 300}}}]
    assert parse(group(rule("status", "between", "200,300,400"))) == expected
    assert parse(group(rule("status", "between", "300,200"))) == expected
    assert parse(group(rule("cost", "between", [2.5, 0.5]))) == [{"range": {"cost": {"gte": 0.5, "lte": 2.5}}}]
    # Only numbers are put in order; reversed strings or dates say so (SQL would silently match nothing).
    assert "above the high value" in failure(group(rule("model", "between", "z,a"))).message


def test_operator_names_are_matched_case_insensitively() -> None:
    assert one("model", "BEGINSWITH", "gpt") == one("model", "beginsWith", "gpt")


@pytest.mark.parametrize(
    ("document", "where", "words"),
    [
        ({"rules": {}}, None, ['"rules"', "array"]),
        (group(rule("model", "=", "a"), combinator="xor"), None, ['"and" or "or"', '"xor"']),
        ({"rules": [], "not": "yes"}, None, ['"not"', "true or false"]),
        ({"rules": [], "extra": 1}, None, ['unknown key "extra"', "group", "combinator"]),
        (group(5), "rules[0]", ["rule or group", "5"]),
        (group(rule("model", "=", "a"), "or", rule("model", "=", "b")), "rules[1]", ['"or"', "combinator"]),
        (group({"operator": "=", "value": 1}), "rules[0]", ['needs "field"']),
        (group({"field": "model", "value": 1}), "rules[0]", ['needs "operator"']),
        (group(rule(7, "=", 1)), "rules[0]", ['"field"', "string", "7"]),
        (group(rule("model", None, 1)), "rules[0]", ['"operator"', "string"]),
        (group(rule("model", "=", "a", colour="red")), "rules[0]", ['unknown key "colour"', "rule", "valueSource"]),
        (group(rule("model", "=", "a", valueSource="field")), "rules[0]", ["valueSource", '"field"']),
        (group(rule("model", "=", "a", disabled="no")), "rules[0]", ['"disabled"', "true or false"]),
        (group(group(group(rule("model", "~~", "a")))), "rules[0].rules[0].rules[0]", ['unknown operator "~~"', "="]),
        (group({"combinator": "and"}), "rules[0]", ['needs "rules"']),
        (group(rule("model", "=", "a"), group(rule("nope", "=", 1))), "rules[1].rules[0]", ['unknown field "nope"']),
    ],
)
def test_group_form_errors(document: Any, where: str | None, words: list[str]) -> None:
    error = failure(document)
    assert error.where == where
    for word in words:
        assert word in error.message, error.message


def test_several_problems_are_counted() -> None:
    assert "(and 1 more problem)" in failure(group(5, 6)).message


# --- JSON and top-level shape ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{", ["not valid JSON", "character 2"]),
        ("{'model': 'a'}", ["not valid JSON"]),
        ("[]", ["JSON object", "an array"]),
        ('"model"', ["JSON object", "a string"]),
        ("null", ["JSON object", "null"]),
        ("42", ["JSON object", "a number"]),
        ('{"cost": NaN}', ["NaN"]),
        ('{"cost": -Infinity}', ["-Infinity"]),
        ('{"cost": 1e400}', ["1e400", "too large"]),
        ('{"model": "a", "model": "b"}', ['"model"', "twice"]),
        ('{"status": ' + "9" * 5000 + "}", ["not valid JSON"]),
    ],
)
def test_bad_json(text: str, words: list[str]) -> None:
    error = failure(text)
    for word in words:
        assert word in error.message, error.message


# --- operators by field kind: the clause each renders to ---------------------------------------------------------

RENDERED = [
    # keyword
    ("model", "=", "gpt-4o", {"term": {"model": "gpt-4o"}}),
    ("model", "!=", "gpt-4o", not_({"term": {"model": "gpt-4o"}})),
    ("model", "<", "m", {"range": {"model": {"lt": "m"}}}),
    ("model", ">", "m", {"range": {"model": {"gt": "m"}}}),
    ("model", "<=", "m", {"range": {"model": {"lte": "m"}}}),
    ("model", ">=", "m", {"range": {"model": {"gte": "m"}}}),
    ("model", "contains", "a*b?c\\", {"wildcard": {"model": {"value": "*a\\*b\\?c\\\\*"}}}),
    ("model", "beginsWith", "gpt*", {"prefix": {"model": {"value": "gpt*"}}}),
    ("model", "endsWith", "?mini", {"wildcard": {"model": {"value": "*\\?mini"}}}),
    ("model", "doesNotContain", "4", not_({"wildcard": {"model": {"value": "*4*"}}})),
    ("model", "doesNotBeginWith", "gpt", not_({"prefix": {"model": {"value": "gpt"}}})),
    ("model", "doesNotEndWith", "o", not_({"wildcard": {"model": {"value": "*o"}}})),
    ("model", "null", None, not_({"exists": {"field": "model"}})),
    ("model", "notNull", "ignored", {"exists": {"field": "model"}}),
    ("model", "in", "a, b\\,c ,,", {"terms": {"model": ["a", "b,c"]}}),
    ("model", "notIn", ["a", 4], not_({"terms": {"model": ["a", "4"]}})),
    ("model", "between", "a,m", {"range": {"model": {"gte": "a", "lte": "m"}}}),
    ("model", "notBetween", ["a", "m"], not_({"range": {"model": {"gte": "a", "lte": "m"}}})),
    ("user_id", "=", 42, {"term": {"user_id": "42"}}),
    # text
    ("prompt", "=", "the lighthouse", {"match_phrase": {"prompt": "the lighthouse"}}),
    ("prompt", "!=", "lighthouse", not_({"match_phrase": {"prompt": "lighthouse"}})),
    ("prompt", "contains", "lighthouse", {"match_phrase": {"prompt": "lighthouse"}}),
    ("prompt", "doesNotContain", "lighthouse", not_({"match_phrase": {"prompt": "lighthouse"}})),
    ("completion", "beginsWith", "nor", {"match_bool_prefix": {"completion": {"query": "nor"}}}),
    ("completion", "doesNotBeginWith", "north", not_({"match_bool_prefix": {"completion": {"query": "north"}}})),
    (
        "prompt",
        "in",
        ["a b", "c"],
        {
            "bool": {
                "should": [{"match_phrase": {"prompt": "a b"}}, {"match_phrase": {"prompt": "c"}}],
                "minimum_should_match": 1,
            }
        },
    ),
    ("prompt", "notIn", "only", not_({"match_phrase": {"prompt": "only"}})),
    ("request_body", "null", None, not_({"exists": {"field": "request_body"}})),
    ("request_body", "notNull", None, {"exists": {"field": "request_body"}}),
    # integer
    ("status", "=", "200", {"term": {"status": 200}}),
    ("status", "=", 200.0, {"term": {"status": 200}}),
    ("status", "!=", " 404 ", not_({"term": {"status": 404}})),
    ("prompt_tokens", "<", "1e3", {"range": {"prompt_tokens": {"lt": 1000}}}),
    ("completion_tokens", ">=", -5, {"range": {"completion_tokens": {"gte": -5}}}),
    ("status", "in", "200, 201", {"terms": {"status": [200, 201]}}),
    ("status", "between", [200, "299"], {"range": {"status": {"gte": 200, "lte": 299}}}),
    ("status", "notBetween", "200,200", not_({"range": {"status": {"gte": 200, "lte": 200}}})),
    ("status", "null", "", not_({"exists": {"field": "status"}})),
    # number
    ("cost", "=", "0.5", {"term": {"cost": 0.5}}),
    ("cost", ">", 1, {"range": {"cost": {"gt": 1.0}}}),
    ("cost", "<=", ".25", {"range": {"cost": {"lte": 0.25}}}),
    ("cost", "between", "0, 1.5e-2", {"range": {"cost": {"gte": 0.0, "lte": 0.015}}}),
    ("cost", "notIn", [1, 2.5], not_({"terms": {"cost": [1.0, 2.5]}})),
    ("cost", "=", "-0", {"term": {"cost": 0.0}}),
    # boolean
    ("cached", "=", "TRUE", {"term": {"cached": True}}),
    ("streamed", "!=", False, not_({"term": {"streamed": False}})),
    ("cached", "in", "true,false", {"terms": {"cached": [True, False]}}),
    ("cached", "notNull", None, {"exists": {"field": "cached"}}),
    # date
    ("createdAt", "=", "2026-01-02", {"range": {"createdAt": {"gte": "2026-01-02||/d", "lte": "2026-01-02||/d"}}}),
    (
        "createdAt",
        "=",
        "2026-01-02T03:04:05+02:00",
        {"range": {"createdAt": {"gte": "2026-01-02T01:04:05Z", "lte": "2026-01-02T01:04:05Z"}}},
    ),
    ("createdAt", "<", "2026-01-02", {"range": {"createdAt": {"lt": "2026-01-02||/d"}}}),
    ("updatedAt", ">", "2026-01-02T00:00:00", {"range": {"updatedAt": {"gt": "2026-01-02T00:00:00Z"}}}),
    ("createdAt", "<=", "2026-01-02 10:30Z", {"range": {"createdAt": {"lte": "2026-01-02T10:30:00Z"}}}),
    ("createdAt", ">=", "2026-01-02T10:30:00.250Z", {"range": {"createdAt": {"gte": "2026-01-02T10:30:00.250000Z"}}}),
    (
        "createdAt",
        "between",
        "2026-01-01,2026-01-31",
        {"range": {"createdAt": {"gte": "2026-01-01||/d", "lte": "2026-01-31||/d"}}},
    ),
    (
        "createdAt",
        "notBetween",
        ["2026-01-01", "2026-01-01"],
        not_({"range": {"createdAt": {"gte": "2026-01-01||/d", "lte": "2026-01-01||/d"}}}),
    ),
    ("createdAt", "in", ["2026-01-01"], {"range": {"createdAt": {"gte": "2026-01-01||/d", "lte": "2026-01-01||/d"}}}),
    # ip
    ("ip", "=", "10.1.2.3", {"term": {"ip": "10.1.2.3"}}),
    ("ip", "=", "10.1.2.3/8", {"term": {"ip": "10.0.0.0/8"}}),
    ("ip", "!=", "2001:DB8::0001", not_({"term": {"ip": "2001:db8::1"}})),
    ("ip", "in", "10.0.0.1, ::1", {"terms": {"ip": ["10.0.0.1", "::1"]}}),
    ("ip", "=", "::ffff:10.0.0.0/120", {"term": {"ip": "10.0.0.0/24"}}),
    ("ip", "=", "::ffff:0:0/95", {"term": {"ip": "::fffe:0:0/95"}}),
    (
        "ip",
        "notIn",
        ["10.0.0.0/8", "::1"],
        not_(
            {"bool": {"should": [{"term": {"ip": "10.0.0.0/8"}}, {"term": {"ip": "::1"}}], "minimum_should_match": 1}}
        ),
    ),
    ("ip", "<", "10.0.0.0", {"range": {"ip": {"lt": "10.0.0.0"}}}),
    ("ip", "between", "10.0.0.0,10.255.255.255", {"range": {"ip": {"gte": "10.0.0.0", "lte": "10.255.255.255"}}}),
    # metadata keys, by either name
    ("metadata.env", "=", "prod", {"term": {"metadata.env": "prod"}}),
    ("x-metadata-env", "=", True, {"term": {"metadata.env": "true"}}),
    ("X-Metadata-Team_1", "in", [1, "b"], {"terms": {"metadata.team_1": ["1", "b"]}}),
    ("metadata.env", "contains", "ro*", {"wildcard": {"metadata.env": {"value": "*ro\\**"}}}),
    ("metadata.env", "beginsWith", "pr", {"prefix": {"metadata.env": {"value": "pr"}}}),
    ("metadata.env", "endsWith", "d", {"wildcard": {"metadata.env": {"value": "*d"}}}),
    ("metadata.env", ">", "m", {"range": {"metadata.env": {"gt": "m"}}}),
    ("metadata.env", "notNull", None, {"exists": {"field": "metadata.env"}}),
    # the metadata object itself: presence only
    ("metadata", "null", None, not_({"exists": {"field": "metadata"}})),
    ("metadata", "notNull", None, {"exists": {"field": "metadata"}}),
]


@pytest.mark.parametrize(("field", "operator", "value", "clause"), RENDERED)
def test_operator_renders(field: str, operator: str, value: Any, clause: dict[str, Any]) -> None:
    assert one(field, operator, value) == clause


# --- which operator goes with which kind of field ----------------------------------------------------------------

EQUALITY = {"=", "!=", "in", "notIn", "null", "notNull"}
ORDERING = {"<", ">", "<=", ">=", "between", "notBetween"}
SUBSTRING = {"contains", "doesNotContain", "beginsWith", "doesNotBeginWith"}
SUFFIX = {"endsWith", "doesNotEndWith"}
MATRIX = {
    "model": EQUALITY | ORDERING | SUBSTRING | SUFFIX,  # keyword
    "metadata.env": EQUALITY | ORDERING | SUBSTRING | SUFFIX,  # metadata key
    "prompt": EQUALITY | SUBSTRING,  # text
    "status": EQUALITY | ORDERING,  # integer
    "cost": EQUALITY | ORDERING,  # number
    "createdAt": EQUALITY | ORDERING,  # date
    "ip": EQUALITY | ORDERING,  # ip
    "cached": EQUALITY,  # boolean
    "metadata": {"null", "notNull"},  # the object
}


def test_operator_table_is_react_querybuilders_defaults_with_descriptions() -> None:
    assert set(OPERATORS) == EQUALITY | ORDERING | SUBSTRING | SUFFIX
    for operator in OPERATORS.values():
        assert operator.description
        assert operator.describe()["operator"] == operator.key


@pytest.mark.parametrize(("field", "allowed"), MATRIX.items())
def test_operator_kind_matrix(field: str, allowed: set[str]) -> None:
    assert set(operators_for(resolve(field))) == allowed


def test_every_field_of_the_table_is_covered_by_the_matrix() -> None:
    covered = {resolve(name).kind for name in MATRIX}
    assert {FIELDS[name].kind for name in FILTERABLE} <= covered


@pytest.mark.parametrize(
    ("field", "operator"),
    [(field, op) for field, allowed in MATRIX.items() for op in sorted(set(OPERATORS) - allowed)],
)
def test_operator_not_allowed_names_operator_and_field(field: str, operator: str) -> None:
    error = failure(group(rule(field, operator, "1")))
    assert f'operator "{operator}" is not allowed on field "{field}"' in error.message
    if field == "prompt":
        assert "not supported for text fields" in error.message


# --- values checked against the field's kind ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "operator", "value", "words"),
    [
        ("status", "=", 1.5, ["whole number", "1.5"]),
        ("status", "=", "1.5", ["whole number"]),
        ("status", "=", 2**31, ["out of range", "2147483647"]),
        ("status", "<", -(2**31) - 1, ["out of range"]),
        ("status", "=", "1" * 5000, ["out of range"]),
        ("status", "=", True, ["whole number"]),
        ("status", "=", "two hundred", ["whole number"]),
        ("status", "=", "1_000", ["whole number"]),
        ("status", "=", "NaN", ["whole number"]),
        ("status", "=", None, ["whole number", "null"]),
        ("status", "=", {"gte": 1}, ["whole number"]),
        ("status", "=", [200], ["one value", "[200]"]),
        ("prompt_tokens", "in", [1, "x"], ["value #2", '"x"']),
        ("cost", "=", "cheap", ["finite number"]),
        ("cost", "=", "inf", ["finite number"]),
        ("cost", "=", "1e999", ["out of range"]),
        ("cost", "=", 10**400, ["out of range"]),
        ("cost", "=", False, ["finite number"]),
        ("cached", "=", "yes", ["true or false"]),
        ("cached", "=", 1, ["true or false"]),
        ("createdAt", "=", "yesterday", ["ISO 8601"]),
        ("createdAt", "=", "2026-13-01", ["ISO 8601"]),
        ("createdAt", "=", 1767225600000, ["ISO 8601"]),
        ("createdAt", ">", "0001-01-01T00:00:00+05:00", ["ISO 8601"]),
        ("ip", "=", "10.0.0.256", ["IP address"]),
        ("ip", "=", "fe80::1%eth0", ["zone"]),
        ("ip", "=", 167772161, ["IP address"]),
        ("ip", "<", "10.0.0.0/8", ["CIDR", "=, !=, in and notIn"]),
        ("ip", "between", ["10.0.0.0/8", "11.0.0.0"], ["CIDR"]),
        ("ip", "in", ["10.0.0.0/33"], ["CIDR block"]),
        ("model", "=", None, ["string"]),
        ("model", "=", "\ud800", ["Unicode"]),
        ("metadata.env", "=", [], ["one value"]),
        ("prompt", "=", "   ", ["words"]),
        ("prompt", "contains", "", ["words"]),
        ("status", "between", [1, "x"], ["value #2", "whole number"]),
        ("createdAt", "between", ["2026-02-01", "2026-01-31T23:59:59Z"], ["low value"]),
        ("ip", "between", ["10.0.0.1", "::2"], ["low value"]),  # IPv4 sorts as IPv4-mapped IPv6
        ("model", "between", "b,a", ["low value"]),
        ("model", "=", NO_VALUE, ["a value is required"]),
        ("model", "contains", "x" * (MAX_PATTERN_LENGTH + 1), [str(MAX_PATTERN_LENGTH)]),
    ],
)
def test_bad_values(field: str, operator: str, value: Any, words: list[str]) -> None:
    error = failure(group(rule(field, operator, value)))
    assert error.where == "rules[0]"
    assert f'field "{field}", operator "{operator}"' in error.message
    for word in words:
        assert word in error.message, error.message


def test_between_a_day_and_a_moment_in_that_day_is_in_order() -> None:
    assert one("createdAt", "between", ["2026-01-31T12:00:00Z", "2026-01-31"]) == {
        "range": {"createdAt": {"gte": "2026-01-31T12:00:00Z", "lte": "2026-01-31||/d"}}
    }


def test_long_values_are_cut_short_in_messages() -> None:
    error = failure(group(rule("status", "=", "x" * 10_000)))
    assert len(str(error)) < 300
    assert "…" in error.message


@pytest.mark.parametrize("name", ["metadata.", "metadata.a.b", "metadata.é", "x-metadata-" + "k" * 65, "metadata.a\n"])
def test_bad_metadata_keys(name: str) -> None:
    error = failure(group(rule(name, "=", "x")))
    assert "metadata key" in error.message


# --- limits ------------------------------------------------------------------------------------------------------


def test_limit_on_text_length() -> None:
    text = json.dumps({"model": "x" * MAX_FILTER_LENGTH})
    error = failure(text)
    assert str(MAX_FILTER_LENGTH) in error.message and "characters" in error.message


def test_limit_on_json_depth() -> None:
    error = failure("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
    assert str(MAX_JSON_DEPTH) in error.message
    # Brackets inside strings are not nesting.
    assert parse({"model": "[" * 100}) == [{"term": {"model": "[" * 100}}]


def test_deep_unbalanced_input_is_a_filter_error() -> None:
    for text in ("[" * 30_000, "{" * 30_000, '{"a":' * 5000, '"\\"' * 10_000):
        with pytest.raises(FilterError):
            parse_filter(text)


def nested(depth: int) -> dict[str, Any]:
    document = group(rule("model", "=", "a"))
    for _ in range(depth - 1):
        document = group(document)
    return document


def test_limit_on_group_depth() -> None:
    assert parse(nested(MAX_GROUP_DEPTH)) == [{"term": {"model": "a"}}]
    error = failure(nested(MAX_GROUP_DEPTH + 1))
    assert f"limit is {MAX_GROUP_DEPTH}" in error.message
    assert error.where == ".".join(["rules[0]"] * MAX_GROUP_DEPTH)


def test_limit_on_rule_count() -> None:
    assert len(parse(group(*[rule("status", "=", i) for i in range(MAX_RULES)]))) == MAX_RULES
    error = failure(group(*[rule("status", "=", i) for i in range(MAX_RULES + 1)]))
    assert str(MAX_RULES) in error.message and "rules" in error.message
    error = failure({f"metadata.k{i}": "v" for i in range(MAX_RULES + 1)})
    assert str(MAX_RULES) in error.message


def test_limit_on_list_values() -> None:
    assert one("status", "in", list(range(MAX_LIST_VALUES))) == {"terms": {"status": list(range(MAX_LIST_VALUES))}}
    error = failure(group(rule("status", "in", list(range(MAX_LIST_VALUES + 1)))))
    assert str(MAX_LIST_VALUES) in error.message
    error = failure(group(rule("status", "in", ",".join("1" * (MAX_LIST_VALUES + 1)))))
    assert str(MAX_LIST_VALUES) in error.message


def test_limit_on_clauses_counts_expanded_lists() -> None:
    half = MAX_CLAUSES // 2
    phrases = [f"w{i}" for i in range(half)]
    assert len(parse(group(rule("prompt", "in", phrases), rule("completion", "in", phrases)))) == 2
    error = failure(group(rule("prompt", "in", phrases), rule("completion", "in", [*phrases, "one more"])))
    assert str(MAX_CLAUSES) in error.message and "clauses" in error.message


# --- fuzzing: nothing but FilterError, and whatever parses is plain JSON -----------------------------------------

FIELD_NAMES = [
    *FIELDS,
    "metadata.env",
    "x-metadata-team",
    "tenant_id",
    "metadata.",
    "",
    "rules",
]  # size_chars too: refused
OPERATOR_NAMES = [*OPERATORS, "IN", "like", "", "=="]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        ["200", "1.5", "true", "2026-01-02", "2026-01-02T03:04:05Z", "10.0.0.0/8", "::1", "a,b", "1,2", "*", ""]
    ),
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@st.composite
def rule_like(draw: st.DrawFn) -> dict[str, Any]:
    made: dict[str, Any] = {}
    if draw(st.booleans()):
        made["field"] = draw(st.sampled_from(FIELD_NAMES) | json_values)
    if draw(st.booleans()) or "field" in made:
        made["operator"] = draw(st.sampled_from(OPERATOR_NAMES) | json_values)
    if draw(st.booleans()):
        made["value"] = draw(json_values)
    if draw(st.integers(0, 9)) == 0:
        made[draw(st.sampled_from(["id", "valueSource", "disabled", "not", "extra"]))] = draw(json_values)
    return made


group_like = st.recursive(
    rule_like(),
    lambda children: st.fixed_dictionaries(
        {"rules": st.lists(children, max_size=4)},
        optional={"combinator": st.sampled_from(["and", "OR", "xor"]) | json_values, "not": st.booleans() | scalars},
    ),
    max_leaves=10,
)
# Mostly well-formed rules with values of every kind, so the fuzzing reaches value checks and rendering rather
# than stopping at the first malformed key.
plausible_values = st.sampled_from(
    [
        "200",
        200,
        1.5,
        "0.25",
        -3,
        2**31,
        "true",
        False,
        "",
        " ",
        "abc",
        "a*b?c\\",
        "gpt-4o",
        "2026-01-02",
        "2026-01-02T03:04:05+05:00",
        "2026-02-30",
        "10.0.0.1",
        "10.0.0.0/8",
        "::1",
        "fe80::/10",
        "1,2",
        "2026-01-01,2026-01-31",
        "a\\,b,c",
        "10.0.0.0,10.0.0.9",
        [],
        [1, 2],
        ["a", "b"],
        ["2026-01-01", "2026-01-31"],
        ["10.0.0.0/8", "::1"],
        [None],
        [[1]],
        {"a": 1},
        None,
        "x" * 300,
    ]
)
plausible_rules = st.fixed_dictionaries(
    {"field": st.sampled_from(FIELD_NAMES), "operator": st.sampled_from(OPERATOR_NAMES)},
    optional={"value": plausible_values | scalars, "disabled": st.booleans()},
)
plausible_groups = st.recursive(
    plausible_rules,
    lambda children: st.fixed_dictionaries(
        {"combinator": st.sampled_from(["and", "or", "AND"]), "rules": st.lists(children, max_size=4)},
        optional={"not": st.booleans()},
    ),
    max_leaves=8,
).map(lambda node: node if "rules" in node else {"combinator": "and", "rules": [node]})
plain_maps = st.dictionaries(
    st.sampled_from(FIELD_NAMES) | st.text(max_size=8),
    json_values
    | plausible_values
    | st.dictionaries(st.sampled_from(["gt", "gte", "lt", "lte"]), plausible_values | scalars, min_size=1, max_size=2)
    | st.lists(scalars, max_size=4),
    max_size=4,
)


def assert_only_filter_errors(text: str) -> None:
    try:
        clauses = parse_filter(text)
    except FilterError as error:
        assert str(error)
        return
    # The clauses go into a request body: they must be plain, finite JSON.
    json.dumps(clauses, allow_nan=False)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text(max_size=200))
def test_fuzz_any_text(text: str) -> None:
    assert_only_filter_errors(text)


@FUZZ
@given(json_values)
def test_fuzz_any_json(document: Any) -> None:
    assert_only_filter_errors(json.dumps(document))


@FUZZ
@given(group_like)
def test_fuzz_rule_groups(document: Any) -> None:
    assert_only_filter_errors(json.dumps(document))


@FUZZ
@given(plausible_groups)
def test_fuzz_plausible_rule_groups(document: Any) -> None:
    assert_only_filter_errors(json.dumps(document))


@FUZZ
@given(plain_maps)
def test_fuzz_plain_maps(document: Any) -> None:
    assert_only_filter_errors(json.dumps(document))


@FUZZ
@given(group_like, st.integers(0, 200), st.text(alphabet='{}[]",:\\ 0e-', max_size=5))
def test_fuzz_damaged_json(document: Any, cut: int, noise: str) -> None:
    text = json.dumps(document)
    assert_only_filter_errors(text[:cut] + noise + text[cut:])


def test_every_kind_is_exercised_by_the_fuzzers() -> None:
    filterable_kinds = {row.kind for row in FIELDS.values() if row.filterable}
    exercised = {resolve(name).kind for name in FIELD_NAMES if name in FILTERABLE or name.startswith("metadata.e")}
    assert exercised == filterable_kinds


def test_the_plain_map_form_reports_what_a_rule_group_would_leave_out() -> None:
    """No UI builds the plain map, so an empty list there is a mistake worth naming, not a rule being edited."""
    assert "at least one value" in failure({"model": []}).message


def test_a_field_the_table_keeps_unfilterable_is_refused_like_an_unknown_one() -> None:
    unfilterable = [name for name, row in FIELDS.items() if not row.filterable]
    assert unfilterable  # size_chars: internal to the answer-size check
    for name in unfilterable:
        assert f"unknown field {json.dumps(name)}" in failure(group(rule(name, "=", 1))).message
