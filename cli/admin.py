"""`llmsearch templates apply|fill` and `llmsearch keys create|list|revoke`."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable

from opensearchpy import AsyncOpenSearch

from cli.arguments import scopes, tenant_id
from cli.engine_url import resolve_url
from core.derived_fill import FillProgress, fill_derived
from core.engine import make_client
from core.settings import OpenSearchSettings, ServiceSettings
from core.templates import IndexNames, apply_templates
from service.keys import KeyStore, Scope


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    templates = commands.add_parser("templates", help="index templates")
    templates.add_argument(
        "action",
        choices=["apply", "fill"],
        help="apply: install the templates and add new fields to existing indices; fill: also compute the derived "
        "fields analytics groups by (status_class, metadata_pairs) in documents indexed before they existed",
    )
    templates.set_defaults(handler=lambda args: _run(_fill_derived if args.action == "fill" else _apply_templates))

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


def _run(job: Job) -> int:
    settings = ServiceSettings()
    os_settings = OpenSearchSettings()
    url = resolve_url(os_settings)

    async def main() -> int:
        client = make_client(url, os_settings)
        try:
            names = IndexNames(settings.index_prefix)
            for update in await apply_templates(client, names):
                print(
                    f"index {update.index}: added {', '.join(update.added)} to its mapping; documents indexed "
                    "before have no value for them until they are loaded again (a rerun of the load updates them)"
                )
            return await job(client, names, settings)
        finally:
            await client.close()

    return asyncio.run(main())


async def _apply_templates(client: AsyncOpenSearch, names: IndexNames, settings: ServiceSettings) -> int:
    print(f"templates applied: read alias {names.read_alias}, write alias {names.write_alias}, keys {names.keys_index}")
    return 0


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
