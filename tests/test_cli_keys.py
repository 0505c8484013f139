"""`llmsearch templates apply` and `llmsearch keys create|list|revoke`, run as a user would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine import delete_index_prefix

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cli_env(opensearch_url: str) -> Iterator[dict[str, str]]:
    prefix = f"test-cli-{uuid.uuid4().hex[:8]}"
    yield {**os.environ, "OPENSEARCH_URL": opensearch_url, "LLMSEARCH_INDEX_PREFIX": prefix}
    delete_index_prefix(opensearch_url, prefix)


def llmsearch(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_templates_keys_lifecycle(cli_env: dict[str, str]) -> None:
    applied = llmsearch(cli_env, "templates", "apply")
    assert applied.returncode == 0, applied.stderr
    assert "templates applied" in applied.stdout

    created = llmsearch(cli_env, "keys", "create", "--tenant", "acme", "--name", "ci")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    key_id = re.search(r"Created key (\w+)", created.stdout)
    assert key.startswith("lrs_") and key_id

    listed = llmsearch(cli_env, "keys", "list", "--tenant", "acme")
    assert listed.returncode == 0
    assert key_id.group(1) in listed.stdout and key not in listed.stdout
    assert key[:10] in listed.stdout  # the masked prefix

    revoked = llmsearch(cli_env, "keys", "revoke", key_id.group(1))
    assert revoked.returncode == 0, revoked.stdout
    assert "Revoked" in revoked.stdout
    relisted = llmsearch(cli_env, "keys", "list")
    line = next(line for line in relisted.stdout.splitlines() if line.startswith(key_id.group(1)))
    assert not line.rstrip().endswith("-")  # the revoked column has a date

    assert llmsearch(cli_env, "keys", "revoke", "nonsense").returncode == 1


def test_bad_tenant_is_refused(cli_env: dict[str, str]) -> None:
    done = llmsearch(cli_env, "keys", "create", "--tenant", "a:b")
    # Worded once (cli/arguments.py) for every command that takes --tenant; errors go to stderr.
    assert done.returncode == 2
    assert "'a:b' is not a valid tenant id" in done.stderr


def test_keys_have_scopes_read_by_default(cli_env: dict[str, str]) -> None:
    default = llmsearch(cli_env, "keys", "create", "--tenant", "scoped", "--name", "reader")
    writer = llmsearch(cli_env, "keys", "create", "--tenant", "scoped", "--name", "writer", "--scope", "write")
    both = llmsearch(cli_env, "keys", "create", "--tenant", "scoped", "--name", "both", "--scope", "read,write")
    assert [done.returncode for done in (default, writer, both)] == [0, 0, 0]
    assert "(read)" in default.stdout and "(write)" in writer.stdout and "(read,write)" in both.stdout
    listed = llmsearch(cli_env, "keys", "list", "--tenant", "scoped").stdout
    scopes = {line.split()[3]: line.split()[4] for line in listed.splitlines()[1:]}
    assert scopes == {"reader": "read", "writer": "write", "both": "read,write"}
    refused = llmsearch(cli_env, "keys", "create", "--tenant", "scoped", "--scope", "admin")
    assert refused.returncode == 2 and "scopes are read, write or read,write" in refused.stderr


def test_fill_reports_progress_and_ends(cli_env: dict[str, str]) -> None:
    done = llmsearch(cli_env, "templates", "fill")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("fill done:")
