"""Request documents are routed by tenant: every write of one and every search of them names `routing=<tenant>`.

Why (measured by `python -m bench.routing`, BENCHMARKS.md "Routing", decided in docs/capacity.md): with several
primary shards a routed search asks the shard that holds the tenant instead of all of them, which costs less the
more shards there are; a tenant too large for one shard is spread over `LLMSEARCH_INDEX_ROUTING_PARTITION_SIZE`
shards (core.index_settings), and a shard that grows past the rollover size rolls its generation over.

It is always correct, whatever an index's layout: a document's `_id` is `<tenant>:<id>` (core.documents), so a
request is always routed to the same shard of a generation, and indices made before routing have one shard, where
every routing value leads. Searches keep their tenant term (service.query): routing narrows the shards asked,
never the documents a tenant may see.
"""

from __future__ import annotations


def tenant_routing(tenant_id: str) -> str:
    """The routing value of `tenant_id`'s documents and searches."""
    return tenant_id


def document_routing(doc_id: str) -> str:
    """The routing value of the document `_id` `<tenant>:<id>` (tenant ids hold no ':', core.documents)."""
    return tenant_routing(doc_id.partition(":")[0])
