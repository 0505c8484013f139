"""`llmsearch load SOURCE --tenant T [--format ndjson|csv|postgres|synthetic] [options]`.

Exit codes: 0 every record indexed; 3 the load finished but some records were rejected (see the dead-letter
file); 1 a fatal error (engine, source, checkpoint); 2 bad usage; 130 interrupted (SIGINT/SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

from pydantic import ValidationError

from cli.arguments import tenant_id
from cli.engine_url import resolve_url
from cli.model_flags import FlagError, add_model_flags, model_from_flags
from cli.signals import EXIT_FATAL, Stopped, run_resumable, until_signalled
from core.engine import make_client
from core.settings import ServiceSettings, opensearch_settings
from core.templates import IndexNames
from core.validation import describe_validation
from loaders.checkpoint import CheckpointError
from loaders.options import LoadOptions
from loaders.run import LoadResult, load
from loaders.sources.base import Source, SourceError
from loaders.sources.csv_source import CsvSource
from loaders.sources.ndjson import NdjsonSource
from loaders.sources.postgres import DEFAULT_TABLE, PostgresSource
from loaders.sources.synthetic_source import SyntheticSource

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_REJECTED = 3

FORMATS = ("ndjson", "csv", "postgres", "synthetic")
_NDJSON_SUFFIXES = (".ndjson", ".jsonl", ".json", ".ndjson.gz", ".jsonl.gz", ".json.gz")
_CSV_SUFFIXES = (".csv", ".csv.gz")
# Spellings the command had before its flags were made from LoadOptions' field names; scripts still use them.
FLAG_ALIASES = {
    "max_chunk_bytes": ("--chunk-bytes",),
    "checkpoint_path": ("--checkpoint",),
    "dead_letter_path": ("--dead-letter",),
}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "load",
        help="load logged requests (NDJSON, CSV, PostgreSQL, synthetic) into the index",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "source",
        metavar="SOURCE",
        help="a file (.ndjson/.jsonl/.csv, optionally .gz), a postgresql:// DSN, or 'synthetic'",
    )
    parser.add_argument("--format", choices=FORMATS, help="default: from SOURCE's name")
    parser.add_argument(
        "--tenant",
        type=tenant_id,
        help='the tenant of every record (required except for postgres, where "userId" is the default)',
    )
    parser.add_argument("--index-prefix", help="default: LLMSEARCH_INDEX_PREFIX or llm-requests")

    synthetic = parser.add_argument_group("synthetic")
    synthetic.add_argument("--count", type=int, default=1000, help="records to generate (default 1000)")
    synthetic.add_argument("--seed", type=int, default=0)

    postgres = parser.add_argument_group("postgres")
    postgres.add_argument("--table", default=DEFAULT_TABLE, help=f'default "{DEFAULT_TABLE}"')
    postgres.add_argument("--schema", default="public")

    groups = add_model_flags(parser, LoadOptions, aliases=FLAG_ALIASES)
    groups["output"].add_argument("--json", action="store_true", help="print the result as JSON instead of a summary")
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    fmt = args.format or guess_format(args.source)
    if fmt is None:
        return usage(f"cannot tell the format of {args.source!r}; pass --format ({', '.join(FORMATS)})")
    if args.tenant is None and fmt != "postgres":
        return usage(f"--tenant is required for {fmt} sources")
    try:
        options = model_from_flags(LoadOptions, args)
        names = IndexNames(prefix=args.index_prefix or ServiceSettings().index_prefix)
        source = open_source(fmt, args, options)
    except FlagError as error:
        return usage(str(error))
    except ValidationError as error:  # the environment's settings (LLMSEARCH_INDEX_PREFIX)
        return usage(describe_validation(error, "settings"))
    except SourceError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FATAL
    try:
        result = run_resumable(_run(source, names, args.tenant, options), (SourceError, CheckpointError))
    except Stopped as stop:
        return stop.code
    if args.json:
        print(result.model_dump_json(indent=2))
    else:
        print(summary(result))
    return EXIT_OK if result.clean else EXIT_REJECTED


def usage(message: str) -> int:
    print(f"llmsearch load: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def guess_format(source: str) -> str | None:
    lowered = source.lower()
    if lowered.startswith(("postgres://", "postgresql://")) or "dbname=" in lowered:
        return "postgres"
    if lowered == "synthetic" or lowered.startswith("synthetic:"):
        return "synthetic"
    if lowered.endswith(_CSV_SUFFIXES):
        return "csv"
    if lowered.endswith(_NDJSON_SUFFIXES):
        return "ndjson"
    return None


def open_source(fmt: str, args: argparse.Namespace, options: LoadOptions) -> Source:
    max_bytes = options.max_document_bytes
    if fmt == "ndjson":
        return NdjsonSource(Path(args.source), max_bytes)
    if fmt == "csv":
        return CsvSource(Path(args.source), max_bytes)
    if fmt == "postgres":
        return PostgresSource(args.source, table=args.table, schema=args.schema)
    return SyntheticSource(count=args.count, seed=args.seed)


async def _run(source: Source, names: IndexNames, tenant: str | None, options: LoadOptions) -> LoadResult:
    settings = opensearch_settings()
    # Starting or finding the local node talks on stdout, which belongs to the summary (and --json).
    with contextlib.redirect_stdout(sys.stderr):
        url = await asyncio.to_thread(resolve_url, settings)
    client = make_client(url, settings)
    try:
        return await until_signalled(
            load(source, client=client, names=names, tenant=tenant, options=options),
            "saving the checkpoint, restoring settings",
        )
    finally:
        await client.close()


def summary(result: LoadResult) -> str:
    counts, run = result.counts, result.run
    lines = [
        f"source:    {result.source}",
        f"tenant:    {result.tenant or '(from records)'}    index: {result.index}",
        f"records:   {counts.records:,}  (created {counts.created:,}, updated {counts.updated:,}, "
        f"superseded {counts.superseded:,}, rejected {counts.rejected:,})",
    ]
    if result.resumed_from is not None:
        lines.append(f"this run:  {run.records:,} records after {result.resumed_from.label()}")
    lines.append(
        f"speed:     {result.docs_per_s:,.0f} docs/s, {result.bytes_per_s / 1e6:.2f} MB/s "
        f"({run.records:,} records, {run.bytes / 1e6:.1f} MB in {result.seconds:.1f}s)"
    )
    if counts.cost_unknown:
        models = ", ".join(
            f"{name} ({n:,})" for name, n in sorted(counts.unknown_models.items(), key=lambda kv: -kv[1])
        )
        lines.append(f"warning:   {counts.cost_unknown:,} documents have no cost: unknown model {models}")
    if result.request_retries or result.document_retries:
        lines.append(f"retries:   {result.request_retries} requests, {result.document_retries} documents")
    if counts.rejected:
        lines.append(f"rejected:  see {result.dead_letter_path}")
    lines.append(f"checkpoint: {result.checkpoint_path}")
    return "\n".join(lines)
