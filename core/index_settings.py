"""How request indices are laid out and how long they live: ONE settings source for the index template
(`llmsearch templates apply`), rollover and retention without ISM (`llmsearch indices maintain`) and the ISM policy for
clusters that have the plugin (`llmsearch indices policy`). Read from the environment (and `.env`), prefix LLMSEARCH_.

| variable | default | why |
|---|---|---|
| LLMSEARCH_INDEX_SHARDS | 1 | one primary shard holds tens of GB of logs; rollover adds generations instead of shards |
| LLMSEARCH_INDEX_REPLICAS | unset | unset: `auto_expand_replicas 0-1` (a copy whenever a second node exists, none on one node) |
| LLMSEARCH_INDEX_ROUTING_PARTITION_SIZE | 1 | shards one tenant's documents spread over (core.routing); more than 1 only with more shards, to keep one large tenant from making a single shard hot |
| LLMSEARCH_INDEX_REFRESH_INTERVAL | 1s | ingested requests are searchable within a second |
| LLMSEARCH_ROLLOVER_MAX_PRIMARY_SHARD_SIZE | 30gb | past ~30-50 GB a shard recovers and relocates slowly |
| LLMSEARCH_ROLLOVER_MAX_AGE | 30d | monthly generations: retention then drops a month at a time |
| LLMSEARCH_ROLLOVER_MAX_DOCS | unset | no document limit (size and age cover it); handy for tests |
| LLMSEARCH_RETENTION | unset | keep forever; e.g. 90d deletes a generation 90 days after it stopped receiving new requests |

Sizes are `<number><unit>` with b, kb, mb, gb, tb (`30gb`); durations `<number><unit>` with ms, s, m, h, d (`30d`,
`12h`). An optional value is turned off with `none` (or an empty value).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SIZE = re.compile(r"^(\d+)(b|kb|mb|gb|tb)$")
DURATION = re.compile(r"^(\d+)(ms|s|m|h|d)$")
SIZE_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4}
DURATION_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
OFF = frozenset({"", "none", "off"})
ENV_PREFIX = "LLMSEARCH_"


def size_bytes(text: str) -> int:
    """`30gb` -> bytes; a ValueError says what a size looks like."""
    match = SIZE.match(text.strip().lower())
    if not match:
        raise ValueError(f"{text!r} is not a size such as 30gb, 500mb or 1b (units: b, kb, mb, gb, tb)")
    return int(match[1]) * SIZE_UNITS[match[2]]


def duration_seconds(text: str) -> float:
    """`30d` -> seconds; a ValueError says what a duration looks like."""
    match = DURATION.match(text.strip().lower())
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 30d, 12h, 90m or 1s (units: ms, s, m, h, d)")
    return int(match[1]) * DURATION_SECONDS[match[2]]


@dataclass(frozen=True)
class Layout:
    """The index settings a generation is created with. `replicas` None: auto-expanded 0-1."""

    shards: int = 1
    replicas: int | None = None
    refresh_interval: str = "1s"
    routing_partition_size: int = 1  # fixed when an index is created, like `shards`

    def replica_settings(self) -> dict[str, Any]:
        if self.replicas is None:
            return {"auto_expand_replicas": "0-1"}
        return {"auto_expand_replicas": "false", "number_of_replicas": self.replicas}

    def template_settings(self) -> dict[str, Any]:
        """The `index` settings of the template (number_of_shards fixed at creation, the rest dynamic)."""
        partition = {}
        if self.routing_partition_size > 1:
            # Routing shards = shards: by default OpenSearch 3.8 hashes over up to 1,024 "routing shards" (so an index
            # can be split later), which folds a partition's consecutive offsets into one real shard (measured: every
            # document of a tenant on one of four shards). Rollover, not splitting, is how generations grow here.
            partition = {
                "routing_partition_size": self.routing_partition_size,
                "number_of_routing_shards": self.shards,
            }
        return {
            "number_of_shards": self.shards,
            **partition,
            **self.replica_settings(),
            "refresh_interval": self.refresh_interval,
        }

    def describe(self) -> str:
        replicas = "replicas auto 0-1" if self.replicas is None else f"{self.replicas} replica(s)"
        partition = f", a tenant on {self.routing_partition_size} shards" if self.routing_partition_size > 1 else ""
        return f"{self.shards} shard(s){partition}, {replicas}, refresh {self.refresh_interval}"

    @classmethod
    def from_index_settings(cls, index: dict[str, Any]) -> Layout:
        """Read back from a template's or an index's `index` settings (values come back as strings)."""
        auto = str(index.get("auto_expand_replicas", "false")).lower()
        replicas = None if auto != "false" else int(index.get("number_of_replicas", 1))
        return cls(
            int(index.get("number_of_shards", 1)),
            replicas,
            str(index.get("refresh_interval", "1s")),
            int(index.get("routing_partition_size", 1)),
        )


class IndexSettings(BaseSettings):
    """See the module docstring for each variable, its default and why."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

    index_shards: int = Field(default=1, ge=1, le=1024)
    index_replicas: int | None = Field(default=None, ge=0, le=16)
    index_refresh_interval: str = "1s"
    index_routing_partition_size: int = Field(default=1, ge=1, le=1024)
    rollover_max_primary_shard_size: str | None = "30gb"
    rollover_max_age: str | None = "30d"
    rollover_max_docs: int | None = Field(default=None, ge=1)
    retention: str | None = None

    @field_validator("index_replicas", "rollover_max_docs", mode="before")
    @classmethod
    def _optional_number(cls, value: Any) -> Any:
        return None if isinstance(value, str) and value.strip().lower() in OFF else value

    @field_validator("index_refresh_interval")
    @classmethod
    def _refresh(cls, value: str) -> str:
        value = value.strip().lower()
        if value != "-1":
            duration_seconds(value)
        return value

    @field_validator("rollover_max_primary_shard_size")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is None or value.strip().lower() in OFF:
            return None
        value = value.strip().lower()
        if size_bytes(value) == 0:
            raise ValueError("must be at least 1b")
        return value

    @field_validator("rollover_max_age", "retention")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is None or value.strip().lower() in OFF:
            return None
        value = value.strip().lower()
        if duration_seconds(value) <= 0:
            raise ValueError("must be longer than 0")
        return value

    @model_validator(mode="after")
    def _retention_needs_rollover(self) -> IndexSettings:
        if self.retention is not None and not self.rollover_conditions:
            raise ValueError(
                "LLMSEARCH_RETENTION counts from an index's rollover, so at least one of LLMSEARCH_ROLLOVER_MAX_AGE, "
                "LLMSEARCH_ROLLOVER_MAX_PRIMARY_SHARD_SIZE or LLMSEARCH_ROLLOVER_MAX_DOCS must be set"
            )
        return self

    @model_validator(mode="after")
    def _partition_within_shards(self) -> IndexSettings:
        if self.index_routing_partition_size > 1 and self.index_routing_partition_size >= self.index_shards:
            raise ValueError(
                "LLMSEARCH_INDEX_ROUTING_PARTITION_SIZE must be less than LLMSEARCH_INDEX_SHARDS (a tenant spread "
                "over every shard is what no routing does): set it to 1, or raise the shards"
            )
        return self

    @property
    def layout(self) -> Layout:
        return Layout(
            self.index_shards, self.index_replicas, self.index_refresh_interval, self.index_routing_partition_size
        )

    @property
    def max_primary_shard_bytes(self) -> int | None:
        return size_bytes(self.rollover_max_primary_shard_size) if self.rollover_max_primary_shard_size else None

    @property
    def max_age_seconds(self) -> float | None:
        return duration_seconds(self.rollover_max_age) if self.rollover_max_age else None

    @property
    def retention_seconds(self) -> float | None:
        return duration_seconds(self.retention) if self.retention else None

    @property
    def rollover_conditions(self) -> dict[str, str | int]:
        """The rollover conditions that are on, by setting name (for messages)."""
        conditions: dict[str, str | int | None] = {
            "max_primary_shard_size": self.rollover_max_primary_shard_size,
            "max_age": self.rollover_max_age,
            "max_docs": self.rollover_max_docs,
        }
        return {name: value for name, value in conditions.items() if value is not None}


def describe_errors(error: ValidationError) -> list[str]:
    """One line per bad variable, named as it is set in the environment."""
    lines = []
    for problem in error.errors():
        location = [str(part) for part in problem.get("loc", ())]
        variable = f"{ENV_PREFIX}{location[0].upper()}" if location else "index settings"
        message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
        given = problem.get("input")
        shown = f" (given {given!r})" if location and isinstance(given, str | int) else ""
        lines.append(f"{variable}: {message}{shown}")
    return lines
