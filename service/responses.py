"""What `GET /api/v1/requests` answers: the request objects and the page around them.

`RequestOut` is built from the field table (`core.fields`): every returned field, typed by its kind, described by
its row, null when the document has no value.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, create_model

from core.fields import TABLE, Kind, RequestField


def _as_text(value: Any) -> Any:
    return None if value is None else str(value)


# What a returned value looks like in JSON, by kind: dates and IPs as the strings the index keeps.
_RESPONSE_TYPES: dict[Kind, Any] = {
    Kind.KEYWORD: str,
    Kind.TEXT: str,
    Kind.IP: str,
    Kind.DATE: str,
    Kind.INTEGER: int,
    Kind.NUMBER: float,
    Kind.BOOLEAN: bool,
    Kind.METADATA: dict[str, str],
}
# The spec types `status` as a string although it is indexed (and filtered, sorted) as a number.
_SPEC_TYPES: dict[str, Any] = {"status": Annotated[str, BeforeValidator(_as_text)]}


def _response_field(row: RequestField) -> tuple[Any, Any]:
    annotation = _SPEC_TYPES.get(row.name, _RESPONSE_TYPES[row.kind])
    if row.name == "id":
        return (annotation, Field(description=row.description))
    return (annotation | None, Field(default=None, description=row.description))


_RESPONSE_FIELDS: dict[str, Any] = {row.name: _response_field(row) for row in TABLE if row.returned}
RequestOut = create_model(
    "RequestOut",
    __doc__="One element of the API's `requests` array, with the spec's types (status and bodies are strings).",
    **_RESPONSE_FIELDS,
)


class RequestsPage(BaseModel):
    """The 200 body of `GET /api/v1/requests`."""

    requests: list[RequestOut]
    totalCount: int = Field(ge=0)


# Fields the response needs from `_source`; the tenant and the derived prompt stay inside.
RESPONSE_SOURCE_FIELDS: list[str] = list(RequestOut.model_fields)
