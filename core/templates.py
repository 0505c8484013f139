"""Index templates and the indices/aliases behind them.

Request documents are written through `<prefix>-write` (an alias with a write index, so indices can roll over)
and read through `<prefix>` (a read alias over every generation). API keys live in `<prefix>-keys`; the service's
generated secrets (the cursor-signing key) in `<prefix>-secrets`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import NotFoundError, RequestError

from core.index_settings import IndexSettings, Layout

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
    def generation(self) -> re.Pattern[str]:
        """Exactly this prefix's request indices (`pattern` also matches a prefix such as `<prefix>-0x`'s)."""
        return re.compile(rf"^{re.escape(self.prefix)}-\d{{6,}}$")

    @property
    def requests_template(self) -> str:
        return f"{self.prefix}-requests"

    @property
    def ism_component(self) -> str:
        """The component template holding the ISM rollover alias, only on clusters with the plugin (core.lifecycle)."""
        return f"{self.prefix}-ism"

    @classmethod
    def of_write_alias(cls, write_alias: str) -> IndexNames:
        if not write_alias.endswith("-write"):
            raise ValueError(f"{write_alias!r} is not a write alias (<prefix>-write)")
        return cls(write_alias.removesuffix("-write"))

    @property
    def keys_index(self) -> str:
        return f"{self.prefix}-keys"

    @property
    def secrets_index(self) -> str:
        return f"{self.prefix}-secrets"


def write_index_in(aliases: Mapping[str, Any], names: IndexNames) -> str | None:
    """The generation the write alias writes to, from a `GET <indices>/_alias` answer: of those carrying the alias
    and not marked `is_write_index: false`, the newest; None when none carries it."""
    writers = sorted(
        index
        for index, body in aliases.items()
        if names.generation.match(index)
        and (alias := body.get("aliases", {}).get(names.write_alias)) is not None
        and alias.get("is_write_index", True) is not False
    )
    return writers[-1] if writers else None


def load_template(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((TEMPLATE_DIR / f"{name}.json").read_text())
    body.pop("_comment", None)
    return body


def request_template(names: IndexNames, layout: Layout | None = None, ism: bool = False) -> dict[str, Any]:
    """The request indices' template for `names`, with `layout` (default: the documented defaults, which the file
    holds) and, with `ism`, composed of the component template that names the ISM rollover alias."""
    body = load_template("requests")
    body["index_patterns"] = [names.pattern]
    body["template"]["aliases"] = {names.read_alias: {}}
    index = body["template"]["settings"]["index"]
    for key in ("number_of_shards", "number_of_replicas", "auto_expand_replicas", "refresh_interval"):
        index.pop(key, None)
    layout = layout or Layout()
    index.update(layout.template_settings())
    if layout.routing_partition_size > 1:
        # The engine refuses a partitioned index whose documents may come without routing (core.routing).
        body["template"]["mappings"]["_routing"] = {"required": True}
    if ism:
        body["composed_of"] = [names.ism_component]
    return body


def keys_template(names: IndexNames) -> dict[str, Any]:
    body = load_template("api_keys")
    body["index_patterns"] = [names.keys_index]
    return body


async def apply_templates(
    client: AsyncOpenSearch, names: IndexNames, layout: Layout | None = None
) -> list[MappingUpdate]:
    """Put both templates (idempotent), create the first request index and the keys index if missing, and add
    fields the template has gained to the mappings of request indices created before (returned, per index).

    `layout` is what `llmsearch templates apply` passes (core.lifecycle.apply_layout, which also rolls over and
    updates existing indices). Without it the layout the template already has is kept (so a service or a load whose
    environment differs never changes it), or, for a new template, the environment's (core.index_settings)."""
    if layout is None:
        layout = await current_layout(client, names) or IndexSettings().layout
    ism = await client.cluster.exists_component_template(name=names.ism_component)
    await client.indices.put_index_template(name=names.requests_template, body=request_template(names, layout, ism))
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


async def current_layout(client: AsyncOpenSearch, names: IndexNames) -> Layout | None:
    """The layout the request template in the cluster has, or None when there is none yet."""
    try:
        found = await client.indices.get_index_template(name=names.requests_template)
    except NotFoundError:
        return None
    for template in found.get("index_templates", []):
        settings = template["index_template"].get("template", {}).get("settings", {})
        return Layout.from_index_settings(settings.get("index", {}))
    return None


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
    for template in (names.requests_template, f"{names.prefix}-keys"):
        if await client.indices.exists_index_template(name=template):
            await client.indices.delete_index_template(name=template)
    if await client.cluster.exists_component_template(name=names.ism_component):
        await client.cluster.delete_component_template(name=names.ism_component)
