"""Builds the OpenSearch search body for one API call: the only place that does.

The benchmark sends this same body straight to OpenSearch to measure what the service adds.
"""

from __future__ import annotations

from typing import Any

from core.fields import RELEVANCE
from service.filters import parse_filter
from service.filters.limits import MAX_CLAUSES
from service.filters.render import count_clauses
from service.params import RequestsQuery
from service.search_text import search_clause

TIE_BREAKER = "id"


def build_search_body(query: RequestsQuery, tenant_id: str) -> dict[str, Any]:
    """The search body for `query`, confined to `tenant_id`.

    The tenant term sits at the top of `bool.filter`, beside (never inside) anything the client sent, and the top
    level has no `should`: client clauses can only narrow the tenant's documents, never widen past them.
    """
    filters: list[dict[str, Any]] = [{"term": {"tenant_id": tenant_id}}]
    if query.user_id is not None:
        filters.append({"term": {"user_id": query.user_id}})
    if query.app_id is not None:
        filters.append({"term": {"app_id": query.app_id}})
    client_filters = parse_filter(query.filter)
    filters.extend(client_filters)
    bool_query: dict[str, Any] = {"filter": filters}
    search_budget = MAX_CLAUSES - sum(count_clauses(clause) for clause in client_filters)
    text = search_clause(query.search or "", search_budget)
    if text is not None:
        bool_query["must"] = [text]
    return {
        "query": {"bool": bool_query},
        "sort": sort_clauses(query),
        "from": query.offset,
        "size": query.pageSize,
        "track_total_hits": True,
        "_source": query.returned_fields,
    }


def sort_clauses(query: RequestsQuery) -> list[dict[str, Any]]:
    order = query.sortOrder.value
    primary = "_score" if query.sortBy == RELEVANCE else query.sortBy
    clauses: list[dict[str, Any]] = [{primary: {"order": order}}]
    if primary != TIE_BREAKER:
        clauses.append({TIE_BREAKER: {"order": order}})
    return clauses
