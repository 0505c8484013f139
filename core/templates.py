"""Index templates and the indices/aliases behind them.

Request documents are written through `<prefix>-write` (an alias with a write index, so indices can roll over)
and read through `<prefix>` (a read alias over every generation). API keys live in `<prefix>-keys`; the service's
generated secrets (the cursor-signing key) in `<prefix>-secrets`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import RequestError

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "index_templates"


@dataclass(frozen=True)
class IndexNames:
    prefix: str

    @property
    def read_alias(self) -> str:
        return self.prefix

    @property
    def write_alias(self) -> str:
        return f"{self.prefix}-write"

    @property
    def first_index(self) -> str:
        return f"{self.prefix}-000001"

    @property
    def pattern(self) -> str:
        return f"{self.prefix}-0*"

    @property
    def keys_index(self) -> str:
        return f"{self.prefix}-keys"

    @property
    def secrets_index(self) -> str:
        return f"{self.prefix}-secrets"


def load_template(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((TEMPLATE_DIR / f"{name}.json").read_text())
    body.pop("_comment", None)
    return body


def request_template(names: IndexNames) -> dict[str, Any]:
    body = load_template("requests")
    body["index_patterns"] = [names.pattern]
    body["template"]["aliases"] = {names.read_alias: {}}
    return body


def keys_template(names: IndexNames) -> dict[str, Any]:
    body = load_template("api_keys")
    body["index_patterns"] = [names.keys_index]
    return body


async def apply_templates(client: AsyncOpenSearch, names: IndexNames) -> list[MappingUpdate]:
    """Put both templates (idempotent), create the first request index and the keys index if missing, and add
    fields the template has gained to the mappings of request indices created before (returned, per index)."""
    await client.indices.put_index_template(name=f"{names.prefix}-requests", body=request_template(names))
    await client.indices.put_index_template(name=f"{names.prefix}-keys", body=keys_template(names))
    if not await client.indices.exists_alias(name=names.write_alias):
        await _create_ignoring_race(
            client, names.first_index, {"aliases": {names.write_alias: {"is_write_index": True}}}
        )
    if not await client.indices.exists(index=names.keys_index):
        await _create_ignoring_race(client, names.keys_index, {})
    # A keys index made before a field was added (`scopes`) gets it; putting mappings it already has changes nothing.
    keys_properties = keys_template(names)["template"]["mappings"]["properties"]
    await client.indices.put_mapping(index=names.keys_index, body={"properties": keys_properties})
    return await add_new_fields(client, names)


@dataclass(frozen=True)
class MappingUpdate:
    index: str
    added: tuple[str, ...]


async def add_new_fields(client: AsyncOpenSearch, names: IndexNames) -> list[MappingUpdate]:
    """Add the template's properties that an existing request index lacks (an additive mapping update, which
    OpenSearch allows on a live index). Documents indexed before keep no value for them until they are reloaded:
    a rerun of the loader updates each document in place."""
    wanted: dict[str, Any] = request_template(names)["template"]["mappings"]["properties"]
    current = await client.indices.get_mapping(index=names.pattern, ignore_unavailable=True, allow_no_indices=True)
    updates = []
    for index, body in sorted(current.items()):
        have = body.get("mappings", {}).get("properties", {})
        missing = {name: mapping for name, mapping in wanted.items() if name not in have}
        if missing:
            await client.indices.put_mapping(index=index, body={"properties": missing})
            updates.append(MappingUpdate(index, tuple(missing)))
    return updates


async def _create_ignoring_race(client: AsyncOpenSearch, index: str, body: dict[str, Any]) -> None:
    try:
        await client.indices.create(index=index, body=body)
    except RequestError as error:
        if error.error != "resource_already_exists_exception":
            raise


async def delete_all(client: AsyncOpenSearch, names: IndexNames) -> None:
    """Remove every index and template of this prefix (tests and demo resets)."""
    await client.indices.delete(
        index=f"{names.pattern},{names.keys_index},{names.secrets_index}", ignore_unavailable=True
    )
    for template in (f"{names.prefix}-requests", f"{names.prefix}-keys"):
        if await client.indices.exists_index_template(name=template):
            await client.indices.delete_index_template(name=template)
