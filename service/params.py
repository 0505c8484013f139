"""The query parameters of `GET /api/v1/requests` (and of `GET /api/v1/requests/{id}`), validated into models.

Each problem becomes a 400 whose message names the parameter and says what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from core.fields import RETURNED, SORTABLE
from core.validation import describe_error, error_location
from service.search_text import MAX_SEARCH_LENGTH

# OpenSearch's index.max_result_window: from + size may not pass it.
MAX_RESULT_WINDOW = 10_000
MAX_PAGE_SIZE = 1000
MAX_ID_PARAM_LENGTH = 512
_DIGITS = re.compile(r"[0-9]{1,9}")


def plain_digits(value: Any) -> Any:
    """A whole-number parameter as sent, once it is only ASCII digits: int() (and so pydantic) also reads "1_0",
    " 10", "+10" and non-ASCII digits, which is not what a client means."""
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise ValueError("not a whole number")
    return value


class SortOrder(StrEnum):
    asc = "asc"
    desc = "desc"


def known_fields(value: str | None) -> str | None:
    """`fields` as given, once every name in it is a returned field."""
    if value is None:
        return None
    unknown = [name for name in _field_names(value) if name not in RETURNED]
    if unknown:
        raise PydanticCustomError(
            "unknown_fields",
            "unknown field {unknown}; the fields are {known}",
            {"unknown": repr(unknown[0]), "known": ", ".join(RETURNED)},
        )
    return value


def returned_fields(fields: str | None) -> list[str]:
    """What each request object holds, in the table's order: the chosen fields plus `id`, or all."""
    if fields is None:
        return list(RETURNED)
    chosen = {"id", *_field_names(fields)}
    return [name for name in RETURNED if name in chosen]


