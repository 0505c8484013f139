"""The action line of a document write, the same for every writer (the loaders, live ingest, the benchmark's raw
baseline): which index, the `_id`, routed by tenant (core.routing), and the record's external version
(core.versioning) so that the newest record of a request is the one kept."""

from __future__ import annotations

from typing import Any

from core.routing import document_routing
from core.versioning import VERSION_TYPE


def index_action(index: str, doc_id: str, version: int | None) -> dict[str, Any]:
    """The `index` action's metadata; without a version (a writer that has none) the engine keeps the last write."""
    action: dict[str, Any] = {"_index": index, "_id": doc_id, "routing": document_routing(doc_id)}
    if version is not None:
        action["version"] = version
        action["version_type"] = VERSION_TYPE
    return action
