"""The benchmark's OpenSearch: a dedicated local node (own port, own heap) or a given URL; the dataset in it.

The dataset is the synthetic stream for (docs, seed), loaded for one tenant under one index prefix with the loader
CLI. A marker document beside it (`<prefix>-bench-meta`) records what was loaded, so a later run with the same
docs/seed reuses it instead of loading again.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError

from bench import ingest
from core.settings import NodeSettings
from core.templates import IndexNames
from localnode.local import LocalCluster

Log = Callable[[str], None]


@contextlib.contextmanager
def opensearch(url: str | None, port: int, heap: str, keep: bool, log: Log) -> Iterator[str]:
    """`url` when given; else the local node on `port` with `heap`, started (or reused) and stopped afterwards
    unless it was already running or `keep` is set."""
    if url:
        yield url
        return
    cluster = LocalCluster(NodeSettings(port=port, heap=heap))
    already_running = cluster.health() is not None
    node_url = cluster.start(log=lambda line: log(f"node: {line}"))
    try:
        yield node_url
    finally:
        if not already_running and not keep:
            cluster.stop(log=lambda line: log(f"node: {line}"))


def sync_client(url: str) -> OpenSearch:
    return OpenSearch(hosts=[url], timeout=300, http_compress=False)


def meta_index(prefix: str) -> str:
    return f"{prefix}-bench-meta"


def dataset_present(url: str, prefix: str, tenant: str, docs: int, seed: int) -> bool:
    client = sync_client(url)
    try:
        marker = client.get(index=meta_index(prefix), id="dataset")["_source"]
        if (marker.get("docs"), marker.get("seed"), marker.get("tenant")) != (docs, seed, tenant):
            return False
        count = client.count(index=IndexNames(prefix).read_alias, body={"query": {"term": {"tenant_id": tenant}}})
        return int(count["count"]) == docs
    except NotFoundError:
        return False
    finally:
        client.close()


def require_dataset(url: str, prefix: str, tenant: str, docs: int, seed: int) -> None:
    """Exit with what to run when the dataset a benchmark measures on is not loaded."""
    if not dataset_present(url, prefix, tenant, docs, seed):
        raise SystemExit(f"no {docs:,}-document dataset (seed {seed}) at {url} under '{prefix}': run bench.run")


def load_dataset(url: str, prefix: str, tenant: str, docs: int, seed: int, work: Path, log: Log) -> dict[str, Any]:
    """Load the dataset with the loader CLI (into a fresh prefix) and leave the marker."""
    client = sync_client(url)
    try:
        client.indices.delete(index=meta_index(prefix), ignore_unavailable=True)
        log(f"OpenSearch: loading {docs:,} synthetic documents (seed {seed}) into '{prefix}' with the loader")
        result = ingest.run_loader(url, docs, seed, tenant, prefix, work)
        client.indices.refresh(index=IndexNames(prefix).read_alias)
        client.index(
            index=meta_index(prefix),
            id="dataset",
            body={"docs": docs, "seed": seed, "tenant": tenant, "loaded_at": time.time(), "load": result},
            refresh=True,
        )
    finally:
        client.close()
    log(f"OpenSearch: loaded in {result['seconds']:.0f}s ({result['docs_per_s']:,.0f} docs/s)")
    return result


def drop_all(url: str, prefix: str) -> None:
    """Remove the dataset, its keys, the marker and the ingest scratch prefix (tests clean up with this)."""
    client = sync_client(url)
    try:
        client.indices.delete(index=meta_index(prefix), ignore_unavailable=True)
    finally:
        client.close()
    ingest.drop_prefix(url, prefix)
    ingest.drop_prefix(url, f"{prefix}-ingest")


def wait_for_merges(url: str, prefix: str, timeout: float = 600.0) -> None:
    """Let background merges after a load settle before timing queries."""
    client = sync_client(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            stats = client.indices.stats(index=IndexNames(prefix).read_alias, metric="merge")
            if int(stats["_all"]["total"]["merges"]["current"]) == 0:
                return
            time.sleep(2)
    finally:
        client.close()


def describe(url: str, prefix: str) -> dict[str, Any]:
    client = sync_client(url)
    try:
        info = client.info()
        nodes = client.nodes.info(node_id="_local", metric="jvm")
        node = next(iter(nodes["nodes"].values()))
        stats = client.indices.stats(index=IndexNames(prefix).read_alias, metric="store,docs,segments")
        primaries = stats["_all"]["primaries"]
    finally:
        client.close()
    return {
        "version": info["version"]["number"],
        "lucene": info["version"].get("lucene_version"),
        "heap_bytes": int(node["jvm"]["mem"]["heap_max_in_bytes"]),
        "jvm": f"{node['jvm'].get('vm_name', '')} {node['jvm'].get('version', '')}".strip(),
        "store_bytes": int(primaries["store"]["size_in_bytes"]),
        "docs": int(primaries["docs"]["count"]),
        "segments": int(primaries["segments"]["count"]),
    }
