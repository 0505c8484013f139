"""`llmsearch export --tenant T [--search S --filter F --sort-by X --sort-order O --user-id U --app-id A --fields
F] [--format ndjson|csv] -o FILE [--resume]`: every request of a tenant that a query matches, into FILE.

The rows are exactly those `GET /api/v1/export` streams (service.export renders both, from the list's query
builder), read straight from OpenSearch. A CSV loads back with `llmsearch load FILE.csv --tenant OTHER`.

Resumable: every --checkpoint-every records the file is synced to disk, then FILE.checkpoint.json records how many
records and bytes it safely holds and the last record's sort values. After a crash or a kill, the same command
with `--resume` cuts FILE back to that length and continues after those sort values. It continues on a new point
in time (the old one has expired): the sort ends in the request id, unique within a tenant, so it picks up exactly
after the last record kept; requests indexed or changed meanwhile are exported if they sort after it.

Exit codes: 0 done; 1 a fatal error (engine, checkpoint, file); 2 bad usage; 130 interrupted (SIGINT/SIGTERM; the
checkpoint is saved).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from opensearchpy import AsyncOpenSearch
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.text import Text

from cli.arguments import tenant_id
from cli.engine_url import resolve_url
from cli.signals import Stopped, run_resumable, until_signalled
from core.engine import make_client
from core.fields import SORTABLE
from core.routing import tenant_routing
from core.settings import ServiceSettings, opensearch_settings
from core.templates import IndexNames
from core.validation import describe_validation
from loaders.checkpoint import write_atomically
from service.export import FORMATS, ExportFormat, ExportScan, Rows, export_body, rows_for
from service.filters import FilterError
from service.params import ParameterError, RequestsQuery, parse_query
from service.query import SortValue
from service.search_text import SearchError

EXIT_OK = 0
EXIT_USAGE = 2
CHECKPOINT_VERSION = 1
DEFAULT_CHECKPOINT_EVERY = 10_000
PROGRESS_EVERY = 250  # records between progress updates: often enough for the eye, rarely enough to cost nothing
# The list's query parameters and the flags that set them.
FLAGS = {
    "user_id": "--user-id",
    "app_id": "--app-id",
    "search": "--search",
    "filter": "--filter",
    "sortBy": "--sort-by",
    "sortOrder": "--sort-order",
    "fields": "--fields",
}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "export",
        help="export a tenant's requests (all, or those a query matches) to an NDJSON or CSV file",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help="the file to write")
    parser.add_argument("--tenant", type=tenant_id, required=True, help="whose requests")
    parser.add_argument("--format", choices=FORMATS, help="default: csv when FILE ends in .csv, else ndjson")
    selection = parser.add_argument_group("selection and order (as the parameters of GET /api/v1/requests)")
    selection.add_argument("--user-id", metavar="ID", help="exact end-user id")
    selection.add_argument("--app-id", metavar="ID", help="exact app id")
    selection.add_argument("--search", metavar="TEXT", help="full-text search, as the API's `search`")
    selection.add_argument("--filter", metavar="JSON", help="a react-querybuilder rule group or a plain map")
    selection.add_argument("--sort-by", choices=SORTABLE, help="default: createdAt; ties are broken by id")
    selection.add_argument("--sort-order", choices=("asc", "desc"), help="default: desc")
    selection.add_argument("--fields", metavar="LIST", help="comma-separated fields (id always comes too)")
    run = parser.add_argument_group("run")
    run.add_argument("--resume", action="store_true", help="continue from FILE.checkpoint.json")
    run.add_argument(
        "--checkpoint-every",
        type=_positive,
        default=DEFAULT_CHECKPOINT_EVERY,
        metavar="N",
        help=f"records between checkpoints (default {DEFAULT_CHECKPOINT_EVERY:,})",
    )
    run.add_argument(
        "--progress",
        choices=("auto", "bar", "none"),
        default="auto",
        help="a progress bar on stderr: auto (when it is a terminal), bar, none",
    )
    run.add_argument("--index-prefix", help="default: LLMSEARCH_INDEX_PREFIX or llm-requests")
    parser.set_defaults(handler=run_command)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


class ExportError(Exception):
    """The export cannot go on (a checkpoint for another export, a file changed since it was written)."""


class ExportIdentity(BaseModel):
    """What a checkpoint belongs to: `--resume` of another export is refused rather than mixing two in one file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant: str
    index: str
    format: ExportFormat
    query: dict[str, Any]


class ExportCheckpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = CHECKPOINT_VERSION
    identity: ExportIdentity
    after: list[SortValue] | None = None  # the sort values of the last record in the file; None: none yet
    records: int = Field(default=0, ge=0)
    bytes: int = Field(default=0, ge=0)  # the file's length up to and including that record
    total: int | None = None  # how many the query matched, when last counted
    complete: bool = False
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


def checkpoint_path(output: Path) -> Path:
    return output.with_name(output.name + ".checkpoint.json")


def run_command(args: argparse.Namespace) -> int:
    fmt: ExportFormat = args.format or ("csv" if args.output.name.lower().endswith(".csv") else "ndjson")
    try:
        query = query_from_flags(args)
        rows = _rows(fmt, query)
        settings = ServiceSettings()
        names = IndexNames(prefix=args.index_prefix or settings.index_prefix)
        body = _export_body(query, args.tenant, rows)
    except (ParameterError, ExportError) as error:
        return usage(str(error))
    except ValidationError as error:  # the environment's settings (LLMSEARCH_INDEX_PREFIX, ...)
        return usage(describe_validation(error, "settings"))
    identity = ExportIdentity(
        tenant=args.tenant,
        index=names.read_alias,
        format=fmt,
        query=query.model_dump(mode="json", exclude={"pageSize", "pageNumber", "cursor"}),
    )
    timeout = settings.export_timeout_seconds
    run = ExportRun(args.output, identity, rows, body, args.checkpoint_every, timeout, _progress(args.progress))
    started = time.monotonic()
    try:
        done = run_resumable(_until_signalled(run, args.resume), (ExportError, OSError))
    except Stopped as stop:
        return stop.code
    seconds = max(time.monotonic() - started, 1e-9)
    print(
        f"exported {done.records:,} requests to {args.output} ({done.bytes / 1e6:.1f} MB; this run "
        f"{run.exported:,} in {seconds:.1f}s, {run.exported / seconds:,.0f} records/s)"
    )
    return EXIT_OK


def query_from_flags(args: argparse.Namespace) -> RequestsQuery:
    """The list's query model from the flags; ParameterError (naming the flag) when it refuses them."""
    params = {
        name: getattr(args, flag[2:].replace("-", "_"))
        for name, flag in FLAGS.items()
        if getattr(args, flag[2:].replace("-", "_")) is not None
    }
    try:
        return parse_query(params, list(params))
    except ParameterError as error:
        raise ParameterError(flag_message(str(error))) from None


def _rows(fmt: ExportFormat, query: RequestsQuery) -> Rows:
    try:
        return rows_for(fmt, query)
    except ParameterError as error:
        raise ParameterError(flag_message(str(error))) from None


def _export_body(query: RequestsQuery, tenant: str, rows: Rows) -> dict[str, Any]:
    try:
        return export_body(query, tenant, rows.source_fields)
    except SearchError as error:
        raise ParameterError(flag_message(str(error))) from None
    except FilterError as error:
        raise ParameterError(f"--filter: {error}") from None


def flag_message(message: str) -> str:
    """A message of the API's (`sortBy: ...`) with the parameter named by its flag (`--sort-by: ...`)."""
    name, colon, rest = message.partition(":")
    return f"{FLAGS[name]}:{rest}" if colon and name in FLAGS else message


def usage(message: str) -> int:
    print(f"llmsearch export: error: {message}", file=sys.stderr)
    return EXIT_USAGE


async def _until_signalled(run: ExportRun, resume: bool) -> ExportCheckpoint:
    """Run the export; SIGINT/SIGTERM cancel it, and its finally blocks save the checkpoint and delete the PIT."""
    settings = opensearch_settings()
    with contextlib.redirect_stdout(sys.stderr):  # starting a local node talks; stdout is the summary's
        url = await asyncio.to_thread(resolve_url, settings)
    client = make_client(url, settings)
    try:
        return await until_signalled(run.run(client, resume), "saving the checkpoint, releasing the point in time")
    finally:
        await client.close()


