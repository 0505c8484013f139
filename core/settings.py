"""Settings, read from the environment (and a `.env` file) by pydantic-settings."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "llm-request-search"


def split_hosts(url: str) -> list[str]:
    """`http://a:9200, http://b:9200` -> its hosts; a ValueError names an entry that is not `[scheme://]host[:port]`."""
    hosts = [part.strip() for part in url.split(",") if part.strip()]
    if not hosts:
        raise ValueError("no host given")
    for host in hosts:
        try:
            parsed = urlsplit(host if "://" in host else f"//{host}")
            parsed.port  # noqa: B018  (raises on a port that is not a number)
        except ValueError as error:
            raise ValueError(f"{host!r} is not a host URL ({error})") from None
        if not parsed.hostname or parsed.scheme not in ("", "http", "https"):
            raise ValueError(f"{host!r} is not a host URL such as http://127.0.0.1:9200")
    return hosts


class OpenSearchSettings(BaseSettings):
    """How to reach OpenSearch. With no `OPENSEARCH_URL` the service starts or reuses the local node."""

    model_config = SettingsConfigDict(env_prefix="OPENSEARCH_", env_file=".env", extra="ignore")

    # One host or several nodes of the cluster, comma-separated: a call goes to another when one fails (core.engine).
    url: str | None = None
    user: str | None = None
    password: str | None = None
    verify_certs: bool = True
    # One attempt of a command's engine call (loads' settings and refreshes, keys, templates) on one host. The
    # service's queries have their own, shorter one (ServiceSettings.query_timeout_seconds), bulk requests and
    # exports their own, longer ones.
    timeout_seconds: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=32, ge=1)

    @field_validator("url")
    @classmethod
    def _hosts(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            split_hosts(value)
            return value
        return None


class NodeSettings(BaseSettings):
    """The local node that `llmsearch node` manages."""

    model_config = SettingsConfigDict(env_prefix="LLMSEARCH_NODE_", env_file=".env", extra="ignore")

    port: int = Field(default=9200, ge=1, le=65535)
    heap: str = Field(default="1g", pattern=r"^\d+[mMgG]$")
    dist: Path | None = None  # a local OpenSearch archive, for machines without Maven
    root: Path | None = None  # where node directories live; default depends on the user
    cache_dir: Path = Field(default_factory=default_cache_dir)
    user: str = "llmsearch"  # the unprivileged user the node runs as when we are root


class ServiceSettings(BaseSettings):
    """The HTTP service."""

    model_config = SettingsConfigDict(env_prefix="LLMSEARCH_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    index_prefix: str = Field(default="llm-requests", pattern=r"^[a-z0-9][a-z0-9_-]*$")
    key_cache_seconds: float = Field(default=5.0, ge=0)
    # One answer's size: a page of 1,000 requests with large bodies can run to tens of MB, and rendering and
    # sending it would hold up every other client of the process. Past it: a 400 asking for less.
    max_response_bytes: int = Field(default=16_000_000, ge=100_000)
    # One engine call of a list, by-id or analytics request (and of key lookups) on one host: a hung engine is a
    # 503 with Retry-After within about this long, rather than a client left waiting. Generous for a query (they
    # take milliseconds to a few hundred), short for a person. With several hosts a call that times out is tried on
    # the next one (core.engine), so the worst case, every host hung, is hosts x this.
    query_timeout_seconds: float = Field(default=1.5, gt=0)
    # One engine call of an export (a page of 1,000 requests, bodies and all, or opening the point in time): larger
    # than a list page, and the export's client waits for the stream anyway, so it gets longer than the client's.
    export_timeout_seconds: float = Field(default=60.0, gt=0)
    # Signs paging cursors (service.cursor). Unset: one is generated on first use and kept in OpenSearch, so every
    # instance and restart shares it; set it to rotate (outstanding cursors then stop working) or to keep it
    # out of the cluster.
    cursor_secret: SecretStr | None = Field(default=None, min_length=16)
    # Live ingest (POST /api/v1/ingest): one call's decoded body and records; a larger call is a 413.
    ingest_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    ingest_max_records: int = Field(default=10_000, ge=1)
    # One record's document (JSON, bodies and all): a larger one is refused by itself, the others are indexed.
    ingest_max_record_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # Calls read and written at once: the service holds at most this many bodies (each up to ingest_max_bytes) in
    # memory. A call that cannot start within ingest_queue_seconds is a 429 with Retry-After.
    ingest_concurrency: int = Field(default=8, ge=1)
    ingest_queue_seconds: float = Field(default=5.0, ge=0)
    # The bulk request of one call: up to 10,000 documents, so longer than a query's.
    ingest_timeout_seconds: float = Field(default=30.0, gt=0)
    # Where `GET /metrics` (Prometheus) is served. `port` (default): on a listener of its own, `host`:`metrics_port`
    # (9464, the port OpenTelemetry's Prometheus exporter uses), never on the API port, so it needs no secret and
    # the API's clients cannot read it; let only the scraper reach that port. `token`: on the API port, for
    # `Authorization: Bearer <metrics_token>` only. `off`: not served at all.
    metrics: Literal["off", "port", "token"] = "port"
    metrics_port: int = Field(default=9464, ge=1, le=65535)
    metrics_token: SecretStr | None = Field(default=None, min_length=16)
    # Log lines: one JSON object each (for log collectors), or text for a person at a terminal.
    log_format: Literal["json", "text"] = "json"

    @model_validator(mode="after")
    def _metrics_setting(self) -> Self:
        if self.metrics == "token" and self.metrics_token is None:
            raise ValueError("LLMSEARCH_METRICS=token needs LLMSEARCH_METRICS_TOKEN (16 characters or more)")
        if self.metrics == "port" and self.metrics_port == self.port:
            raise ValueError("LLMSEARCH_METRICS_PORT must differ from LLMSEARCH_PORT (or use LLMSEARCH_METRICS=token)")
        return self


@lru_cache(maxsize=1)
def opensearch_settings() -> OpenSearchSettings:
    return OpenSearchSettings()
