"""Argument types shared by the sub-commands, so each value is checked (and its error worded) once."""

from __future__ import annotations

import argparse
import re

from core.documents import TENANT_PATTERN
from service.keys import Scope


def tenant_id(value: str) -> str:
    """`--tenant`: what a document's `tenant_id` may be (argparse reports the message and exits 2)."""
    if not re.match(TENANT_PATTERN, value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a valid tenant id (1-256 characters, no ':' or spaces)")
    return value


def scopes(value: str) -> frozenset[Scope]:
    """`--scope`: `read`, `write` or both, comma-separated."""
    names = {name.strip() for name in value.split(",") if name.strip()}
    try:
        chosen = frozenset(Scope(name) for name in names)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: scopes are read, write or read,write") from None
    if not chosen:
        raise argparse.ArgumentTypeError("name at least one scope: read, write or read,write")
    return chosen
