"""API keys: each belongs to one tenant; only a SHA-256 of the key is stored (in OpenSearch)."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import NotFoundError
from pydantic import BaseModel, Field

from core.documents import TENANT_PATTERN
from core.templates import IndexNames

KEY_PREFIX = "lrs_"
ID_LENGTH = 12  # hex characters of the hash shown as a key's id
CACHE_ENTRIES = 10_000


class Scope(StrEnum):
    """What a key may do: read (search, export, analytics) and/or write (ingest)."""

    READ = "read"
    WRITE = "write"


@dataclass(frozen=True, slots=True)
class Grant:
    """A valid key's tenant and scopes."""

    tenant_id: str
    scopes: frozenset[Scope]
    key_id: str  # as KeyRecord.key_id: for logs, which must never hold the key


class KeyRecord(BaseModel):
    key_hash: str
    key_prefix: str
    tenant_id: str = Field(pattern=TENANT_PATTERN)
    name: str | None = None
    # Keys made before scopes existed have none stored: they keep working as they did, as read keys.
    scopes: list[Scope] = Field(default_factory=lambda: [Scope.READ], min_length=1)
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def key_id(self) -> str:
        return self.key_hash[:ID_LENGTH]

    @property
    def masked(self) -> str:
        return f"{self.key_prefix}…"


def hash_key(key: str) -> str:
    # Keys are 256 random bits, so a fast unsalted hash is enough: there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


class KeyStore:
    """Create, list and revoke keys, and resolve a presented key to its tenant.

    Lookups are cached for `cache_seconds` (hits and misses alike) so the hot path does not pay a round trip;
    a revoke therefore takes effect within that time on every service process.
    """

    def __init__(
        self,
        client: AsyncOpenSearch,
        names: IndexNames,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        on_lookup: Callable[[bool], None] | None = None,
    ) -> None:
        self._client = client
        self._on_lookup = on_lookup  # told whether each look-up was answered from the cache (the service's metrics)
        self._clock = clock
        self._index = names.keys_index
        self._cache_seconds = cache_seconds
        self._cache: OrderedDict[str, tuple[Grant | None, float]] = OrderedDict()

    async def create(
        self, tenant_id: str, name: str | None = None, scopes: frozenset[Scope] = frozenset({Scope.READ})
    ) -> tuple[str, KeyRecord]:
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        record = KeyRecord(
            key_hash=hash_key(key),
            key_prefix=key[: len(KEY_PREFIX) + 6],
            tenant_id=tenant_id,
            name=name,
            scopes=sorted(scopes),
            created_at=datetime.now(UTC),
        )
        await self._client.index(
            index=self._index, id=record.key_hash, body=record.model_dump(mode="json"), refresh="wait_for"
        )
        return key, record

    async def list(self, tenant_id: str | None = None) -> list[KeyRecord]:
        query: dict[str, Any] = {"term": {"tenant_id": tenant_id}} if tenant_id else {"match_all": {}}
        found = await self._client.search(
            index=self._index, body={"query": query, "size": 10_000, "sort": [{"created_at": "asc"}]}
        )
        return [KeyRecord.model_validate(hit["_source"]) for hit in found["hits"]["hits"]]

    async def revoke(self, key_or_id: str) -> KeyRecord | None:
        """Revoke by the full key or by the id `keys list` shows; returns the record, or None if unknown."""
        record = await self._find(key_or_id)
        if record is None:
            return None
        if record.revoked_at is None:
            record.revoked_at = datetime.now(UTC)
            await self._client.index(
                index=self._index, id=record.key_hash, body=record.model_dump(mode="json"), refresh="wait_for"
            )
        self._cache.pop(record.key_hash, None)
        return record

    async def tenant_for(self, key: str) -> str | None:
        """The tenant of a valid, unrevoked key, whatever its scopes; None for anything else."""
        grant = await self.grant_for(key)
        return None if grant is None else grant.tenant_id

    async def grant_for(self, key: str) -> Grant | None:
        """The tenant and scopes of a valid, unrevoked key; None for anything else."""
        digest = hash_key(key)
        now = self._clock()
        cached = self._cache.get(digest)
        hit = cached is not None and cached[1] > now
        if self._on_lookup is not None:
            self._on_lookup(hit)
        if cached is not None and hit:
            return cached[0]
        grant = await self._lookup(digest)
        self._cache[digest] = (grant, now + self._cache_seconds)
        self._cache.move_to_end(digest)
        while len(self._cache) > CACHE_ENTRIES:
            self._cache.popitem(last=False)
        return grant

    async def _lookup(self, digest: str) -> Grant | None:
        try:
            found = await self._client.get(index=self._index, id=digest)
        except NotFoundError:
            return None
        record = KeyRecord.model_validate(found["_source"])
        if record.revoked_at is not None:
            return None
        return Grant(record.tenant_id, frozenset(record.scopes), record.key_id)

    async def _find(self, key_or_id: str) -> KeyRecord | None:
        if key_or_id.startswith(KEY_PREFIX):
            body: dict[str, Any] = {"query": {"term": {"key_hash": hash_key(key_or_id)}}}
        elif len(key_or_id) >= 8 and all(c in "0123456789abcdef" for c in key_or_id):
            body = {"query": {"prefix": {"key_hash": key_or_id}}}
        else:
            return None
        found = await self._client.search(index=self._index, body={**body, "size": 2})
        hits = found["hits"]["hits"]
        return KeyRecord.model_validate(hits[0]["_source"]) if len(hits) == 1 else None
