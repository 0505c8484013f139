"""The lifecycle settings (core.index_settings): their defaults, the template rendered from them, clear errors for bad
values (in-process and from the command, before it touches the engine), and the ISM policy generated from the same
settings: states hot -> delete, conditions equal to the settings. ISM itself cannot run here (the local node has no
plugin), so `policy --apply` is checked to explain that and change nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from opensearchpy import AsyncOpenSearch
from pydantic import ValidationError

from core.index_settings import Layout, describe_errors, duration_seconds, size_bytes
from core.lifecycle import ISM_ROLLOVER_ALIAS, ism_policy, next_generation, policy_id
from core.templates import IndexNames, load_template, request_template
from tests.test_lifecycle_support import index_settings, lifecycle_env, llmsearch

NAMES = IndexNames("llm-requests")


def test_the_defaults_are_the_documented_ones_and_the_template_file_holds_them() -> None:
    settings = index_settings()
    assert settings.layout == Layout(shards=1, replicas=None, refresh_interval="1s")
    assert settings.rollover_conditions == {"max_primary_shard_size": "30gb", "max_age": "30d"}
    assert settings.retention is None
    in_file = load_template("requests")["template"]["settings"]["index"]
    assert Layout.from_index_settings(in_file) == settings.layout
    assert request_template(NAMES) == request_template(NAMES, settings.layout)


def test_the_template_takes_the_layout() -> None:
    index = request_template(NAMES, Layout(shards=3, replicas=2, refresh_interval="30s"))["template"]["settings"]
    assert {key: index["index"][key] for key in ("number_of_shards", "number_of_replicas", "refresh_interval")} == {
        "number_of_shards": 3,
        "number_of_replicas": 2,
        "refresh_interval": "30s",
    }
    assert index["index"]["auto_expand_replicas"] == "false"
    auto = request_template(NAMES, Layout(replicas=None))["template"]["settings"]["index"]
    assert auto["auto_expand_replicas"] == "0-1" and "number_of_replicas" not in auto
    # The ISM rollover alias is never in the plain template: a cluster without the plugin refuses the setting.
    assert ISM_ROLLOVER_ALIAS not in json.dumps(request_template(NAMES))
    assert request_template(NAMES, ism=True)["composed_of"] == [NAMES.ism_component]


@pytest.mark.parametrize(
    ("text", "expected"), [("1b", 1), ("500mb", 500 * 1024**2), ("30GB", 30 * 1024**3), (" 2tb ", 2 * 1024**4)]
)
def test_sizes(text: str, expected: int) -> None:
    assert size_bytes(text) == expected


@pytest.mark.parametrize(("text", "expected"), [("1s", 1), ("90m", 5400), ("12h", 43200), ("30d", 2592000)])
def test_durations(text: str, expected: float) -> None:
    assert duration_seconds(text) == expected


def test_optional_values_turn_off() -> None:
    settings = index_settings(rollover_max_age="none", rollover_max_docs="", index_replicas="off")
    assert settings.rollover_conditions == {"max_primary_shard_size": "30gb"}
    assert settings.index_replicas is None


BAD: list[tuple[dict[str, Any], str, str]] = [
    ({"rollover_max_age": "30x"}, "LLMSEARCH_ROLLOVER_MAX_AGE", "'30x' is not a duration such as 30d, 12h"),
    ({"retention": "-5d"}, "LLMSEARCH_RETENTION", "'-5d' is not a duration"),
    ({"retention": "0d"}, "LLMSEARCH_RETENTION", "must be longer than 0"),
    ({"rollover_max_primary_shard_size": "30"}, "LLMSEARCH_ROLLOVER_MAX_PRIMARY_SHARD_SIZE", "'30' is not a size"),
    ({"rollover_max_primary_shard_size": "0gb"}, "LLMSEARCH_ROLLOVER_MAX_PRIMARY_SHARD_SIZE", "at least 1b"),
    ({"index_refresh_interval": "fast"}, "LLMSEARCH_INDEX_REFRESH_INTERVAL", "'fast' is not a duration"),
    ({"index_shards": 0}, "LLMSEARCH_INDEX_SHARDS", "greater than or equal to 1"),
    ({"index_replicas": "many"}, "LLMSEARCH_INDEX_REPLICAS", "valid integer"),
    ({"rollover_max_docs": 0}, "LLMSEARCH_ROLLOVER_MAX_DOCS", "greater than or equal to 1"),
    (
        {"retention": "90d", "rollover_max_age": "none", "rollover_max_primary_shard_size": "none"},
        "index settings",
        "LLMSEARCH_RETENTION counts from an index's rollover",
    ),
]


@pytest.mark.parametrize(("values", "variable", "message"), BAD)
def test_bad_values_say_which_variable_and_what_is_expected(
    values: dict[str, Any], variable: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        index_settings(**values)
    (line,) = describe_errors(caught.value)
    assert line.startswith(f"{variable}: ") and message in line, line


@pytest.mark.parametrize("command", [["indices", "maintain"], ["indices", "policy"], ["templates", "apply"]])
def test_the_commands_refuse_bad_values_before_touching_the_engine(command: list[str]) -> None:
    # No engine at this address: a command that tried to connect would fail differently (and slowly).
    env = lifecycle_env("http://127.0.0.1:9", "test-bad", rollover_max_age="soon", retention="1 week")
    done = llmsearch(env, *command)
    assert done.returncode == 2, done.stderr
    assert "error: LLMSEARCH_ROLLOVER_MAX_AGE: 'soon' is not a duration such as 30d" in done.stderr
    assert "error: LLMSEARCH_RETENTION: '1 week' is not a duration" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_policy_follows_the_settings() -> None:
    settings = index_settings(
        rollover_max_primary_shard_size="10gb", rollover_max_age="7d", rollover_max_docs=1000, retention="90d"
    )
    policy = ism_policy(NAMES, settings)["policy"]
    assert policy["default_state"] == "hot"
    assert [state["name"] for state in policy["states"]] == ["hot", "delete"]
    hot, delete = policy["states"]
    assert hot["actions"] == [
        {
            "rollover": {
                "min_primary_shard_size": "10gb",
                "min_index_age": "7d",
                "min_doc_count": 1000,
                "prevent_empty_rollover": True,
            }
        }
    ]
    # The retention clock is the rollover time, as `indices maintain` counts it.
    assert hot["transitions"] == [{"state_name": "delete", "conditions": {"min_rollover_age": "90d"}}]
    assert delete == {"name": "delete", "actions": [{"delete": {}}], "transitions": []}
    assert policy["ism_template"] == [{"index_patterns": [NAMES.pattern], "priority": 100}]
    assert policy_id(NAMES) == "llm-requests-lifecycle"


def test_without_retention_the_policy_only_rolls_over() -> None:
    policy = ism_policy(NAMES, index_settings())["policy"]
    (hot,) = policy["states"]
    assert hot["actions"] == [
        {"rollover": {"min_primary_shard_size": "30gb", "min_index_age": "30d", "prevent_empty_rollover": True}}
    ]
    assert hot["transitions"] == []


def test_policy_prints_the_policy_of_the_environment() -> None:
    env = lifecycle_env("http://127.0.0.1:9", "test-print", rollover_max_docs=5, retention="3d")
    done = llmsearch(env, "indices", "policy")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed == ism_policy(IndexNames("test-print"), index_settings(rollover_max_docs=5, retention="3d")), (
        "the command and the function disagree"
    )
    assert printed["policy"]["states"][0]["actions"][0]["rollover"]["min_doc_count"] == 5


async def test_policy_apply_explains_a_cluster_without_ism_and_changes_nothing(
    opensearch_url: str, client: AsyncOpenSearch
) -> None:
    env = lifecycle_env(opensearch_url, "test-noism")
    done = llmsearch(env, "indices", "policy", "--apply")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "this cluster has no Index State Management plugin" in done.stderr
    assert "llmsearch indices maintain" in done.stderr
    assert not await client.cluster.exists_component_template(name=IndexNames("test-noism").ism_component)
    assert not await client.indices.exists(index="test-noism-000001")


def test_next_generation() -> None:
    assert next_generation("llm-requests-000001") == "llm-requests-000002"
    assert next_generation("llm-requests-000999") == "llm-requests-001000"
    assert next_generation("llm-requests-999999") == "llm-requests-1000000"
