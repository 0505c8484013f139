"""Settings, read from the environment (and a `.env` file) by pydantic-settings."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "llm-request-search"


class OpenSearchSettings(BaseSettings):
    """How to reach OpenSearch. With no `OPENSEARCH_URL` the service starts or reuses the local node."""

    model_config = SettingsConfigDict(env_prefix="OPENSEARCH_", env_file=".env", extra="ignore")

    url: str | None = None
    user: str | None = None
    password: str | None = None
    verify_certs: bool = True
    timeout_seconds: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=32, ge=1)


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
    # One engine call of an export (a page of 1,000 requests, bodies and all, or opening the point in time): larger
    # than a list page, and the export's client waits for the stream anyway, so it gets longer than the client's.
    export_timeout_seconds: float = Field(default=60.0, gt=0)
    # Signs paging cursors (service.cursor). Unset: one is generated on first use and kept in OpenSearch, so every
    # instance and restart shares it; set it to rotate (outstanding cursors then stop working) or to keep it
    # out of the cluster.
    cursor_secret: SecretStr | None = Field(default=None, min_length=16)


@lru_cache(maxsize=1)
def opensearch_settings() -> OpenSearchSettings:
    return OpenSearchSettings()
