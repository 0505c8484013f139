"""The request indices' lifecycle: layout changes (`llmsearch templates apply`), rollover and retention without ISM
(`llmsearch indices maintain`, run on a schedule) and the ISM policy that does the same on clusters with the plugin
(`llmsearch indices policy`). All three read core.index_settings, so both paths follow one set of settings.

Generations are `<prefix>-000001`, `-000002`, …: the write alias points at the newest, the read alias at all.

Rollover: the write index rolls over once any condition is met: its largest primary shard reaches
LLMSEARCH_ROLLOVER_MAX_PRIMARY_SHARD_SIZE (store size), it is LLMSEARCH_ROLLOVER_MAX_AGE old (since its creation) or
holds LLMSEARCH_ROLLOVER_MAX_DOCS documents (refreshed ones, as the engine counts them). An empty write index is never
rolled over. OpenSearch 3.8's rollover API has no primary-shard-size condition (max_age, max_docs and max_size, the
total of all primaries, only), so the command measures the conditions itself and then rolls over to the next name
explicitly: two runs at once cannot roll over twice (the second finds the name taken). ISM's rollover action has the
same three conditions (min_primary_shard_size, min_index_age, min_doc_count) and prevent_empty_rollover.

Retention (the clock): a generation is deleted once LLMSEARCH_RETENTION has passed since it was ROLLED OVER, that is
since it stopped receiving new requests (rewrites of requests it holds still go to it: core.placement). This is
ISM's `min_rollover_age`, so both paths delete the same generation at the same time. The rollover time is the
engine's (`rollover_info` of the index for the write alias); a generation without one (rolled over by hand, say) takes
the creation time of the next generation. The write index is never deleted, whatever its age.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import NotFoundError, RequestError

from core.index_settings import IndexSettings, Layout, duration_seconds
from core.templates import IndexNames, MappingUpdate, apply_templates, current_layout, write_index_in

ISM_ROLLOVER_ALIAS = "plugins.index_state_management.rollover_alias"
ISM_PLUGIN = "opensearch-index-management"
GENERATION_DIGITS = re.compile(r"^(.*-)(\d+)$")


class LifecycleError(Exception):
    """The indices are not in a state the command can work on (no write index, no ISM plugin); the message says
    what to do."""


def next_generation(index: str) -> str:
    """`<prefix>-000007` -> `<prefix>-000008` (what the rollover API would name it)."""
    match = GENERATION_DIGITS.match(index)
    if not match:
        raise LifecycleError(f"{index} does not end in a generation number; cannot name the next generation")
    return f"{match[1]}{int(match[2]) + 1:0{max(6, len(match[2]))}d}"


@dataclass(frozen=True)
class Generation:
    index: str
    created: datetime
    write: bool
    shards: int
    routing_partition_size: int
    docs: int
    largest_primary_bytes: int
    rolled_over: datetime | None  # when it stopped being the write index (None: it still is, or unknown)
    replicas: int | None  # None: auto-expanded
    auto_expand_replicas: str | None
    refresh_interval: str | None


async def describe_generations(client: AsyncOpenSearch, names: IndexNames) -> list[Generation]:
    """Every generation of `names`, oldest first, with what rollover and retention need."""
    settings: dict[str, Any] = await client.indices.get_settings(
        index=names.pattern, flat_settings=True, allow_no_indices=True, ignore_unavailable=True
    )
    indices = sorted(index for index in settings if names.generation.match(index))
    if not indices:
        return []
    joined = ",".join(indices)
    aliases: dict[str, Any] = await client.indices.get_alias(index=joined)
    state: dict[str, Any] = await client.cluster.state(
        metric="metadata", index=joined, filter_path="metadata.indices.*.rollover_info"
    )
    stats: dict[str, Any] = await client.indices.stats(index=joined, metric="docs,store", level="shards")
    rolled: dict[str, Any] = state.get("metadata", {}).get("indices", {})
    created = {index: _millis(settings[index]["settings"]["index.creation_date"]) for index in indices}
    write_index = write_index_in(aliases, names)
    found = []
    for position, index in enumerate(indices):
        flat = settings[index]["settings"]
        info = (rolled.get(index, {}).get("rollover_info") or {}).get(names.write_alias)
        rolled_over = _millis(info["time"]) if info else None
        if rolled_over is None and index != write_index and position + 1 < len(indices):
            rolled_over = min(created[later] for later in indices[position + 1 :])
        index_stats = stats.get("indices", {}).get(index, {})
        primaries = [
            copy.get("store", {}).get("size_in_bytes", 0)
            for copies in index_stats.get("shards", {}).values()
            for copy in copies
            if copy.get("routing", {}).get("primary")
        ]
        auto = flat.get("index.auto_expand_replicas")
        found.append(
            Generation(
                index=index,
                created=created[index],
                write=index == write_index,
                shards=int(flat.get("index.number_of_shards", 1)),
                routing_partition_size=int(flat.get("index.routing_partition_size", 1)),
                docs=int(index_stats.get("primaries", {}).get("docs", {}).get("count", 0)),
                largest_primary_bytes=max(primaries, default=0),
                rolled_over=None if index == write_index else rolled_over,
                replicas=None if auto not in (None, "false") else int(flat.get("index.number_of_replicas", 1)),
                auto_expand_replicas=auto,
                refresh_interval=flat.get("index.refresh_interval"),
            )
        )
    return found


def _millis(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def write_generation(generations: list[Generation], names: IndexNames) -> Generation:
    for generation in generations:
        if generation.write:
            return generation
    raise LifecycleError(
        f"no write index behind {names.write_alias} (no {names.pattern} index carries it): "
        "run `llmsearch templates apply` to create it"
    )


@dataclass
class Rollover:
    old_index: str
    new_index: str
    reasons: list[str]
    done: bool  # False: a dry run, or another run rolled over first (`skipped` says so)
    skipped: str | None = None


async def roll_over(
    client: AsyncOpenSearch, names: IndexNames, write: Generation, reasons: list[str], dry_run: bool
) -> Rollover:
    """Roll the write alias over from `write` to the next generation (named explicitly: when another run already
    rolled it over, the name is taken and nothing happens), then refresh `write` so lookups (core.placement) see
    what was written to it last."""
    rollover = Rollover(write.index, next_generation(write.index), reasons, done=False)
    if dry_run:
        return rollover
    try:
        await client.indices.rollover(alias=names.write_alias, new_index=rollover.new_index)
    except RequestError as error:
        if error.error != "resource_already_exists_exception":
            raise
        rollover.skipped = f"{rollover.new_index} already exists: rolled over meanwhile by another run"
        return rollover
    rollover.done = True
    await client.indices.refresh(index=write.index, ignore_unavailable=True)
    return rollover


# --- layout: `llmsearch templates apply` ---------------------------------------------------------------------------


@dataclass
class LayoutReport:
    before: Layout | None  # the template's layout before (None: there was no template)
    after: Layout
    mapping_updates: list[MappingUpdate]
    rollover: Rollover | None = None
    updated: dict[str, dict[str, Any]] = field(default_factory=dict)  # index -> settings changed in place
    notes: list[str] = field(default_factory=list)


async def apply_layout(client: AsyncOpenSearch, names: IndexNames, settings: IndexSettings) -> LayoutReport:
    """Put the templates with `settings`' layout; roll the write index over when its shard count or routing
    partition size differs (the new generation takes the new template); set replicas and the refresh interval, which are dynamic, on every existing
    generation in place."""
    layout = settings.layout
    report = LayoutReport(await current_layout(client, names), layout, await apply_templates(client, names, layout))
    generations = await describe_generations(client, names)
    write = write_generation(generations, names)
    fixed = {
        "number_of_shards": (write.shards, layout.shards),
        "routing_partition_size": (write.routing_partition_size, layout.routing_partition_size),
    }
    reasons = [
        f"{name} {old} -> {new} (fixed when an index is created)" for name, (old, new) in fixed.items() if old != new
    ]
    if reasons:
        report.rollover = await roll_over(client, names, write, reasons, dry_run=False)
        generations = await describe_generations(client, names)
    for generation in generations:
        changes: dict[str, Any] = {}
        if generation.replicas != layout.replicas or (
            layout.replicas is None and generation.auto_expand_replicas != "0-1"
        ):
            changes.update(layout.replica_settings())
        if generation.refresh_interval != layout.refresh_interval:
            if generation.refresh_interval == "-1" and layout.refresh_interval != "-1":
                report.notes.append(
                    f"{generation.index}: refresh is off (a large load is running, loaders/backfill.py), so its "
                    f"refresh interval is left to that load; run `llmsearch templates apply` again after it"
                )
            else:
                changes["refresh_interval"] = layout.refresh_interval
        if changes:
            await client.indices.put_settings(index=generation.index, body={"index": changes})
            report.updated[generation.index] = changes
    return report


# --- rollover and retention: `llmsearch indices maintain` ----------------------------------------------------------


@dataclass
class Deletion:
    index: str
    docs: int
    rolled_over: datetime
    deleted: bool  # False: a dry run


@dataclass
class MaintainReport:
    write_index: str
    write_docs: int
    write_largest_primary_bytes: int
    write_created: datetime
    conditions: dict[str, str | int]
    rollover: Rollover | None
    deleted: list[Deletion]
    kept: list[Generation]
    retention: str | None
    dry_run: bool
    notes: list[str] = field(default_factory=list)


def rollover_reasons(write: Generation, settings: IndexSettings, now: datetime) -> list[str]:
    """The conditions `write` meets, as sentences."""
    reasons = []
    if settings.max_primary_shard_bytes is not None and write.largest_primary_bytes >= settings.max_primary_shard_bytes:
        reasons.append(
            f"largest primary shard {write.largest_primary_bytes:,} bytes >= "
            f"max_primary_shard_size {settings.rollover_max_primary_shard_size}"
        )
    age = (now - write.created).total_seconds()
    if settings.max_age_seconds is not None and age >= settings.max_age_seconds:
        reasons.append(f"age {_age(age)} >= max_age {settings.rollover_max_age}")
    if settings.rollover_max_docs is not None and write.docs >= settings.rollover_max_docs:
        reasons.append(f"{write.docs:,} documents >= max_docs {settings.rollover_max_docs:,}")
    return reasons


async def maintain(
    client: AsyncOpenSearch,
    names: IndexNames,
    settings: IndexSettings,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> MaintainReport:
    """Roll the write index over if a condition is met, then delete the generations past retention (see the module
    docstring). With `dry_run`, report what would be done and change nothing."""
    now = now or datetime.now(UTC)
    generations = await describe_generations(client, names)
    write = write_generation(generations, names)
    report = MaintainReport(
        write_index=write.index,
        write_docs=write.docs,
        write_largest_primary_bytes=write.largest_primary_bytes,
        write_created=write.created,
        conditions=settings.rollover_conditions,
        rollover=None,
        deleted=[],
        kept=[],
        retention=settings.retention,
        dry_run=dry_run,
    )
    reasons = rollover_reasons(write, settings, now)
    if reasons and write.docs == 0:
        report.notes.append(f"{write.index} meets {'; '.join(reasons)} but holds no documents: not rolled over")
    elif reasons:
        report.rollover = await roll_over(client, names, write, reasons, dry_run)
        if not dry_run:
            generations = await describe_generations(client, names)
        else:  # what retention would see after it
            rolled = replace(write, write=False, rolled_over=now)
            generations = [rolled if g.index == write.index else g for g in generations]
    retention = settings.retention_seconds
    for generation in generations:
        if generation.write:
            continue
        if retention is None or generation.rolled_over is None:
            report.kept.append(generation)
            if generation.rolled_over is None:
                report.notes.append(f"{generation.index}: no rollover time known; kept")
            continue
        if (now - generation.rolled_over).total_seconds() < retention:
            report.kept.append(generation)
            continue
        if not dry_run:
            await client.indices.delete(index=generation.index)
        report.deleted.append(Deletion(generation.index, generation.docs, generation.rolled_over, not dry_run))
    return report


def _age(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f}d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds:.0f}s"


def delete_after(generation: Generation, settings: IndexSettings) -> datetime | None:
    """When retention deletes `generation` (None: never, or not before it is rolled over)."""
    if generation.rolled_over is None or settings.retention is None:
        return None
    return generation.rolled_over + timedelta(seconds=duration_seconds(settings.retention))


# --- the ISM policy: `llmsearch indices policy` --------------------------------------------------------------------


def policy_id(names: IndexNames) -> str:
    return f"{names.prefix}-lifecycle"


def ism_policy(names: IndexNames, settings: IndexSettings) -> dict[str, Any]:
    """The ISM policy doing what `maintain` does: `hot` rolls over on the same conditions (any one), then, with a
    retention, moves to `delete` once the index was rolled over that long ago (`min_rollover_age`)."""
    rollover: dict[str, Any] = {}
    if settings.rollover_max_primary_shard_size is not None:
        rollover["min_primary_shard_size"] = settings.rollover_max_primary_shard_size
    if settings.rollover_max_age is not None:
        rollover["min_index_age"] = settings.rollover_max_age
    if settings.rollover_max_docs is not None:
        rollover["min_doc_count"] = settings.rollover_max_docs
    hot: dict[str, Any] = {
        "name": "hot",
        "actions": [{"rollover": {**rollover, "prevent_empty_rollover": True}}] if rollover else [],
        "transitions": [],
    }
    states = [hot]
    if settings.retention is not None:
        hot["transitions"] = [{"state_name": "delete", "conditions": {"min_rollover_age": settings.retention}}]
        states.append({"name": "delete", "actions": [{"delete": {}}], "transitions": []})
    conditions = ", ".join(f"{name} {value}" for name, value in settings.rollover_conditions.items()) or "never"
    kept = f"deleted {settings.retention} after rollover" if settings.retention else "kept forever"
    return {
        "policy": {
            "description": f"{names.prefix} request indices: roll over at {conditions}; {kept} "
            "(generated by `llmsearch indices policy` from the LLMSEARCH_ settings)",
            "default_state": "hot",
            "states": states,
            "ism_template": [{"index_patterns": [names.pattern], "priority": 100}],
        }
    }


@dataclass
class PolicyReport:
    policy_id: str
    created: bool  # False: an existing policy was updated
    rollover_alias_set_on: list[str]
    added_to: int
    changed_on: int
    failures: list[str]


async def has_ism(client: AsyncOpenSearch) -> bool:
    plugins: list[dict[str, Any]] = await client.cat.plugins(format="json")
    return any(plugin.get("component") == ISM_PLUGIN for plugin in plugins)


async def apply_policy(client: AsyncOpenSearch, names: IndexNames, settings: IndexSettings) -> PolicyReport:
    """Install the policy on a cluster with ISM: the rollover alias setting that ISM's rollover needs on every
    generation (existing ones directly, new ones through the component template `<prefix>-ism`, which the request
    template is then composed of; the plain template cannot carry it, a cluster without the plugin refuses the
    setting), the policy itself (created or updated), and the policy attached to the existing generations (new ones
    get it from its `ism_template`)."""
    if not await has_ism(client):
        raise LifecycleError(
            "this cluster has no Index State Management plugin (`GET _cat/plugins` lists no "
            f"{ISM_PLUGIN}), so it cannot run the policy. Run `llmsearch indices maintain` on a schedule instead "
            "(it rolls over and deletes on the same settings); `llmsearch indices policy` prints the policy for "
            "a cluster that has the plugin"
        )
    setting = {"index": {ISM_ROLLOVER_ALIAS: names.write_alias}}
    await client.cluster.put_component_template(name=names.ism_component, body={"template": {"settings": setting}})
    await apply_templates(client, names)  # now composed of the component template; the layout is kept
    generations = [g.index for g in await describe_generations(client, names)]
    if generations:
        await client.indices.put_settings(index=",".join(generations), body=setting)
    path = f"/_plugins/_ism/policies/{policy_id(names)}"
    body = ism_policy(names, settings)
    try:
        existing: dict[str, Any] = await client.transport.perform_request("GET", path)
    except NotFoundError:
        existing = {}
    params = (
        {"if_seq_no": existing["_seq_no"], "if_primary_term": existing["_primary_term"]}
        if "_seq_no" in existing
        else {}
    )
    await client.transport.perform_request("PUT", path, params=params, body=body)
    report = PolicyReport(policy_id(names), not existing, generations, 0, 0, [])
    if not generations:
        return report
    target = ",".join(generations)
    added: dict[str, Any] = await client.transport.perform_request(
        "POST", f"/_plugins/_ism/add/{target}", body={"policy_id": policy_id(names)}
    )
    report.added_to = int(added.get("updated_indices", 0))
    already = [f["index_name"] for f in added.get("failed_indices", []) if "already" in str(f.get("reason", ""))]
    report.failures += [
        f"{f.get('index_name')}: {f.get('reason')}"
        for f in added.get("failed_indices", [])
        if f.get("index_name") not in already
    ]
    if already:
        # Managed already (an earlier --apply): move them to this version of the policy at their next state.
        changed: dict[str, Any] = await client.transport.perform_request(
            "POST", f"/_plugins/_ism/change_policy/{','.join(already)}", body={"policy_id": policy_id(names)}
        )
        report.changed_on = int(changed.get("updated_indices", 0))
        report.failures += [f"{f.get('index_name')}: {f.get('reason')}" for f in changed.get("failed_indices", [])]
    return report
