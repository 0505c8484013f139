"""The 200 body of `GET /api/v1/analytics`, as a model: for the OpenAPI document and for checking answers in tests.
service.analytics.series builds the JSON directly (a chart's worth of buckets renders faster without a model)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MetricValue = int | float | None


class Series(BaseModel):
    key: dict[str, str | int | bool | None] = Field(
        description='The group: one entry per `groupBy` dimension (`null`: requests without a value; `"__other__"`: '
        "every request outside the kept groups). `{}` without `groupBy`."
    )
    totals: dict[str, MetricValue] = Field(description="Each metric over the whole range, for this group.")
    buckets: list[dict[str, str | MetricValue]] = Field(
        description="One per interval from `from` to `to`, empty ones included (sums 0, averages and percentiles "
        "null): `start` (ISO 8601 in `timezone`) and each metric."
    )


class AnalyticsAnswer(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    start: str = Field(alias="from", description="The resolved start of the range (ISO 8601).")
    to: str = Field(description="The resolved end of the range (ISO 8601).")
    interval: str = Field(description="The bucket width used (what `auto` chose, or the one asked for).")
    timezone: str
    metrics: list[str]
    groupBy: list[str]
    totals: dict[str, MetricValue] = Field(description="Each metric over every selected request in the range.")
    series: list[Series] = Field(
        description="The groups, largest first by the first metric, `__other__` last; one series without `groupBy`."
    )
