"""Who sends the requests and what the API answers: apps, models, error bodies, request and user details,
loaded from traffic.toml."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from loaders.synthetic.datafiles import Table

ENDPOINTS = frozenset(("chat", "completions", "responses", "embeddings"))


@dataclass(frozen=True)
class App:
    name: str
    weight: float
    team: str
    features: tuple[str, ...]
    endpoints: tuple[tuple[str, float], ...]
    tasks: tuple[tuple[str, float], ...]  # English task names, weighted
    user_agent: str
    anonymous_rate: float  # requests made without an end user (batch jobs, health checks)


@dataclass(frozen=True)
class Traffic:
    apps: tuple[App, ...]
    chat_models: tuple[tuple[str, float], ...]
    completion_models: tuple[tuple[str, float], ...]
    embedding_models: tuple[tuple[str, float], ...]
    responses_models: tuple[tuple[str, float], ...]
    reasoning_models: frozenset[str]
    listed_models: tuple[str, ...]
    snapshots: dict[str, str]  # what the API reports for an undated name
    error_bodies: dict[int, tuple[str, ...]]
    environments: tuple[tuple[str, float], ...]
    temperatures: tuple[str, ...]
    max_tokens: tuple[str, ...]
    tiers: tuple[tuple[str, float], ...]
    email_domains: tuple[str, ...]
    ipv4_first_octets: tuple[int, ...]


def read_traffic(file: Table, task_names: Collection[str]) -> Traffic:
    models = file.table("models")
    snapshots = models.table("snapshots")
    errors = file.table("error_bodies")
    request = file.table("request")
    users = file.table("users")
    return Traffic(
        apps=tuple(_app(table, task_names) for table in file.tables("apps")),
        chat_models=models.weighted("chat"),
        completion_models=models.weighted("completion"),
        embedding_models=models.weighted("embedding"),
        responses_models=models.weighted("responses"),
        reasoning_models=frozenset(models.strings("reasoning")),
        listed_models=models.strings("listed"),
        snapshots={name: snapshots.text(name) for name in snapshots.raw},
        error_bodies={int(status): errors.strings(status) for status in errors.raw},
        environments=request.weighted("environments"),
        temperatures=request.strings("temperatures"),
        max_tokens=request.strings("max_tokens"),
        tiers=users.weighted("tiers"),
        email_domains=users.strings("email_domains"),
        ipv4_first_octets=users.integers("ipv4_first_octets"),
    )


def _app(table: Table, task_names: Collection[str]) -> App:
    app = App(
        name=table.text("name"),
        weight=table.number("weight"),
        team=table.text("team"),
        features=table.strings("features"),
        endpoints=table.weighted("endpoints"),
        tasks=table.weighted("tasks"),
        user_agent=table.text("user_agent"),
        anonymous_rate=table.number("anonymous_rate", 0.03),
    )
    unknown = ({name for name, _ in app.endpoints} - ENDPOINTS) | ({name for name, _ in app.tasks} - set(task_names))
    if unknown:
        raise ValueError(f"{table.where}: unknown endpoints or tasks {sorted(unknown)}")
    return app
