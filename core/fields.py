"""The request fields the API knows: what each is called in OpenSearch, its kind, and whether it sorts.

Filters, sorting and the OpenAPI description all read this one table; adding a field is one line here (and its
mapping in `index_templates/requests.json`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    KEYWORD = "keyword"
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"
    IP = "ip"
    METADATA = "metadata"  # flat_object: `metadata.<key>` holds strings


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    sortable: bool = False

    @property
    def path(self) -> str:
        """The field's name in the index (the API uses the same names)."""
        return self.name


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("id", Kind.KEYWORD, sortable=True),
        Field("createdAt", Kind.DATE, sortable=True),
        Field("updatedAt", Kind.DATE, sortable=True),
        Field("ip", Kind.IP, sortable=True),
        Field("url", Kind.KEYWORD, sortable=True),
        Field("method", Kind.KEYWORD, sortable=True),
        Field("status", Kind.INTEGER, sortable=True),
        Field("cached", Kind.BOOLEAN, sortable=True),
        Field("streamed", Kind.BOOLEAN),
        Field("user_id", Kind.KEYWORD, sortable=True),
        Field("app_id", Kind.KEYWORD),
        Field("model", Kind.KEYWORD, sortable=True),
        Field("openai_id", Kind.KEYWORD),
        Field("prompt_tokens", Kind.INTEGER, sortable=True),
        Field("completion_tokens", Kind.INTEGER, sortable=True),
        Field("cost", Kind.NUMBER, sortable=True),
        Field("prompt", Kind.TEXT),
        Field("completion", Kind.TEXT),
        Field("request_body", Kind.TEXT),
        Field("response_body", Kind.TEXT),
        Field("streamed_response_body", Kind.TEXT),
        Field("metadata", Kind.METADATA),
    )
}

# Full-text search covers these; `openai_id` is matched exactly beside them.
SEARCHED_TEXT_FIELDS: tuple[str, ...] = (
    "prompt",
    "completion",
    "request_body",
    "response_body",
    "streamed_response_body",
)

METADATA_PREFIX = "metadata."
METADATA_HEADER_PREFIX = "x-metadata-"
METADATA_KEY_PATTERN = r"^[A-Za-z0-9_\-]{1,64}$"

RELEVANCE = "relevance"
SORTABLE: tuple[str, ...] = (*(f.name for f in FIELDS.values() if f.sortable), RELEVANCE)
