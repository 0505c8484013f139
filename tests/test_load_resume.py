"""Crash safety of `llmsearch load` as a real subprocess: SIGKILL at several points then `--resume` leaves the
index holding exactly the source's records (none lost, none doubled) and each dead letter once; SIGINT/SIGTERM
stop cleanly; backfill settings (refresh, replicas) are restored after a normal run, a signal, and a SIGKILL
followed by a resume."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import AsyncOpenSearch

from cli.load import EXIT_REJECTED
from cli.signals import EXIT_FATAL, EXIT_INTERRUPTED
from core.documents import document_id
from core.templates import IndexNames
from loaders.sources.ndjson import NdjsonSource
from tests.test_load_support import (
    REPO,
    cli_command,
    cli_env,
    dead_letters,
    documents,
    fresh_index,
    options,
    request,
    run_cli,
    run_load,
    write_ndjson,
)

RECORDS = 9_000
BAD_LINES = (100, 2_001, 4_777, 7_000, RECORDS + 5)  # 1-based line numbers holding malformed JSON (the last too)
KILL_AFTER_LINES = (0, 1_500, 4_000, 6_500)  # SIGKILL once the checkpoint has passed these (0: right away)
BACKFILL_KEYS = ("index.refresh_interval", "index.number_of_replicas", "index.auto_expand_replicas")


def source_file(path: Path) -> tuple[Path, set[str]]:
    """RECORDS good records with malformed lines at BAD_LINES; returns the file and the request ids it holds."""
    lines: list[dict[str, Any] | str] = []
    ids: set[str] = set()
    number = 0
    for line in range(1, RECORDS + len(BAD_LINES) + 1):
        if line in BAD_LINES:
            lines.append('{"id": "half a record", ')
        else:
            lines.append(request(number, prefix="resume", request_body={"prompt": f"p{number}"}, response_body=None))
            ids.add(f"resume-{number:06d}")
            number += 1
    return write_ndjson(path, lines), ids


@pytest.fixture
async def names(client: AsyncOpenSearch) -> AsyncIterator[IndexNames]:
    async with fresh_index(client) as fresh:
        yield fresh


async def backfill_state(client: AsyncOpenSearch, names: IndexNames) -> dict[str, str | None]:
    response = await client.indices.get_settings(index=names.first_index, flat_settings=True)
    settings = response[names.first_index]["settings"]
    return {key: settings.get(key) for key in BACKFILL_KEYS}


def checkpoint_line(path: Path) -> int | None:
    """The line the checkpoint has committed up to, None before the first commit (or before the file exists)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    position = data.get("position")
    return int(position["value"]) if position else None


