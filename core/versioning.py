"""Which record of a request the index keeps: the newest, whatever order records arrive in.

Records for one id can reach the engine in any order: several bulk requests are in flight, retries come back late,
two loads (or ingest calls) run at once, an older file is loaded after a newer one. So the order of arrival decides
nothing; the engine does, with external versioning: every document is written with `version_type: external_gte`
and a version computed from the record, and the engine refuses (409 version conflict) a write whose version is
below the stored one. A refused write is not an error: the index already holds a newer record of that request
("superseded" in a load's counts).

    version = t * 1024 + h

- `t`: the record's `updatedAt` (else its `createdAt`) in microseconds since 1970. A newer record always has the
  higher version, since `h` < 1024.
- `h`: 10 bits of a hash (BLAKE2b) of the record's content: its fields as canonical JSON (keys sorted, fields at
  their defaults left out, so a field added to the input format later does not change it). Two different records
  with the same `updatedAt` are ordered by it: arbitrarily, but the same way on every run and machine, whichever
  arrives first.
- The same record again gets the same version, and `external_gte` applies an equal version: re-running a load is
  harmless, and it rewrites the documents, so fields a newer release derives (computed when indexing) reach
  documents indexed before it.

What is left: two different records of one request with the very same `updatedAt` (to the microsecond) and the same
10-bit hash (1 pair in 1,024) get equal versions, and the later arrival wins. A document rewritten by other means
(`llmsearch templates fill` runs `_update_by_query`, which adds 1 to the version) counts the same record loaded
again as superseded; that record would not have changed the content anyway. Versions fit the engine's signed
64-bit range until the year 2255; a time past it (or before 1970) is clamped, and then only `h` orders.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import orjson

from core.documents import RawRequest, whole_microseconds

VERSION_TYPE = "external_gte"
HASH_BITS = 10
MAX_VERSION = 2**63 - 1
MAX_MICROS = MAX_VERSION >> HASH_BITS
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
VERSION_CONFLICT = "version_conflict_engine_exception"


def record_version(raw: RawRequest) -> int:
    """The external version of `raw`'s document (see the module docstring)."""
    moment = raw.updatedAt or raw.createdAt
    micros = min(max(whole_microseconds(moment - EPOCH), 0), MAX_MICROS)
    return (micros << HASH_BITS) | content_hash(raw)


def content_hash(raw: RawRequest) -> int:
    digest = hashlib.blake2b(_canonical(raw), digest_size=4).digest()
    return int.from_bytes(digest, "big") & ((1 << HASH_BITS) - 1)


def _canonical(raw: RawRequest) -> bytes:
    """`raw.model_dump(mode="json", exclude_defaults=True)` as compact JSON with sorted keys, written by orjson
    from the fields as they are (dates included, `Z` for UTC): the same bytes as dumping first, in a third of the
    time (tests/test_document_json.py checks the two agree)."""
    fields = {name: value for name, value in raw.__dict__.items() if value is not None}
    for name, default in _NOT_NONE_DEFAULTS.items():
        if name in fields and fields[name] == default:
            del fields[name]
    try:
        return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z)
    except TypeError:  # an integer past 64 bits in a body, which orjson cannot write: Python's json can
        dumped = raw.model_dump(mode="json", exclude_defaults=True)
        return json.dumps(dumped, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# The fields whose default is not None (`cached`, `streamed`): the only ones `is not None` does not leave out at theirs.
_NOT_NONE_DEFAULTS = {
    name: default
    for name, info in RawRequest.model_fields.items()
    if not info.is_required() and (default := info.get_default(call_default_factory=True)) is not None
}


def is_superseded(status: object, error: object) -> bool:
    """A bulk item refused because the index holds a newer (higher-versioned) record of that request."""
    return status == 409 and isinstance(error, dict) and error.get("type") == VERSION_CONFLICT
