"""One answer's size, bounded: a page too large for one answer is refused before its documents are fetched.

Fetching 1,000 requests of 166 KB each costs the engine and this process ~100 MB of work for every such call, and a
few at once time out the engine for everyone. Documents carry `size_chars` (their returned text, computed at
indexing), so a large page first asks only for those numbers, which come from doc values without reading
`_source`, and is refused when they add up past the limit. The rendered page is checked again, exactly, since the
estimate leaves out JSON punctuation and documents indexed before `size_chars` existed count as 0.
"""

from __future__ import annotations

from typing import Any

from opensearchpy import AsyncOpenSearch

from core.documents import SIZE_FIELD
from core.fields import RETURNED
from service.errors import ApiError

# Smaller pages cannot reach the limit with documents under the loaders' size cap often enough to pay for a probe.
PROBE_FROM_PAGE_SIZE = 50


def too_large(size: int, limit: int, page_size: int) -> ApiError:
    return ApiError(
        400,
        f"pageSize: this page is about {size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit of one answer; "
        f"ask for fewer requests (pageSize, now {page_size}) or fewer fields (fields=id,createdAt,model,...)",
    )


async def refuse_oversized_page(
    client: AsyncOpenSearch,
    index: str | None,
    body: dict[str, Any],
    page_size: int,
    limit: int,
    routing: str | None = None,
) -> None:
    """Raise the 400 when the page `body` asks for would be larger than `limit`, without fetching it. `index` is
    None when `body` searches a point in time (which names its index itself, and its shards: `routing` then None)."""
    if page_size < PROBE_FROM_PAGE_SIZE or list(body["_source"]) != list(RETURNED):
        return  # small pages, and chosen fields (which size_chars does not split), are checked once rendered
    # track_total_hits stays as the page has it: `false` with search_after (a cursor page) and a null sort value
    # makes OpenSearch 3.8 fail with a NullPointerException.
    # `stored_fields: _none_` skips `_id` too: reading any stored field decompresses the document's whole stored
    # block, `_source` included (best_compression), which is the cost this probe exists to avoid (measured on 1M
    # documents: 27 ms for 1,000 sizes against 170 ms with `_id`).
    probe = {**body, "_source": False, "stored_fields": "_none_", "docvalue_fields": [SIZE_FIELD]}
    result = await client.search(index=index, body=probe, filter_path="hits.hits.fields", routing=routing)
    hits = result.get("hits", {}).get("hits", [])
    estimated = sum(int(hit.get("fields", {}).get(SIZE_FIELD, [0])[0]) for hit in hits)
    if estimated > limit:
        raise too_large(estimated, limit, page_size)
