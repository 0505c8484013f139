"""Which index a document is written to, so that a request is stored once however many generations there are.

Requests are written again (a newer `updatedAt`; core.versioning keeps the newest). Once the write alias has rolled
over, a request whose document lives in an older generation must be written to THAT index: written through the
alias it would land in the new write index too, and the read alias would return both copies. So both write paths
(loaders/bulk.py and service/ingest/write.py) place each batch first:

- The generations (`<prefix>-NNNNNN` indices and which one is the write index) come from one `GET <pattern>/_alias`,
  cached for `CACHE_SECONDS`. With a single generation there is nothing to look up: the batch goes to the write index
  with no request at all, so the single-generation path costs what writing through the alias did.
- With older generations, one `ids` query against them (not the write index) finds the documents they hold; those
  go to the index that holds them, the rest to the write index.
- Documents are sent to the concrete write index the cache names, not to the alias. A process that has not yet seen
  a rollover therefore keeps writing to the previous generation (as if the rollover had happened a moment later):
  correct, whereas writing through the alias would put rewrites of that generation's documents into the new one.
  When a process sees that the write index changed, it refreshes the previous one before placing anything, so the
  documents it (or anyone) wrote there just before are visible to its lookups; so does the command that rolls over.

What is left, narrowly:
- Two processes, one that has noticed a rollover and one that has not yet (up to CACHE_SECONDS): a request first
  written by one and written again by the other within those seconds is stored in both generations. So is one whose
  document went to an older generation less than a refresh interval (1s) before another process's lookup.
- A rewrite on its way to an older generation while retention deletes that generation re-creates the index with
  just that document (writes to a concrete index create it); the next `llmsearch indices maintain` deletes it again,
  since its next generation was rolled over long before.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import OpenSearchException

from core.templates import IndexNames, write_index_in

# How long a process trusts its view of the generations; a rollover is noticed at most this late (see above).
CACHE_SECONDS = 2.0
# An `ids` query returns at most this many hits (the index's max_result_window).
MAX_HITS = 10_000


@dataclass(frozen=True)
class Generations:
    """The request indices of a prefix: the write index (None when the write alias is missing) and the others."""

    write_index: str | None
    older: tuple[str, ...]


@dataclass(frozen=True)
class Placed:
    """Where a batch goes: `older` maps the documents that live in an older generation to it, the rest go to
    `default` (the concrete write index, or the write alias when no write index exists yet)."""

    default: str
    concrete: bool
    older: Mapping[str, str] = field(default_factory=dict)

    def index_of(self, doc_id: str) -> str:
        return self.older.get(doc_id, self.default)


async def read_generations(client: AsyncOpenSearch, names: IndexNames, **params: Any) -> Generations:
    aliases: dict[str, Any] = await client.indices.get_alias(index=names.pattern, **params)
    write_index = write_index_in(aliases, names)
    older = sorted(index for index in aliases if names.generation.match(index) and index != write_index)
    return Generations(write_index, tuple(older))


class Placement:
    """The placement of one prefix's documents, for one client (`placement_for` shares one per client and prefix)."""

    def __init__(self, client: AsyncOpenSearch, names: IndexNames, cache_seconds: float = CACHE_SECONDS) -> None:
        self.client = client
        self.names = names
        self.cache_seconds = cache_seconds
        self._cached: Generations | None = None
        self._fetched = 0.0
        self._lock = asyncio.Lock()
        self.lookups = 0  # ids queries sent (tests and benchmarks look at it)

    def invalidate(self) -> None:
        """Read the generations again at the next batch (after a rollover this process made, say)."""
        self._fetched = 0.0

    async def generations(self, timeout: float | None = None) -> Generations:
        if self._cached is not None and time.monotonic() - self._fetched < self.cache_seconds:
            return self._cached
        async with self._lock:
            if self._cached is not None and time.monotonic() - self._fetched < self.cache_seconds:
                return self._cached
            params = {"request_timeout": timeout} if timeout else {}
            try:
                fresh = await read_generations(self.client, self.names, **params)
            except (OpenSearchException, TimeoutError):
                if self._cached is None:
                    raise
                return self._cached  # the engine hiccupped: the previous view is still right almost always
            previous = self._cached
            if previous is not None and previous.write_index not in (None, fresh.write_index):
                # The write index changed: make what was written to the previous one visible to our lookups.
                with contextlib.suppress(OpenSearchException, TimeoutError):
                    await self.client.indices.refresh(index=previous.write_index, ignore_unavailable=True, **params)
            if fresh.write_index is None:
                self._cached = None  # not there yet (the service is starting): ask again next time
                return fresh
            self._cached, self._fetched = fresh, time.monotonic()
            return fresh

    async def place(self, doc_ids: Collection[str], timeout: float | None = None) -> Placed:
        """Where each of `doc_ids` goes. Engine failures propagate (nothing can be placed safely without it)."""
        generations = await self.generations(timeout)
        if generations.write_index is None:
            return Placed(self.names.write_alias, concrete=False)
        if not generations.older or not doc_ids:
            return Placed(generations.write_index, concrete=True)
        return Placed(generations.write_index, True, await self._lookup(generations.older, doc_ids, timeout))

    async def _lookup(self, older: tuple[str, ...], doc_ids: Collection[str], timeout: float | None) -> dict[str, str]:
        found: dict[str, str] = {}
        unique = sorted(set(doc_ids))
        per_query = max(1, MAX_HITS // len(older))  # every id may be in every older generation (a duplicate)
        params = {"request_timeout": timeout} if timeout else {}
        for start in range(0, len(unique), per_query):
            chunk = unique[start : start + per_query]
            self.lookups += 1
            result = await self.client.search(
                index=",".join(older),
                body={
                    "query": {"ids": {"values": chunk}},
                    "size": len(chunk) * len(older),
                    "_source": False,
                    # No total and index order rather than scores: about a third cheaper.
                    "track_total_hits": False,
                    "sort": ["_doc"],
                },
                filter_path="hits.hits._index,hits.hits._id",
                ignore_unavailable=True,
                allow_no_indices=True,
                **params,
            )
            for hit in result.get("hits", {}).get("hits", []):
                # An id in two older generations (stored twice before placement existed): the newest takes it.
                if hit["_index"] > found.get(hit["_id"], ""):
                    found[hit["_id"]] = hit["_index"]
        return found


_SHARED: weakref.WeakKeyDictionary[AsyncOpenSearch, dict[str, Placement]] = weakref.WeakKeyDictionary()


def placement_for(client: AsyncOpenSearch, names: IndexNames) -> Placement:
    """The one Placement of `names` on `client` (so every writer in a process shares its cache). It holds the client
    through a weak proxy: the registry's entry goes when the client does."""
    per_client = _SHARED.setdefault(client, {})
    placement = per_client.get(names.prefix)
    if placement is None:
        placement = per_client[names.prefix] = Placement(cast(AsyncOpenSearch, weakref.proxy(client)), names)
    return placement
