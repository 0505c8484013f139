"""Which field a rule names: a column of the field table, or one key of the `metadata` object."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.fields import FIELDS, FILTERABLE, METADATA_HEADER_PREFIX, METADATA_KEY_PATTERN, METADATA_PREFIX, Kind
from service.filters.errors import shown

METADATA_FIELD = METADATA_PREFIX.rstrip(".")
_METADATA_KEY = re.compile(METADATA_KEY_PATTERN)


@dataclass(frozen=True)
class Target:
    """A filterable field: `name` as the client wrote it, `path` in the index, and the kind of its values."""

    name: str
    path: str
    kind: Kind
    whole_object: bool = False
    """True for `metadata` itself: it has no value to compare, only presence."""

    @property
    def described(self) -> str:
        if self.whole_object:
            return "the metadata object"
        return "metadata (string)" if self.kind is Kind.METADATA else str(self.kind)


class UnknownField(ValueError):
    pass


def filterable_names() -> list[str]:
    """For error messages and the API description."""
    return [*FILTERABLE, f"{METADATA_PREFIX}<key>", f"{METADATA_HEADER_PREFIX}<key>"]


def resolve(name: str) -> Target:
    if name == METADATA_FIELD:
        return Target(name, METADATA_FIELD, Kind.METADATA, whole_object=True)
    field = FIELDS.get(name)
    if field is not None and field.filterable:
        return Target(name, field.path, field.kind)
    key = _metadata_key(name)
    if key is None:
        # `tenant_id` lands here too: it is in the index but not in the field table, and must stay unfilterable.
        raise UnknownField(f"unknown field {shown(name)}; filterable fields are {', '.join(filterable_names())}")
    if not _METADATA_KEY.fullmatch(key):
        raise UnknownField(
            f"metadata key {shown(key)} (in field {shown(name)}) must be 1-64 letters, digits, '_' or '-'"
        )
    return Target(name, f"{METADATA_PREFIX}{key}", Kind.METADATA)


def _metadata_key(name: str) -> str | None:
    if name.startswith(METADATA_PREFIX):
        return name[len(METADATA_PREFIX) :]
    # Header names are case-insensitive, and keys collected from `x-metadata-*` headers are stored lower-cased
    # (core.documents.collect_metadata), so the header spelling finds them in any case. `metadata.<key>` is exact.
    if name[: len(METADATA_HEADER_PREFIX)].lower() == METADATA_HEADER_PREFIX:
        return name[len(METADATA_HEADER_PREFIX) :].lower()
    return None
