"""Builds the OpenSearch query for each API call (a page of requests, an export, one request by id, the selection
an analytics call aggregates): the only place that does, so the tenant term is added here and nowhere else.

The benchmark sends this same body straight to OpenSearch to measure what the service adds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import StrictFloat, StrictInt, StrictStr

from core.fields import RELEVANCE, TENANT_FIELD
from service.filters import parse_filter
from service.filters.limits import MAX_CLAUSES
from service.filters.render import count_clauses
from service.params import RequestsQuery, Selection
from service.search_text import search_clause

# What the engine answers as sort values: strings (keywords, IPs, `Infinity` for a missing double), integers
# (dates, booleans as 0/1, integer fields and their missing-value sentinels), floats (doubles, `_score`) and
# null (a missing keyword or IP).
SortValue = StrictStr | StrictInt | StrictFloat | None

TIE_BREAKER = "id"


def build_search_body(
    query: RequestsQuery, tenant_id: str, search_after: Sequence[SortValue] | None = None
) -> dict[str, Any]:
    """The search body for `query`, confined to `tenant_id` by `selection_query`.

    With `search_after` (the sort values a cursor carried, service.cursor) the page starts after them instead of
    at an offset, so it can lie past the engine's 10,000-result window; it asks for one request more than the
    page, whose presence says whether the results continue.
    """
    body: dict[str, Any] = {
        "query": selection_query(query, tenant_id),
        "sort": sort_clauses(query),
        "from": query.offset,
        "size": query.pageSize,
        "track_total_hits": True,
        "_source": query.returned_fields,
    }
    if search_after is not None:
        del body["from"]
        body["size"] = query.pageSize + 1
        body["search_after"] = list(search_after)
    return body


def with_point_in_time(body: dict[str, Any], pit_id: str, keep_alive: str) -> dict[str, Any]:
    """`body` searched in the point in time `pit_id` (a relevance cursor's, service.cursor), renewed for
    `keep_alive`. Only what is searched changes: the query, and the tenant term in it, stay the body's own. The
    search goes without an index in its path: the point in time names it."""
    return {**body, "pit": {"id": pit_id, "keep_alive": keep_alive}}


def selection_query(selection: Selection, tenant_id: str) -> dict[str, Any]:
    """The bool query for the requests `selection` names, confined to `tenant_id`: what a page, an export and an
    analytics call all start from.

    The tenant term sits at the top of `bool.filter`, beside (never inside) anything the client sent, and the top
    level has no `should`: client clauses can only narrow the tenant's documents, never widen past them.
    """
    filters: list[dict[str, Any]] = [tenant_filter(tenant_id)]
    if selection.user_id is not None:
        filters.append({"term": {"user_id": selection.user_id}})
    if selection.app_id is not None:
        filters.append({"term": {"app_id": selection.app_id}})
    client_filters = parse_filter(selection.filter)
    filters.extend(client_filters)
    bool_query: dict[str, Any] = {"filter": filters}
    search_budget = MAX_CLAUSES - sum(count_clauses(clause) for clause in client_filters)
    text = search_clause(selection.search or "", search_budget)
    if text is not None:
        bool_query["must"] = [text]
    return {"bool": bool_query}


def build_lookup_body(request_id: str, tenant_id: str, fields: list[str]) -> dict[str, Any]:
    """The search body for one request by its id, confined to `tenant_id` like every list query: another
    tenant's request with the same id is not found, exactly as an absent one."""
    filters = [tenant_filter(tenant_id), {"term": {"id": request_id}}]
    return {"query": {"bool": {"filter": filters}}, "size": 1, "_source": fields}


def tenant_filter(tenant_id: str) -> dict[str, Any]:
    return {"term": {TENANT_FIELD: tenant_id}}


def sort_clauses(query: RequestsQuery) -> list[dict[str, Any]]:
    order = query.sortOrder.value
    primary = "_score" if query.sortBy == RELEVANCE else query.sortBy
    clauses: list[dict[str, Any]] = [{primary: {"order": order}}]
    if primary != TIE_BREAKER:
        clauses.append({TIE_BREAKER: {"order": order}})
    return clauses
