"""What `GET /api/v1/requests` answers: the request objects and the page around them.

`RequestOut` is built from the field table (`core.fields`): every returned field, typed by its kind, described by
its row, null when the document has no value.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema, create_model

from core.fields import TABLE, Kind, RequestField


def _as_text(value: Any) -> Any:
    return None if value is None else str(value)


# What a returned value looks like in JSON, by kind: dates and IPs as the strings the index keeps. Documents are built
# with aware datetimes (core.documents), so a date is always RFC 3339 and client generators may parse it as one.
_RESPONSE_TYPES: dict[Kind, Any] = {
    Kind.KEYWORD: str,
    Kind.TEXT: str,
    Kind.IP: str,
    Kind.DATE: Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})],
    Kind.INTEGER: int,
    Kind.NUMBER: float,
    Kind.BOOLEAN: bool,
    Kind.METADATA: dict[str, str],
    Kind.KEYWORDS: list[str],
}
# The spec types `status` as a string although it is indexed (and filtered, sorted) as a number.
_SPEC_TYPES: dict[str, Any] = {"status": Annotated[str, BeforeValidator(_as_text)]}
# OpenAPI's `ipv4` and `ipv6` formats each reject the other kind, so an IP is a plain string; examples show both
# (and the model's description says so, since a field's own description is its table row's).
_KIND_EXAMPLES: dict[Kind, list[Any]] = {Kind.IP: ["203.0.113.7", "2001:db8::1"]}


def _response_field(row: RequestField) -> tuple[Any, Any]:
    annotation = _SPEC_TYPES.get(row.name, _RESPONSE_TYPES[row.kind])
    examples = _KIND_EXAMPLES.get(row.kind)
    if row.name == "id":
        return (annotation, Field(description=row.description, examples=examples))
    return (annotation | None, Field(default=None, description=row.description, examples=examples))


_RESPONSE_FIELDS: dict[str, Any] = {row.name: _response_field(row) for row in TABLE if row.returned}
RequestOut = create_model(
    "RequestOut",
    __doc__=(
        "One element of the API's `requests` array, with the spec's types (status and bodies are strings). Dates are "
        "RFC 3339 date-times; `ip` is IPv4 or IPv6 text, so it has no single `format`."
    ),
    **_RESPONSE_FIELDS,
)


class RequestsPage(BaseModel):
    """The 200 body of `GET /api/v1/requests`."""

    requests: list[RequestOut] = Field(description="The page's requests, in the order asked for.")
    totalCount: int = Field(ge=0, description="How many requests match, over all pages (exact).")
    nextCursor: str | None = Field(
        description=(
            "Send as `cursor` (with the same other parameters) for the next page, past result 10,000 too; null on "
            "the last page."
        )
    )
