"""Filling the derived fields that analytics groups by (`status_class`, `metadata_pairs`) in documents indexed
before those fields existed, in place, with `_update_by_query`.

The Painless script restates core.documents' `status_class` and `metadata_pairs`; tests/test_derived_fill.py
checks that both give the same values for the same records, so the two cannot drift apart silently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opensearchpy import AsyncOpenSearch

from core.fields import METADATA_PAIR_SEPARATOR

FILL_SCRIPT = f"""
def status = ctx._source.status;
if (status instanceof Number && status >= 100 && status <= 599) {{
  ctx._source.status_class = (((Number) status).intValue() / 100) + 'xx';
}}
def metadata = ctx._source.metadata;
List pairs = new ArrayList();
if (metadata instanceof Map) {{
  for (entry in metadata.entrySet()) {{
    String key = entry.getKey();
    if (key.indexOf('{METADATA_PAIR_SEPARATOR}') < 0 && entry.getValue() != null) {{
      pairs.add(key + '{METADATA_PAIR_SEPARATOR}' + entry.getValue().toString());
    }}
  }}
}}
ctx._source.metadata_pairs = pairs;
"""

# Documents that lack a derived field they should have: a status of a class but no class, metadata but no pairs
# (metadata whose every key holds `=` has no pairs, so such a document is rewritten, to the same, by every fill).
NEEDS_FILL: dict[str, Any] = {
    "bool": {
        "should": [
            {
                "bool": {
                    "filter": [{"range": {"status": {"gte": 100, "lte": 599}}}],
                    "must_not": [{"exists": {"field": "status_class"}}],
                }
            },
            {
                "bool": {
                    "filter": [{"exists": {"field": "metadata"}}],
                    "must_not": [{"exists": {"field": "metadata_pairs"}}],
                }
            },
        ],
        "minimum_should_match": 1,
    }
}
POLL_SECONDS = 2.0


@dataclass(frozen=True)
class FillProgress:
    total: int
    updated: int
    conflicts: int
    done: bool


async def fill_derived(
    client: AsyncOpenSearch, index: str, report: Callable[[FillProgress], None], poll_seconds: float = POLL_SECONDS
) -> FillProgress:
    """Run the fill as an engine task (it can take minutes on a large index) and report its progress until done.

    A document updated by a load while the fill runs is a version conflict that is skipped, not overwritten: the
    load wrote it with its derived fields already.
    """
    started = await client.update_by_query(
        index=index,
        body={"query": NEEDS_FILL, "script": {"source": FILL_SCRIPT, "lang": "painless"}},
        params={"conflicts": "proceed", "wait_for_completion": "false", "refresh": "true"},
    )
    task_id = started["task"]
    while True:
        task = await client.tasks.get(task_id=task_id)
        status = task["task"]["status"]
        progress = FillProgress(
            total=int(status.get("total", 0)),
            updated=int(status.get("updated", 0)),
            conflicts=int(status.get("version_conflicts", 0)),
            done=bool(task.get("completed")),
        )
        report(progress)
        if progress.done:
            failures = (task.get("response") or {}).get("failures") or []
            if failures:
                raise RuntimeError(f"filling derived fields failed: {failures[0]}")
            return progress
        await asyncio.sleep(poll_seconds)
