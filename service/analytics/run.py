"""One analytics call from parameters to answer: the ranking call (only when grouping), then the series call.

`search` sends a body to the engine; the service passes its client, the benchmark a bare HTTP session, so both
measure the same two bodies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from service.analytics.groups import rank_body, top_groups
from service.analytics.params import AnalyticsQuery
from service.analytics.plan import make_plan
from service.analytics.series import answer, series_body

Search = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


async def aggregate(search: Search, query: AnalyticsQuery, tenant_id: str, now: datetime) -> dict[str, Any]:
    """The answer of `GET /api/v1/analytics` for `query`, over `tenant_id`'s requests only (the plan's selection
    is service.query's, which carries the tenant)."""
    plan = make_plan(query, tenant_id, now)
    groups = []
    if plan.dimensions:
        ranking = await search(rank_body(plan))
        groups = top_groups(plan, ranking["aggregations"])
    result = await search(series_body(plan, groups))
    return answer(plan, groups, result)