def start(opensearch_url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        cli_command(*args),
        cwd=REPO,
        env=cli_env(opensearch_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_progress(process: subprocess.Popen[str], checkpoint: Path, after_line: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = checkpoint_line(checkpoint)
        if checkpoint.exists() and (after_line == 0 or (line is not None and line >= after_line)):
            return
        if process.poll() is not None:
            _, stderr = process.communicate()
            raise AssertionError(f"the load ended (rc {process.returncode}) before line {after_line}:\n{stderr}")
        time.sleep(0.01)
    process.kill()
    raise AssertionError(f"no checkpoint past line {after_line} within {timeout}s")


def load_args(path: Path, names: IndexNames, checkpoint: Path, dead: Path, *extra: str) -> list[str]:
    return [
        str(path),
        "--tenant",
        "acme",
        "--index-prefix",
        names.prefix,
        "--checkpoint",
        str(checkpoint),
        "--dead-letter",
        str(dead),
        "--checkpoint-interval",
        "0.05",
        "--chunk-size",
        "250",
        "--concurrency",
        "3",
        "--backfill",
        "on",
        "--progress",
        "none",
        *extra,
    ]


async def test_sigkill_at_several_points_then_resume_loses_and_doubles_nothing(
    client: AsyncOpenSearch, names: IndexNames, opensearch_url: str, tmp_path: Path
) -> None:
    path, ids = source_file(tmp_path / "requests.ndjson")
    checkpoint, dead = tmp_path / "load.checkpoint.json", tmp_path / "dead.ndjson"
    original = await backfill_state(client, names)
    assert original["index.refresh_interval"] != "-1"

    killed_at: list[int | None] = []
    for number, after_line in enumerate(KILL_AFTER_LINES):
        resume = ["--resume"] if number else []
        process = start(opensearch_url, *load_args(path, names, checkpoint, dead, *resume))
        wait_for_progress(process, checkpoint, after_line)
        process.kill()  # SIGKILL: no handler, no finally, no flush
        process.wait(timeout=10)
        killed_at.append(checkpoint_line(checkpoint))
        if number == 1:
            # Nothing could restore the backfill settings: they are still the load's.
            assert (await backfill_state(client, names))["index.refresh_interval"] == "-1"
    print(f"checkpoint lines when killed: {killed_at}")
    assert killed_at[-1] is not None and killed_at[-1] < RECORDS, f"killed too late to test anything: {killed_at}"

    done = run_cli(opensearch_url, *load_args(path, names, checkpoint, dead, "--resume", "--json"))
    assert done.returncode == EXIT_REJECTED, done.stderr
    summary = json.loads(done.stdout)
    counts = summary["counts"]
    assert counts["created"] + counts["updated"] == RECORDS
    assert counts["rejected"] == len(BAD_LINES)
    assert summary["complete"] is True

    found = await documents(client, names)  # fails on a duplicate _id
    assert set(found) == {document_id("acme", request_id) for request_id in ids}
    letters = dead_letters(dead)
    assert [letter["position"]["value"] for letter in letters] == list(BAD_LINES)
    assert all("malformed JSON" in letter["reason"] for letter in letters)
    # The killed runs' settings were remembered in the checkpoint and put back, not the -1 they left behind.
    assert await backfill_state(client, names) == original


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_sigint_sigterm_stop_cleanly_and_restore_settings(
    client: AsyncOpenSearch, names: IndexNames, opensearch_url: str, tmp_path: Path, signum: signal.Signals
) -> None:
    path, ids = source_file(tmp_path / "requests.ndjson")
    checkpoint, dead = tmp_path / "load.checkpoint.json", tmp_path / "dead.ndjson"
    original = await backfill_state(client, names)

    process = start(opensearch_url, *load_args(path, names, checkpoint, dead))
    wait_for_progress(process, checkpoint, 1_500)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert f"interrupted by {signum.name}" in stderr and "Traceback" not in stderr
    assert await backfill_state(client, names) == original
    state = json.loads(checkpoint.read_text())
    assert state["complete"] is False and state["backfill_restore"] is None
    assert state["position"]["value"] >= 1_500

    done = run_cli(opensearch_url, *load_args(path, names, checkpoint, dead, "--resume", "--json"))
    assert done.returncode == EXIT_REJECTED, done.stderr
    assert json.loads(done.stdout)["counts"]["rejected"] == len(BAD_LINES)
    assert len(await documents(client, names)) == len(ids)
    assert len(dead_letters(dead)) == len(BAD_LINES)


async def test_a_normal_backfill_run_restores_settings(
    client: AsyncOpenSearch, names: IndexNames, tmp_path: Path
) -> None:
    original = await backfill_state(client, names)
    path = write_ndjson(tmp_path / "few.ndjson", [request(n) for n in range(50)])
    result = await run_load(NdjsonSource(path, 1 << 20), client, names, "acme", options(tmp_path, backfill="on"))
    assert result.backfill and result.counts.created == 50
    assert await backfill_state(client, names) == original
    assert (await client.count(index=names.read_alias))["count"] == 50  # refreshed at the end


async def test_resuming_a_different_source_is_refused(opensearch_url: str, names: IndexNames, tmp_path: Path) -> None:
    first = write_ndjson(tmp_path / "first.ndjson", [request(n) for n in range(5)])
    second = write_ndjson(tmp_path / "second.ndjson", [request(n, prefix="other") for n in range(5)])
    checkpoint, dead = tmp_path / "shared.checkpoint.json", tmp_path / "dead.ndjson"
    assert run_cli(opensearch_url, *load_args(first, names, checkpoint, dead)).returncode == 0
    done = run_cli(opensearch_url, *load_args(second, names, checkpoint, dead, "--resume"))
    assert done.returncode == EXIT_FATAL
    assert "Refusing to resume a different load" in done.stderr and "first.ndjson" in done.stderr
    other_tenant = load_args(first, names, checkpoint, dead, "--resume")
    other_tenant[other_tenant.index("acme")] = "globex"
    done = run_cli(opensearch_url, *other_tenant)
    assert done.returncode == EXIT_FATAL and "tenant acme" in done.stderr