class ExportRun:
    """One `llmsearch export`: the checkpoint to start from, then the scan's rows appended to the file."""

    def __init__(
        self,
        output: Path,
        identity: ExportIdentity,
        rows: Rows,
        body: dict[str, Any],
        checkpoint_every: int,
        timeout: float,
        progress: ExportProgress | None,
    ) -> None:
        self.output = output
        self.checkpoint = checkpoint_path(output)
        self.identity = identity
        self.rows = rows
        self.body = body
        self.checkpoint_every = checkpoint_every
        self.timeout = timeout
        self.progress = progress
        self.exported = 0

    async def run(self, client: AsyncOpenSearch, resume: bool) -> ExportCheckpoint:
        state = self.starting_point(resume)
        if state.complete:
            print(f"{self.checkpoint} says this export is complete; nothing to do", file=sys.stderr)
            return state
        with self.open_output(state) as out:
            scan = ExportScan(
                client,
                self.identity.index,
                self.body,
                timeout=self.timeout,
                after=state.after,
                count_total=True,
                routing=tenant_routing(self.identity.tenant),
            )
            async with scan:
                state.total = scan.total
                with self.progress.shown(state) if self.progress else contextlib.nullcontext():
                    try:
                        async for hit in scan.hits():
                            line = self.rows.row(hit["_source"])
                            out.write(line)
                            state.bytes += len(line)
                            state.records += 1
                            state.after = hit["sort"]
                            self.exported += 1
                            if self.exported % self.checkpoint_every == 0:
                                self.save(out, state)
                            if self.progress and self.exported % PROGRESS_EVERY == 0:
                                self.progress.update(state)
                    finally:
                        # However the scan ends (done, Ctrl+C, an engine error), what is written is kept.
                        self.save(out, state)
            state.complete = True
            self.save(out, state)
        return state

    def starting_point(self, resume: bool) -> ExportCheckpoint:
        fresh = ExportCheckpoint(identity=self.identity)
        if not resume:
            return fresh
        previous = read_checkpoint(self.checkpoint)
        if previous is None:
            print(f"no checkpoint at {self.checkpoint}; starting from the beginning", file=sys.stderr)
            return fresh
        if previous.identity != self.identity:
            raise ExportError(
                f"{self.checkpoint} is for another export ({_describe(previous.identity)}); "
                "run without --resume to start this one again"
            )
        size = self.output.stat().st_size if self.output.exists() else 0
        if size < previous.bytes:
            raise ExportError(
                f"{self.output} has {size:,} bytes, fewer than the {previous.bytes:,} its checkpoint says were "
                "written: it was changed since; run without --resume to start again"
            )
        if not previous.complete:
            print(f"resuming after {previous.records:,} records", file=sys.stderr)
        return previous

    @contextlib.contextmanager
    def open_output(self, state: ExportCheckpoint) -> Iterator[BinaryIO]:
        """FILE cut back to what the checkpoint vouches for (anything after it is from a run that was killed), or
        a new FILE starting with the header row."""
        out: BinaryIO
        if state.bytes:
            out = self.output.open("r+b")
            out.truncate(state.bytes)
            out.seek(state.bytes)
        else:
            out = self.output.open("wb")
            header = self.rows.header()
            out.write(header)
            state.bytes = len(header)
        with out:
            self.save(out, state)  # the identity is on disk before the first record
            yield out

    def save(self, out: BinaryIO, state: ExportCheckpoint) -> None:
        """Sync the file, then record what it holds: the checkpoint never vouches for bytes not on disk."""
        out.flush()
        os.fsync(out.fileno())
        state.updated_at = datetime.now(UTC)
        write_atomically(self.checkpoint, state.model_dump_json(indent=2).encode())


def _describe(identity: ExportIdentity) -> str:
    query = ", ".join(f"{name}={value}" for name, value in identity.query.items() if value is not None)
    return f"tenant {identity.tenant}, index {identity.index}, {identity.format}, {query}"


def read_checkpoint(path: Path) -> ExportCheckpoint | None:
    if not path.exists():
        return None
    try:
        return ExportCheckpoint.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as error:
        raise ExportError(f"checkpoint {path} is unreadable ({error}); delete it or run without --resume") from None


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:,.0f} records/s")


class ExportProgress:
    """rich's bar on stderr: records done of the total the query matched, records/s, and the time remaining."""

    def __init__(self, console: Console) -> None:
        self._display = Progress(
            BarColumn(),
            TextColumn("{task.completed:,.0f}/{task.total:,.0f} records"),
            _RateColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task = self._display.add_task("export", start=False)

    @contextlib.contextmanager
    def shown(self, state: ExportCheckpoint) -> Iterator[None]:
        self._display.update(self._task, total=state.total or 0, completed=state.records)
        self._display.start_task(self._task)
        self._display.start()
        try:
            yield
        finally:
            self._display.stop()

    def update(self, state: ExportCheckpoint) -> None:
        self._display.update(self._task, completed=state.records)


def _progress(mode: str) -> ExportProgress | None:
    if mode == "none" or (mode == "auto" and not sys.stderr.isatty()):
        return None
    return ExportProgress(Console(file=sys.stderr, force_terminal=True))
