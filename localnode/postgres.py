"""A PostgreSQL server for tests and benchmarks: `POSTGRES_DSN` if set, else a throwaway cluster of our own.

The throwaway cluster uses the machine's PostgreSQL binaries (initdb, pg_ctl), listens on a free port on
127.0.0.1 with trust authentication, and is stopped and deleted afterwards. PostgreSQL refuses to run as root,
so as root it runs as an unprivileged system user (created if missing). Without binaries it fails, naming the
package to install: tests never skip for want of a database. Importable without pytest.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from localnode.system_user import NoSystemUser, unprivileged_user

SERVER_USER = "llmsearch-pg"
DATABASE = "llmsearch"
START_TIMEOUT_SECONDS = 60


class PostgresUnavailable(RuntimeError):
    pass


def find_binaries() -> tuple[Path, Path]:
    """initdb and pg_ctl: from PATH, else the newest /usr/lib/postgresql/<version>/bin (Debian keeps them there)."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(initdb), Path(pg_ctl)
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: _version_key(Path(path).parent.name))
    for directory in reversed(versions):
        candidate_initdb, candidate_pg_ctl = Path(directory, "initdb"), Path(directory, "pg_ctl")
        if candidate_initdb.is_file() and candidate_pg_ctl.is_file():
            return candidate_initdb, candidate_pg_ctl
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin: install the Debian "
        "package `postgresql` (apt-get install postgresql), or set POSTGRES_DSN to a server to use"
    )


@contextmanager
def postgres_server() -> Iterator[str]:
    """A DSN for a database the caller may create tables in."""
    dsn = os.environ.get("POSTGRES_DSN")
    if dsn:
        yield dsn
        return
    initdb, pg_ctl = find_binaries()
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="llmsearch-pg-"))
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    sockets.mkdir()
    if user is not None:
        for path in (root, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    port = _free_port()
    owner = user.pw_name if user is not None else pwd.getpwuid(os.getuid()).pw_name
    try:
        _run(user, [str(initdb), "-D", str(data), "-U", owner, "--auth=trust", "-E", "UTF8", "--no-sync"])
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run(
            user,
            [
                str(pg_ctl),
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                str(START_TIMEOUT_SECONDS),
                "start",
            ],
        )
        try:
            _create_database(f"host=127.0.0.1 port={port} user={owner} dbname=postgres")
            yield f"postgresql://{owner}@127.0.0.1:{port}/{DATABASE}"
        finally:
            _run(user, [str(pg_ctl), "-D", str(data), "-m", "immediate", "-w", "stop"], check=False)
    except subprocess.CalledProcessError as error:
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        raise PostgresUnavailable(
            f"{' '.join(map(str, error.cmd))} failed ({error.returncode}):\n{error.stdout}{error.stderr}{tail}"
        ) from error
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _create_database(admin_dsn: str) -> None:
    import psycopg

    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{DATABASE}"')


def _run(user: pwd.struct_passwd | None, command: list[str], check: bool = True) -> None:
    subprocess.run(
        command,
        check=check,
        capture_output=True,
        text=True,
        user=user.pw_uid if user else None,
        group=user.pw_gid if user else None,
        extra_groups=[] if user else None,
        cwd="/",  # the user may not be able to enter the caller's directory
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
        timeout=START_TIMEOUT_SECONDS + 30,
    )


def _server_user() -> pwd.struct_passwd | None:
    try:
        return unprivileged_user(SERVER_USER)
    except NoSystemUser as error:
        raise PostgresUnavailable(str(error)) from error


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


if __name__ == "__main__":
    import time

    with postgres_server() as url:
        print(url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
