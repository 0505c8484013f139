"""`llmsearch templates apply|fill`, `llmsearch indices maintain|list|policy` and `llmsearch keys create|list|revoke`."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from opensearchpy import AsyncOpenSearch
from pydantic import ValidationError

from cli.arguments import scopes, tenant_id
from cli.engine_url import resolve_url
from core.derived_fill import FillProgress, fill_derived
from core.engine import make_client
from core.index_settings import IndexSettings, describe_errors
from core.lifecycle import (
    LayoutReport,
    LifecycleError,
    MaintainReport,
    apply_layout,
    apply_policy,
    delete_after,
    describe_generations,
    ism_policy,
    maintain,
)
from core.settings import OpenSearchSettings, ServiceSettings
from core.templates import IndexNames, apply_templates
from service.keys import KeyStore, Scope

EXIT_OK = 0
EXIT_FAILED = 1  # the indices are not in a state to work on (no write index; no ISM plugin for --apply)
EXIT_SETTINGS = 2  # a LLMSEARCH_INDEX_*/ROLLOVER_*/RETENTION variable is malformed


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    templates = commands.add_parser("templates", help="index templates")
    templates.add_argument(
        "action",
        choices=["apply", "fill"],
        help="apply: install the templates and add new fields to existing indices; fill: also compute the derived "
        "fields analytics groups by (status_class, metadata_pairs) in documents indexed before they existed",
    )
    templates.set_defaults(handler=_templates)

    indices = commands.add_parser(
        "indices", help="request index lifecycle: rollover and retention (LLMSEARCH_ROLLOVER_*, LLMSEARCH_RETENTION)"
    )
    lifecycle = indices.add_subparsers(dest="action", required=True)
    run_maintain = lifecycle.add_parser(
        "maintain",
        help="roll the write index over when a rollover condition is met and delete generations past retention; "
        "run it on a schedule on clusters without the ISM plugin",
    )
    run_maintain.add_argument("--dry-run", action="store_true", help="say what would be done; change nothing")
    run_maintain.add_argument("--json", action="store_true", help="the report as JSON")
    run_maintain.set_defaults(handler=_maintain)
    listing_indices = lifecycle.add_parser("list", help="the generations: documents, size, rollover time, deletion")
    listing_indices.set_defaults(handler=_list_indices)
    policy = lifecycle.add_parser(
        "policy", help="print the ISM policy made from the same settings; --apply installs it (needs the ISM plugin)"
    )
    policy.add_argument("--apply", action="store_true", help="install it and attach it to the request indices")
    policy.set_defaults(handler=_policy)

    keys = commands.add_parser("keys", help="API keys")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a key for a tenant and print it (once)")
    create.add_argument("--tenant", required=True, type=tenant_id)
    create.add_argument("--name")
    create.add_argument(
        "--scope",
        type=scopes,
        default=frozenset({Scope.READ}),
        help="read (search, export, analytics; the default), write (ingest only) or read,write",
    )
    create.set_defaults(handler=_create_key)
    listing = actions.add_parser("list", help="list keys, masked")
    listing.add_argument("--tenant")
    listing.set_defaults(handler=_list_keys)
    revoke = actions.add_parser("revoke", help="revoke a key, by the key itself or the id `keys list` shows")
    revoke.add_argument("key")
    revoke.set_defaults(handler=_revoke_key)


Job = Callable[[AsyncOpenSearch, IndexNames, ServiceSettings], Awaitable[int]]


def _run(job: Job, apply: bool = True) -> int:
    """`job` against the configured engine, after putting the templates in place (keeping their layout) unless
    `apply` is False."""
    settings = ServiceSettings()
    os_settings = OpenSearchSettings()
    url = resolve_url(os_settings)

    async def main() -> int:
        client = make_client(url, os_settings)
        try:
            names = IndexNames(settings.index_prefix)
            if apply:
                for update in await apply_templates(client, names):
                    print(_mapping_update(update.index, update.added))
            return await job(client, names, settings)
        except LifecycleError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_FAILED
        finally:
            await client.close()

    return asyncio.run(main())


def _mapping_update(index: str, added: tuple[str, ...]) -> str:
    return (
        f"index {index}: added {', '.join(added)} to its mapping; documents indexed before have no value for them "
        "until they are loaded again (a rerun of the load updates them)"
    )


def _index_settings() -> IndexSettings | None:
    """The lifecycle settings from the environment, or None after saying which variable is wrong."""
    try:
        return IndexSettings()
    except ValidationError as error:
        for line in describe_errors(error):
            print(f"error: {line}", file=sys.stderr)
        return None


def _templates(args: argparse.Namespace) -> int:
    if args.action == "fill":
        return _run(_fill_derived)
    index_settings = _index_settings()
    if index_settings is None:
        return EXIT_SETTINGS

    async def job(client: AsyncOpenSearch, names: IndexNames, settings: ServiceSettings) -> int:
        report = await apply_layout(client, names, index_settings)
        for update in report.mapping_updates:
            print(_mapping_update(update.index, update.added))
        print(
            f"templates applied: read alias {names.read_alias}, write alias {names.write_alias}, keys {names.keys_index}"
        )
        for line in layout_lines(report, names):
            print(line)
        return EXIT_OK

    return _run(job, apply=False)


def layout_lines(report: LayoutReport, names: IndexNames) -> list[str]:
    """What `templates apply` changed, for people."""
    if report.before is None or report.before == report.after:
        lines = [f"index layout: {report.after.describe()}"]
    else:
        lines = [f"index layout: {report.after.describe()} (was {report.before.describe()})"]
    rollover = report.rollover
    if rollover is not None and rollover.done:
        lines.append(
            f"rolled over {rollover.old_index} -> {rollover.new_index}: {'; '.join(rollover.reasons)}. New requests "
            f"go to {rollover.new_index}; {rollover.old_index} stays searchable through {names.read_alias}"
        )
    elif rollover is not None:
        lines.append(f"not rolled over: {rollover.skipped}")
    for index, changes in report.updated.items():
        changed = ", ".join(f"{key} {value}" for key, value in changes.items())
        lines.append(f"updated {index} in place: {changed}")
    if not report.updated and rollover is None and report.before == report.after:
        lines.append("existing indices already match it: nothing changed")
    lines += [f"note: {note}" for note in report.notes]
    return lines


def _run_indices(job: Callable[[AsyncOpenSearch, IndexNames, IndexSettings], Awaitable[int]]) -> int:
    index_settings = _index_settings()
    if index_settings is None:
        return EXIT_SETTINGS

    async def with_settings(client: AsyncOpenSearch, names: IndexNames, settings: ServiceSettings) -> int:
        return await job(client, names, index_settings)

    return _run(with_settings, apply=False)


def _maintain(args: argparse.Namespace) -> int:
    async def job(client: AsyncOpenSearch, names: IndexNames, index_settings: IndexSettings) -> int:
        report = await maintain(client, names, index_settings, dry_run=args.dry_run)
        if args.json:
            print(json.dumps(dataclasses.asdict(report), default=_json_value, indent=2))
        else:
            for line in maintain_lines(report, index_settings):
                print(line)
        return EXIT_OK

    return _run_indices(job)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"{type(value).__name__} is not JSON")


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


def maintain_lines(report: MaintainReport, index_settings: IndexSettings) -> list[str]:
    """The maintain report for people."""
    conditions = ", ".join(f"{name} {value}" for name, value in report.conditions.items()) or "none (never)"
    lines = [
        ("dry run: nothing is changed" if report.dry_run else ""),
        f"write index {report.write_index}: {report.write_docs:,} documents, largest primary shard "
        f"{report.write_largest_primary_bytes:,} bytes, created {_when(report.write_created)}",
        f"rollover at: {conditions}",
    ]
    rollover = report.rollover
    if rollover is None:
        lines.append("no rollover: no condition is met")
    elif rollover.skipped:
        lines.append(f"no rollover: {rollover.skipped}")
    else:
        verb = "would roll over" if report.dry_run else "rolled over"
        lines.append(f"{verb} {rollover.old_index} -> {rollover.new_index}: {'; '.join(rollover.reasons)}")
    for deletion in report.deleted:
        lines.append(
            f"{'would delete' if report.dry_run else 'deleted'} {deletion.index} ({deletion.docs:,} documents; rolled over {_when(deletion.rolled_over)}, "
            f"retention {report.retention})"
        )
    for generation in report.kept:
        until = delete_after(generation, index_settings)
        rolled = f"rolled over {_when(generation.rolled_over)}" if generation.rolled_over else "rollover time unknown"
        fate = f"deleted after {_when(until)}" if until else "kept (no LLMSEARCH_RETENTION)"
        lines.append(f"kept {generation.index} ({generation.docs:,} documents; {rolled}; {fate})")
    if report.retention is None:
        lines.append("retention: none set (LLMSEARCH_RETENTION), generations are kept forever")
    lines += [f"note: {note}" for note in report.notes]
    return [line for line in lines if line]


def _list_indices(args: argparse.Namespace) -> int:
    async def job(client: AsyncOpenSearch, names: IndexNames, index_settings: IndexSettings) -> int:
        generations = await describe_generations(client, names)
        print(
            f"{'index':<32}{'role':<7}{'shards':>7}{'documents':>13}{'largest primary':>17}  {'created':<22}deleted after"
        )
        for g in generations:
            until = delete_after(g, index_settings)
            print(
                f"{g.index:<32}{'write' if g.write else 'read':<7}{g.shards:>7}{g.docs:>13,}"
                f"{g.largest_primary_bytes:>17,}  {_when(g.created):<22}{_when(until) if until else '-'}"
            )
        return EXIT_OK

    return _run_indices(job)


def _policy(args: argparse.Namespace) -> int:
    index_settings = _index_settings()
    if index_settings is None:
        return EXIT_SETTINGS
    names = IndexNames(ServiceSettings().index_prefix)
    if not args.apply:
        print(json.dumps(ism_policy(names, index_settings), indent=2))
        return EXIT_OK

    async def job(client: AsyncOpenSearch, names: IndexNames, index_settings: IndexSettings) -> int:
        report = await apply_policy(client, names, index_settings)
        print(
            f"ISM policy {report.policy_id} {'created' if report.created else 'updated'} (PUT _plugins/_ism/policies)"
        )
        print(f"rollover alias {names.write_alias} set on: {', '.join(report.rollover_alias_set_on) or '-'}")
        print(
            f"policy attached to {report.added_to} existing index(es), moved to this version on {report.changed_on}; "
            f"new generations get it from its ism_template ({names.pattern})"
        )
        for failure in report.failures:
            print(f"error: {failure}", file=sys.stderr)
        return EXIT_FAILED if report.failures else EXIT_OK

    return _run_indices(job)


async def _fill_derived(client: AsyncOpenSearch, names: IndexNames, settings: ServiceSettings) -> int:
    def report(progress: FillProgress) -> None:
        state = "done" if progress.done else "running"
        print(f"fill {state}: {progress.updated:,} of {progress.total:,} documents updated", flush=True)

    final = await fill_derived(client, names.read_alias, report)
    if final.conflicts:
        print(f"{final.conflicts:,} documents changed meanwhile (loaded again, so already complete) were skipped")
    return 0


def _create_key(args: argparse.Namespace) -> int:
    async def job(client: AsyncOpenSearch, names: IndexNames, settings: ServiceSettings) -> int:
        key, record = await KeyStore(client, names, 0).create(args.tenant, args.name, args.scope)
        print(
            f"Created key {record.key_id} for tenant {record.tenant_id} ({','.join(record.scopes)}). "
            f"It is shown this once:\n{key}"
        )
        return 0

    return _run(job)


def _list_keys(args: argparse.Namespace) -> int:
    async def job(client: AsyncOpenSearch, names: IndexNames, settings: ServiceSettings) -> int:
        records = await KeyStore(client, names, 0).list(args.tenant)
        print(f"{'id':<14}{'key':<14}{'tenant':<24}{'name':<16}{'scopes':<12}{'created':<22}revoked")
        for r in records:
            revoked = r.revoked_at.strftime("%Y-%m-%d %H:%M") if r.revoked_at else "-"
            print(
                f"{r.key_id:<14}{r.masked:<14}{r.tenant_id:<24}{r.name or '-':<16}{','.join(r.scopes):<12}"
                f"{r.created_at.strftime('%Y-%m-%d %H:%M'):<22}{revoked}"
            )
        return 0

    return _run(job)


def _revoke_key(args: argparse.Namespace) -> int:
    async def job(client: AsyncOpenSearch, names: IndexNames, settings: ServiceSettings) -> int:
        record = await KeyStore(client, names, 0).revoke(args.key)
        if record is None:
            print("error: no single key matches that key or id")
            return 1
        print(
            f"Revoked key {record.key_id} of tenant {record.tenant_id}; "
            f"running services stop accepting it within {settings.key_cache_seconds:g}s"
        )
        return 0

    return _run(job)
