"""Helpers shared by the index lifecycle tests (no tests here): a prefix of a test's own, the `llmsearch` command with
lifecycle variables, the generations and where each document is stored."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from opensearchpy import AsyncOpenSearch

from core.index_settings import IndexSettings
from core.lifecycle import Generation, describe_generations
from core.templates import IndexNames

REPO = Path(__file__).resolve().parent.parent
LIFECYCLE_VARIABLES = frozenset(f"LLMSEARCH_{name.upper()}" for name in IndexSettings.model_fields)


def index_settings(**values: Any) -> IndexSettings:
    """Settings from `values` and the defaults only (no `.env`; the tests' environment sets none of them)."""
    assert not LIFECYCLE_VARIABLES & set(os.environ), "the test environment sets lifecycle variables"
    return IndexSettings(_env_file=None, **values)


def lifecycle_env(opensearch_url: str, prefix: str, **variables: str | int) -> dict[str, str]:
    """The environment of an `llmsearch` run on `prefix` with `variables` (`index_shards=2` ->
    LLMSEARCH_INDEX_SHARDS=2) and no other lifecycle variable."""
    env = {key: value for key, value in os.environ.items() if key not in LIFECYCLE_VARIABLES}
    env.update(OPENSEARCH_URL=opensearch_url, LLMSEARCH_INDEX_PREFIX=prefix, PYTHONUNBUFFERED="1")
    env.update({f"LLMSEARCH_{name.upper()}": str(value) for name, value in variables.items()})
    return env


def llmsearch(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


async def generations(client: AsyncOpenSearch, names: IndexNames) -> dict[str, Generation]:
    return {generation.index: generation for generation in await describe_generations(client, names)}


async def write_index(client: AsyncOpenSearch, names: IndexNames) -> str:
    (index,) = [name for name, generation in (await generations(client, names)).items() if generation.write]
    return index


def generation_name(names: IndexNames, number: int) -> str:
    return f"{names.prefix}-{number:06d}"


async def copies(client: AsyncOpenSearch, names: IndexNames, doc_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Every stored copy of each of `doc_ids` behind the read alias (after a refresh): `_index` and `_source`."""
    wanted = sorted(set(doc_ids))
    await client.indices.refresh(index=names.read_alias)
    result = await client.search(
        index=names.read_alias, body={"query": {"ids": {"values": wanted}}, "size": 10 * len(wanted) + 10}
    )
    found: dict[str, list[dict[str, Any]]] = {doc_id: [] for doc_id in wanted}
    for hit in result["hits"]["hits"]:
        found[hit["_id"]].append({"_index": hit["_index"], **hit["_source"]})
    return found


async def stored_count(client: AsyncOpenSearch, names: IndexNames) -> int:
    await client.indices.refresh(index=names.read_alias)
    return int((await client.count(index=names.read_alias))["count"])
