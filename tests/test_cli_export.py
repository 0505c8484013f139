"""`llmsearch export` as a real subprocess against the real engine: SIGKILL twice then `--resume` leaves a file
with every request exactly once; SIGTERM stops cleanly; the rows are byte for byte the API's; a CSV loads back
with `llmsearch load`; flags are checked like the API's parameters."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from cli.export import EXIT_OK, EXIT_USAGE, checkpoint_path
from cli.signals import EXIT_FATAL, EXIT_INTERRUPTED
from core.templates import IndexNames
from loaders.sources.csv_source import without_safety_quote
from service.keys import KeyStore
from tests.dataset import TENANT_A, TENANT_B, index_documents, tenant_documents
from tests.export_data import TRICKY_TEXTS, bulk_documents, tenant_sources, tricky_documents
from tests.test_load_support import REPO, cli_env

Api = TestClient[web.Request, web.Application]
COUNT = 20_000
TOTAL = COUNT + len(TRICKY_TEXTS)
KILL_AFTER = (2_000, 9_000)  # SIGKILL once the checkpoint has passed these many records


@pytest.fixture(scope="module")
async def key_a(client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore) -> str:
    await index_documents(
        client,
        index_names,
        [
            *bulk_documents(TENANT_A, COUNT, "bulk", 40),
            *tricky_documents(TENANT_A),
            *tenant_documents(TENANT_B, 50),
        ],
    )
    key, _ = await keys.create(TENANT_A)
    return key


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli.main", "export", *args]


def start(opensearch_url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command(*args), cwd=REPO, env=cli_env(opensearch_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def run(opensearch_url: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args), cwd=REPO, env=cli_env(opensearch_url), capture_output=True, text=True, timeout=timeout
    )


def export_args(names: IndexNames, output: Path, *extra: str) -> list[str]:
    return ["--tenant", TENANT_A, "--index-prefix", names.prefix, "-o", str(output), "--progress", "none", *extra]


def checkpoint(output: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(checkpoint_path(output).read_text())
    except (OSError, ValueError):
        return None
    return data


def wait_for_records(process: subprocess.Popen[str], output: Path, records: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = checkpoint(output)
        if state is not None and state["records"] >= records:
            return
        if process.poll() is not None:
            _, stderr = process.communicate()
            raise AssertionError(f"the export ended (rc {process.returncode}) before {records} records:\n{stderr}")
        time.sleep(0.005)
    process.kill()
    raise AssertionError(f"no checkpoint past {records} records within {timeout}s")


def exported_ids(output: Path, fmt: str) -> list[str]:
    """The ids in the file, which must parse from its first byte to its last."""
    if fmt == "ndjson":
        return [json.loads(line)["id"] for line in output.read_text(encoding="utf-8").splitlines()]
    with output.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:2] == ["id", "createdAt"]
    assert all(len(row) == len(rows[0]) for row in rows)
    return [without_safety_quote(row[0]) for row in rows[1:]]


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
async def test_sigkill_twice_then_resume_writes_every_request_exactly_once(
    client: AsyncOpenSearch, index_names: IndexNames, key_a: str, opensearch_url: str, tmp_path: Path, fmt: str
) -> None:
    output = tmp_path / f"export.{fmt}"
    args = export_args(index_names, output, "--checkpoint-every", "200", "--format", fmt)
    killed_at: list[tuple[int, int, int]] = []
    for number, records in enumerate(KILL_AFTER):
        process = start(opensearch_url, *args, *(["--resume"] if number else []))
        wait_for_records(process, output, records)
        process.kill()  # SIGKILL: no handler, no finally, no flush
        process.wait(timeout=10)
        state = checkpoint(output)
        assert state is not None and not state["complete"]
        killed_at.append((state["records"], state["bytes"], output.stat().st_size))
        # Whatever a killed run wrote past its checkpoint, even half a record, is cut off by the resume.
        with output.open("ab") as handle:
            handle.write(b'{"id": "half a rec' if fmt == "ndjson" else b'"half, a ro')
    print(f"(records, checkpoint bytes, file bytes) when killed: {killed_at}")
    assert killed_at[-1][0] < TOTAL, f"killed too late to test anything: {killed_at}"

    started = time.monotonic()
    done = run(opensearch_url, *args, "--resume")
    assert done.returncode == EXIT_OK, done.stderr
    print(f"resumed run: {time.monotonic() - started:.1f}s; {done.stdout.strip()}")
    assert f"resuming after {killed_at[-1][0]:,} records" in done.stderr
    ids = exported_ids(output, fmt)
    assert len(ids) == len(set(ids)) == TOTAL
    assert set(ids) == set(await tenant_sources(client, index_names, TENANT_A))
    state = checkpoint(output)
    assert state is not None and state["complete"] and state["records"] == TOTAL
    assert state["bytes"] == output.stat().st_size

    again = run(opensearch_url, *args, "--resume")
    assert again.returncode == EXIT_OK and "complete; nothing to do" in again.stderr


async def test_sigterm_stops_cleanly_and_frees_the_point_in_time(
    client: AsyncOpenSearch, index_names: IndexNames, key_a: str, opensearch_url: str, tmp_path: Path
) -> None:
    output = tmp_path / "export.ndjson"
    args = export_args(index_names, output, "--checkpoint-every", "200")
    pits_before = {pit["pit_id"] for pit in (await client.get_all_pits()).get("pits", [])}
    process = start(opensearch_url, *args)
    wait_for_records(process, output, 1_000)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert "interrupted by SIGTERM" in stderr and "Traceback" not in stderr
    pits_after = {pit["pit_id"] for pit in (await client.get_all_pits()).get("pits", [])}
    assert not pits_after - pits_before, "the interrupted export left its point in time open"
    state = checkpoint(output)
    assert state is not None and state["bytes"] == output.stat().st_size  # the stop saved what was written

    done = run(opensearch_url, *args, "--resume")
    assert done.returncode == EXIT_OK, done.stderr
    ids = exported_ids(output, "ndjson")
    assert len(ids) == len(set(ids)) == TOTAL


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
async def test_rows_are_the_apis_byte_for_byte(
    api: Api, index_names: IndexNames, key_a: str, opensearch_url: str, tmp_path: Path, fmt: str
) -> None:
    params = {
        "search": "answer | tricky",
        "filter": json.dumps({"combinator": "or", "rules": [{"field": "cost", "operator": ">", "value": 0.01}]}),
        "sortBy": "cost",
        "sortOrder": "asc",
        "fields": "createdAt,model,cost,metadata,completion,status",
    }
    flags = [f"--{'sort-by' if k == 'sortBy' else 'sort-order' if k == 'sortOrder' else k}" for k in params]
    output = tmp_path / f"chosen.{fmt}"
    done = run(opensearch_url, *export_args(index_names, output, "--format", fmt), *_pairs(flags, params.values()))
    assert done.returncode == EXIT_OK, done.stderr
    response = await api.get("/api/v1/export", params={**params, "format": fmt}, headers={"Authorization": key_a})
    assert response.status == 200
    streamed = await response.read()
    assert output.read_bytes() == streamed
    assert streamed.count(b"\n") > 1_000


def _pairs(flags: list[str], values: Any) -> list[str]:
    return [item for pair in zip(flags, values, strict=True) for item in pair]


async def test_a_csv_export_loads_into_another_tenant_with_llmsearch_load(
    client: AsyncOpenSearch, index_names: IndexNames, key_a: str, opensearch_url: str, tmp_path: Path
) -> None:
    output = tmp_path / "tricky.csv"
    done = run(opensearch_url, *export_args(index_names, output, "--app-id", "tricky"))
    assert done.returncode == EXIT_OK, done.stderr
    files = ["--checkpoint", str(tmp_path / "load.json"), "--dead-letter", str(tmp_path / "dead.ndjson")]
    load = [str(output), "--tenant", "copy", "--index-prefix", index_names.prefix, *files, "--progress", "none"]
    loaded = subprocess.run(
        [sys.executable, "-m", "cli.main", "load", *load, "--backfill", "off"],
        cwd=REPO,
        env=cli_env(opensearch_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr + loaded.stdout
    original = {
        request_id: source
        for request_id, source in (await tenant_sources(client, index_names, TENANT_A)).items()
        if source["app_id"] == "tricky"
    }
    assert await tenant_sources(client, index_names, "copy") == original


async def test_resume_cuts_the_file_back_to_the_checkpoint_and_continues_after_it(
    index_names: IndexNames, key_a: str, opensearch_url: str, tmp_path: Path
) -> None:
    """A checkpoint from the middle of the export, and more written after it than the rest of the export takes
    (a killed run's rows, then a change that makes fewer follow): the resume must cut, not just overwrite."""
    output = tmp_path / "tricky.ndjson"
    args = export_args(index_names, output, "--app-id", "tricky")
    assert run(opensearch_url, *args).returncode == EXIT_OK
    whole = output.read_bytes()
    lines = whole.splitlines(keepends=True)
    kept = 10
    last = json.loads(lines[kept - 1])
    state = checkpoint(output)
    assert state is not None
    created_ms = int(datetime.fromisoformat(last["createdAt"]).timestamp() * 1000)
    state.update(after=[created_ms, last["id"]], records=kept, bytes=len(b"".join(lines[:kept])), complete=False)
    checkpoint_path(output).write_text(json.dumps(state))
    output.write_bytes(b"".join(lines[:kept]) + b'{"id": "from a killed run"}\n' * 10_000)

    done = run(opensearch_url, *args, "--resume")
    assert done.returncode == EXIT_OK, done.stderr
    assert output.read_bytes() == whole


async def test_resume_refuses_a_checkpoint_of_another_export(
    index_names: IndexNames, key_a: str, opensearch_url: str, tmp_path: Path
) -> None:
    output = tmp_path / "few.ndjson"
    assert run(opensearch_url, *export_args(index_names, output, "--app-id", "tricky")).returncode == EXIT_OK
    other = run(opensearch_url, *export_args(index_names, output, "--app-id", "bulk", "--resume"))
    assert other.returncode == EXIT_FATAL
    assert "is for another export" in other.stderr and "run without --resume" in other.stderr
    same = run(opensearch_url, *export_args(index_names, output, "--app-id", "tricky", "--resume"))
    assert same.returncode == EXIT_OK and "complete; nothing to do" in same.stderr
    output.write_bytes(output.read_bytes()[:100])  # the file lost what the checkpoint vouches for
    changed = run(opensearch_url, *export_args(index_names, output, "--app-id", "tricky", "--resume"))
    assert changed.returncode == EXIT_FATAL and "it was changed since" in changed.stderr


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--filter", "{"], "--filter:"),
        (["--search", "***"], "--search:"),
        (["--fields", "tenant_id"], "--fields: unknown field 'tenant_id'"),
        (["--fields", "duration_ms", "--format", "csv"], "--fields: duration_ms is computed"),
        (["--sort-by", "prompt"], "invalid choice: 'prompt'"),
        (["--checkpoint-every", "0"], "0 is not a positive whole number"),
    ],
)
def test_bad_flags_are_usage_errors_naming_them(
    index_names: IndexNames, opensearch_url: str, tmp_path: Path, flags: list[str], message: str
) -> None:
    done = run(opensearch_url, *export_args(index_names, tmp_path / "x.ndjson", *flags))
    assert done.returncode == EXIT_USAGE
    assert message in done.stderr, done.stderr
    assert not (tmp_path / "x.ndjson").exists()


def test_the_progress_bar_shows_records_rate_and_eta(
    index_names: IndexNames, key_a: str, opensearch_url: str, tmp_path: Path
) -> None:
    output = tmp_path / "bar.ndjson"
    args = export_args(index_names, output, "--checkpoint-every", "500")
    args[args.index("--progress") + 1] = "bar"
    done = run(opensearch_url, *args)
    assert done.returncode == EXIT_OK, done.stderr
    assert f"/{TOTAL:,} records" in done.stderr
    assert "records/s" in done.stderr and "ETA" in done.stderr
