"""Servers that refuse root (OpenSearch, PostgreSQL) run as an unprivileged system user when we are root."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess


class NoSystemUser(RuntimeError):
    """Running as root, the user does not exist and cannot be created."""


def unprivileged_user(name: str) -> pwd.struct_passwd | None:
    """As root, the system user `name` (created on first use); otherwise None: run as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    if useradd is None:
        raise NoSystemUser(f"running as root, user {name!r} does not exist, and there is no useradd to create it")
    subprocess.run(
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(name)
