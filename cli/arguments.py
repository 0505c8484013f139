"""Argument types shared by the sub-commands, so each value is checked (and its error worded) once."""

from __future__ import annotations

import argparse
import re

from core.documents import TENANT_PATTERN


def tenant_id(value: str) -> str:
    """`--tenant`: what a document's `tenant_id` may be (argparse reports the message and exits 2)."""
    if not re.match(TENANT_PATTERN, value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a valid tenant id (1-256 characters, no ':' or spaces)")
    return value
