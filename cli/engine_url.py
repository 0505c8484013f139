"""Which OpenSearch the commands talk to: the configured URL, or the local node, started (or reused) on demand.

This lives in the CLI, not beside the client: building a client never starts a JVM; only a command does.
"""

from __future__ import annotations

from core.settings import NodeSettings, OpenSearchSettings
from localnode.local import LocalCluster


def resolve_url(settings: OpenSearchSettings) -> str:
    """The configured URL, or the local node's (started or reused) when none is configured."""
    if settings.url:
        return settings.url
    return LocalCluster(NodeSettings()).start()