def _field_names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _blank_is_absent(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


# `fields`, as the list, the single request and the export take it: blank means every field, a name that is not
# returned is refused.
FieldsParam = Annotated[
    str | None,
    BeforeValidator(_blank_is_absent),
    AfterValidator(known_fields),
    Field(
        description=(
            "Comma-separated fields to return in each request object (`id` always comes too); default: every "
            f"field. One of: {', '.join(RETURNED)}."
        ),
        json_schema_extra={"example": "id,createdAt,model,cost"},
    ),
]


class Selection(BaseModel):
    """Which of the tenant's requests a call is about: the parameters `/api/v1/requests`, the export and
    `/api/v1/analytics` share (and service.query turns into one bool query)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    user_id: Annotated[str | None, Field(max_length=MAX_ID_PARAM_LENGTH, description="Exact end-user id.")] = None
    app_id: Annotated[str | None, Field(max_length=MAX_ID_PARAM_LENGTH, description="Exact app id.")] = None
    search: Annotated[
        str | None,
        Field(
            max_length=MAX_SEARCH_LENGTH,
            description=(
                "Full-text search over prompt, completion and the request/response bodies, or an exact `openai_id`."
                ' All terms are required; "quoted phrases", -exclusion and `a | b` are understood.'
            ),
        ),
    ] = None
    filter: Annotated[
        str | None,
        Field(
            description=(
                "JSON: a react-querybuilder rule group or a plain map of field to value/list/range. "
                "`{}` means no filter."
            )
        ),
    ] = None

    @field_validator("user_id", "app_id", "search", "filter", mode="before")
    @classmethod
    def _blanks_are_absent(cls, value: Any) -> Any:
        return _blank_is_absent(value)


class RequestsQuery(Selection):
    """Query parameters. Names are the spec's (camelCase where it says so)."""

    sortBy: Annotated[
        str,
        Field(description="Field to sort by; ties are broken by `id`.", json_schema_extra={"enum": list(SORTABLE)}),
    ] = "createdAt"
    sortOrder: Annotated[SortOrder, Field(description="`asc` or `desc`.")] = SortOrder.desc
    pageSize: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE, description="Requests per page.")] = 10
    pageNumber: Annotated[int, Field(ge=1, description="1-based page number.")] = 1
    fields: FieldsParam = None
    cursor: Annotated[
        str | None,
        Field(
            description=(
                "Where the next page starts: the `nextCursor` of the previous answer, sent with the same other "
                "parameters (`pageSize` and `fields` may change). Not with `pageNumber`. Reaches past result "
                f"{MAX_RESULT_WINDOW:,}, to the end. A field sort's cursor does not expire; a relevance-sorted "
                "search's (`sortBy=relevance` with `search`) pages the index as it was at its first page, for "
                "5 minutes after each page and until the last: after that it is a 400, start again from page 1."
            )
        ),
    ] = None

    @field_validator("pageSize", "pageNumber", mode="before")
    @classmethod
    def _plain_digits(cls, value: Any) -> Any:
        return plain_digits(value)

    @property
    def returned_fields(self) -> list[str]:
        return returned_fields(self.fields)

    @field_validator("sortBy")
    @classmethod
    def _sortable(cls, value: str) -> str:
        if value not in SORTABLE:
            raise ValueError("not sortable")
        return value

    @field_validator("sortOrder", mode="before")
    @classmethod
    def _lower_order(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("cursor", mode="before")
    @classmethod
    def _blank_cursor_is_absent(cls, value: Any) -> Any:
        return _blank_is_absent(value)

    @property
    def offset(self) -> int:
        return (self.pageNumber - 1) * self.pageSize


class LookupQuery(BaseModel):
    """Query parameters of `GET /api/v1/requests/{id}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: FieldsParam = None

    @property
    def returned_fields(self) -> list[str]:
        return returned_fields(self.fields)


class ParameterError(ValueError):
    """A parameter problem, phrased for the client."""


def parse_query(params: Mapping[str, str], keys: list[str]) -> RequestsQuery:
    """Validate the raw query string (`keys` lists every name as sent, to catch repeats)."""
    refuse_repeats(keys)
    try:
        query = RequestsQuery.model_validate(dict(params))
    except ValidationError as error:
        raise ParameterError(_describe(error, RequestsQuery)) from None
    if query.cursor is not None and "pageNumber" in params:
        raise ParameterError(
            "pageNumber, cursor: send one or the other; a cursor already says where its page starts (send the "
            "same parameters as for the page it came from, with cursor in place of pageNumber)"
        )
    if query.offset + query.pageSize > MAX_RESULT_WINDOW:
        raise ParameterError(
            f"pageNumber: page {query.pageNumber} of size {query.pageSize} reaches past result "
            f"{MAX_RESULT_WINDOW}, the deepest this endpoint pages; narrow the results with search or filter"
        )
    return query


def parse_lookup(params: Mapping[str, str], keys: list[str]) -> LookupQuery:
    """Validate the query string of `GET /api/v1/requests/{id}`."""
    refuse_repeats(keys)
    try:
        return LookupQuery.model_validate(dict(params))
    except ValidationError as error:
        raise ParameterError(_describe(error, LookupQuery)) from None


def refuse_repeats(keys: list[str]) -> None:
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ParameterError(f"{repeated[0]}: given more than once; send each parameter at most once")


def _describe(error: ValidationError, model: type[BaseModel]) -> str:
    """The first problem, in the parameters' own terms where the generic wording would not tell a client enough."""
    first = error.errors(include_url=False)[0]
    name = error_location(first, "query")
    kind = first["type"]
    if kind == "extra_forbidden":
        allowed = ", ".join(model.model_fields)
        return f"{name}: unknown parameter; the parameters are {allowed}"
    if name == "sortBy":
        return f"sortBy: {first.get('input')!r} is not sortable; use one of {', '.join(SORTABLE)}"
    if name == "sortOrder":
        return f"sortOrder: {first.get('input')!r} is neither 'asc' nor 'desc'"
    if name in ("pageSize", "pageNumber"):
        upper = f" and {MAX_PAGE_SIZE}" if name == "pageSize" else ""
        bound = f"between 1{upper}" if upper else "of at least 1"
        return f"{name}: {first.get('input')!r} is not a whole number {bound}"
    return describe_error(first, "query")
