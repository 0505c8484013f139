"""`GET /api/v1/analytics` in the OpenAPI document: parameters from AnalyticsQuery, metrics from their table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.analytics.answer_model import AnalyticsAnswer
from service.analytics.metrics import TABLE
from service.analytics.params import AnalyticsQuery

ANALYTICS_PATH = "/api/v1/analytics"
_EXAMPLE = {
    "from": "2026-11-25T00:00:00Z",
    "to": "2026-11-25T02:59:59Z",
    "interval": "hour",
    "timezone": "UTC",
    "metrics": ["count", "cost"],
    "groupBy": ["model"],
    "totals": {"count": 7, "cost": 0.021},
    "series": [
        {
            "key": {"model": "gpt-4o"},
            "totals": {"count": 5, "cost": 0.02},
            "buckets": [
                {"start": "2026-11-25T00:00:00Z", "count": 2, "cost": 0.008},
                {"start": "2026-11-25T01:00:00Z", "count": 0, "cost": 0.0},
                {"start": "2026-11-25T02:00:00Z", "count": 3, "cost": 0.012},
            ],
        },
        {
            "key": {"model": "__other__"},
            "totals": {"count": 2, "cost": 0.001},
            "buckets": [
                {"start": "2026-11-25T00:00:00Z", "count": 1, "cost": 0.0005},
                {"start": "2026-11-25T01:00:00Z", "count": 1, "cost": 0.0005},
                {"start": "2026-11-25T02:00:00Z", "count": 0, "cost": 0.0},
            ],
        },
    ],
}


def analytics_operation(
    selection_parameters: list[dict[str, Any]],
    errors: Mapping[str, Any],
    components: dict[str, Any],
    ref_template: str,
) -> dict[str, Any]:
    """The operation; `selection_parameters` are the list's own entries for the shared selection parameters and
    `errors` its 400/401/405/503 answers."""
    schema = AnalyticsAnswer.model_json_schema(ref_template=ref_template, by_alias=True)
    components.update(schema.pop("$defs", {}))
    components[AnalyticsAnswer.__name__] = schema
    shared = {entry["name"]: entry for entry in selection_parameters}
    own = AnalyticsQuery.model_json_schema(by_alias=True)["properties"]
    parameters = []
    for name, prop in own.items():
        if name in shared:
            parameters.append(shared[name])
            continue
        description = prop.pop("description", "")
        prop.pop("title", None)
        parameters.append({"name": name, "in": "query", "required": False, "description": description, "schema": prop})
    metrics = "\n".join(f"- `{metric.name}`: {metric.description}" for metric in TABLE)
    return {
        "tags": ["analytics"],
        "operationId": "analytics",
        "summary": "Requests, cost, tokens, latency and errors over time, grouped by up to two dimensions",
        "description": (
            "Aggregates the requests that `/api/v1/requests` would list for the same `user_id`, `app_id`, `search` "
            "and `filter` (same tenant rule, same errors), created between `from` and `to`, into buckets of "
            "`interval` in `timezone`.\n\nGroups: the `top` largest by the first metric (ranked by the number of "
            "failed requests for `error_rate`); with two dimensions, among the top values of the first and, in each, "
            "the top of the second. A missing value is a group of its own (`null`); the rest are summed into "
            '`"__other__"`, so the series always add up to `totals`.\n\nMetrics:\n' + metrics
        ),
        "parameters": parameters,
        "security": errors["security"],
        "responses": {
            "200": {
                "description": "The totals and one series per group, each with every bucket of the range.",
                "content": {
                    "application/json": {
                        "schema": {"$ref": ref_template.format(model=AnalyticsAnswer.__name__)},
                        "examples": {"byModel": {"summary": "count,cost by model, hourly", "value": _EXAMPLE}},
                    }
                },
            },
            **{status: errors[status] for status in ("400", "401", "405", "503")},
        },
    }
