"""The query parameters of `GET /api/v1/analytics`, validated into one model; each problem is a 400 naming the
parameter. The selection (`user_id`, `app_id`, `search`, `filter`) is `/api/v1/requests`'s own model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from core.validation import describe_error, error_location
from service.analytics.dimensions import FIELD_DIMENSIONS, dimension
from service.analytics.metrics import DEFAULT_METRICS, METRICS
from service.analytics.timerange import parse_interval, time_zone
from service.params import ParameterError, Selection, plain_digits, refuse_repeats

MAX_GROUP_BY = 2
MAX_TOP = 100


def _names(value: Any) -> Any:
    """A comma list as its names (blanks dropped); anything else as given, for pydantic to refuse."""
    if isinstance(value, str):
        return tuple(name.strip() for name in value.split(",") if name.strip())
    return value


Names = Annotated[tuple[str, ...], BeforeValidator(_names)]
GROUPABLE = ", ".join([*FIELD_DIMENSIONS, "metadata.<key>"])


class AnalyticsQuery(Selection):
    """Query parameters of `GET /api/v1/analytics`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    start: Annotated[
        str,
        Field(
            alias="from",
            description="Start of the range (inclusive) on `createdAt`: ISO 8601 (naive means in `timezone`) or date "
            "math from now such as `now-24h` or `now-7d/d` (`/d` rounds down to the day in `timezone`).",
        ),
    ] = "now-7d"
    end: Annotated[str, Field(alias="to", description="End of the range (inclusive), as `from`; not before it.")] = (
        "now"
    )
    interval: Annotated[
        str,
        Field(
            description="Bucket width: `auto` (50 to 200 buckets), calendar `minute`, `hour`, `day`, `week`, `month` "
            "(following `timezone`, so a DST day has 23 or 25 hours), or fixed `5m`, `15m`, `1h`, `6h`, `1d`... "
            "At most 2,000 buckets."
        ),
    ] = "auto"
    timezone: Annotated[str, Field(description="IANA time zone of bucket starts and `/d` rounding.")] = "UTC"
    groupBy: Annotated[
        Names,
        Field(
            description=f"Comma list of up to {MAX_GROUP_BY} dimensions to split the series by: {GROUPABLE}.",
            json_schema_extra={"example": "model"},
        ),
    ] = ()
    top: Annotated[
        int,
        Field(
            ge=1,
            le=MAX_TOP,
            description="How many groups to keep, the largest by the first metric; the rest are summed into one "
            'group whose values are `"__other__"`.',
        ),
    ] = 10
    metrics: Annotated[
        Names,
        Field(
            description=f"Comma list of: {', '.join(METRICS)}.",
            json_schema_extra={"example": "count,cost"},
        ),
    ] = DEFAULT_METRICS

    @field_validator("top", mode="before")
    @classmethod
    def _plain_digits(cls, value: Any) -> Any:
        return plain_digits(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        time_zone(value)
        return value

    @field_validator("interval")
    @classmethod
    def _known_interval(cls, value: str) -> str:
        parse_interval(value)
        return value

    @field_validator("groupBy")
    @classmethod
    def _groupable(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) > MAX_GROUP_BY:
            raise ValueError(f"at most {MAX_GROUP_BY} dimensions, got {len(value)}")
        if len(set(value)) != len(value):
            raise ValueError("a dimension is named twice")
        for name in value:
            dimension(name)
        return value

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("name at least one metric")
        unknown = [name for name in value if name not in METRICS]
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a metric; the metrics are {', '.join(METRICS)}")
        if len(set(value)) != len(value):
            raise ValueError("a metric is named twice")
        return value


PARAMETERS = tuple(field.alias or name for name, field in AnalyticsQuery.model_fields.items())


def parse_analytics(pairs: Sequence[tuple[str, str]]) -> AnalyticsQuery:
    """Validate the decoded query string; a problem is a ParameterError whose message starts with the parameter."""
    names = [name for name, _ in pairs]
    refuse_repeats(names)
    # A blank value means the default, as for the list's parameters; an unknown name is refused even when blank.
    params = {name: value for name, value in pairs if name not in PARAMETERS or value.strip()}
    try:
        return AnalyticsQuery.model_validate(params)
    except ValidationError as error:
        raise ParameterError(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    name = error_location(first, "query")
    if first["type"] == "extra_forbidden":
        return f"{name}: unknown parameter; the parameters are {', '.join(PARAMETERS)}"
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, ValueError):  # our own validators' words, without pydantic's "Value error, "
        return f"{name}: {cause}"
    if name == "top":
        return f"top: {first.get('input')!r} is not a whole number between 1 and {MAX_TOP}"
    return describe_error(first, "query")
