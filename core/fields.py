"""The request fields: one table, the single source of truth for what a request document holds.

Each row says what the field is called, its kind, how OpenSearch maps it, and what the API may do with it. The
rest is derived from this table: the indexed document model and the API's response model (`core.documents`,
`service.responses`), the `_source` list, the sortable set, the filter targets and the OpenAPI enums. The files
that must stay literal, `index_templates/requests.json` and the benchmark's PostgreSQL schema, are checked
against it by `tests/test_field_table.py`, which says which file disagrees.

Adding a field: one row here, its mapping entry in the template (the test names it if missing), and, for a
`DERIVED` field, its builder in `core.documents` (checked when that module is imported).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    KEYWORD = "keyword"
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"
    IP = "ip"
    METADATA = "metadata"  # flat_object: `metadata.<key>` holds strings
    KEYWORDS = "keywords"  # a list of keywords


class Origin(StrEnum):
    """Where a field's value comes from."""

    ORIGINAL = "original"  # a column of the original system's "Request" table, taken as logged
    INPUT = "input"  # accepted from a logged record, not a column of the original table
    DERIVED = "derived"  # computed when the document is built (never accepted from a record)


# How each kind is mapped unless a row says otherwise.
DEFAULT_MAPPINGS: Mapping[Kind, Mapping[str, Any]] = {
    Kind.KEYWORD: {"type": "keyword"},
    # CJK text is indexed as bigrams and single characters, and searched as bigrams (a lone character stays a
    # unigram): a two-character word matches its bigram, one character its unigram.
    Kind.TEXT: {"type": "text", "analyzer": "multilingual_index", "search_analyzer": "multilingual"},
    Kind.INTEGER: {"type": "integer"},
    Kind.NUMBER: {"type": "double"},
    Kind.DATE: {"type": "date"},
    Kind.BOOLEAN: {"type": "boolean"},
    Kind.IP: {"type": "ip"},
    Kind.METADATA: {"type": "flat_object"},
    Kind.KEYWORDS: {"type": "keyword"},
}
# Terms and metric aggregations work on doc values, which text and flat_object subfields do not have.
_AGGREGATABLE_KINDS = frozenset(
    {Kind.KEYWORD, Kind.KEYWORDS, Kind.INTEGER, Kind.NUMBER, Kind.DATE, Kind.BOOLEAN, Kind.IP}
)


@dataclass(frozen=True)
class RequestField:
    name: str
    kind: Kind
    description: str
    origin: Origin = Origin.ORIGINAL
    returned: bool = True
    """In every object of the API's `requests` array (null when absent)."""
    sortable: bool = False
    filterable: bool = True
    searched: bool = False
    """Covered by the full-text `search` parameter."""
    mapping_override: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def mapping(self) -> Mapping[str, Any]:
        """The field's entry under `mappings.properties` in the index template."""
        return self.mapping_override if self.mapping_override is not None else DEFAULT_MAPPINGS[self.kind]

    @property
    def aggregatable(self) -> bool:
        return self.kind in _AGGREGATABLE_KINDS

    @property
    def path(self) -> str:
        """The field's name in the index (the API uses the same names)."""
        return self.name


def _row(name: str, kind: Kind, description: str, **flags: Any) -> RequestField:
    return RequestField(name, kind, description, **flags)


TABLE: tuple[RequestField, ...] = (
    _row("id", Kind.KEYWORD, "The ID of the request.", sortable=True),
    _row("createdAt", Kind.DATE, "When the request was created (ISO 8601).", sortable=True),
    _row("updatedAt", Kind.DATE, "When the request was last updated (ISO 8601).", sortable=True),
    _row("ip", Kind.IP, "The IP address of the request.", sortable=True),
    _row("url", Kind.KEYWORD, "The URL of the request.", sortable=True),
    _row("method", Kind.KEYWORD, "The HTTP method used in the request (upper case).", sortable=True),
    _row("status", Kind.INTEGER, "The HTTP status code of the request.", sortable=True),
    _row("cached", Kind.BOOLEAN, "Whether the request was cached.", sortable=True),
    _row("streamed", Kind.BOOLEAN, "Whether the response was streamed."),
    _row("user_id", Kind.KEYWORD, "The ID of the end user associated with the request.", sortable=True),
    _row("app_id", Kind.KEYWORD, "The ID of the app that made the request."),
    _row("model", Kind.KEYWORD, "The model used for the request.", sortable=True),
    _row("openai_id", Kind.KEYWORD, "The ID of the request in the OpenAI system."),
    _row("prompt_tokens", Kind.INTEGER, "The number of tokens in the prompt.", sortable=True),
    _row("completion_tokens", Kind.INTEGER, "The number of tokens in the completion.", sortable=True),
    _row("cost", Kind.NUMBER, "The cost of the request, in US dollars.", sortable=True),
    _row(
        "duration_ms",
        Kind.INTEGER,
        "updatedAt - createdAt in milliseconds, computed at indexing; null when the record has no updatedAt or "
        "it is before createdAt.",
        origin=Origin.DERIVED,
        sortable=True,
    ),
    _row(
        "size_chars",
        Kind.INTEGER,
        "Characters of the request's returned text (bodies, completion, URL and the rest), computed at indexing: "
        "a page can be sized before its documents are fetched.",
        origin=Origin.DERIVED,
        returned=False,
        filterable=False,
    ),
    _row(
        "status_class",
        Kind.KEYWORD,
        "The status's class, `1xx` to `5xx` (its first digit), computed at indexing: what analytics groups by.",
        origin=Origin.DERIVED,
        returned=False,
    ),
    _row(
        "metadata_pairs",
        Kind.KEYWORDS,
        "Each metadata pair as one keyword `<key>=<value>`, computed at indexing: `metadata` is a flat_object, whose "
        "subfields cannot be aggregated, so analytics groups by a key through these. Keys holding `=` are left out.",
        origin=Origin.DERIVED,
        returned=False,
        filterable=False,
    ),
    _row(
        "prompt",
        Kind.TEXT,
        "The prompt text extracted from the request body (searched and filterable, not returned).",
        origin=Origin.DERIVED,
        returned=False,
        searched=True,
    ),
    _row("completion", Kind.TEXT, "The completion response of the request.", searched=True),
    _row("request_body", Kind.TEXT, "The request body (JSON text).", searched=True),
    _row("response_body", Kind.TEXT, "The response body (JSON text).", searched=True),
    _row("streamed_response_body", Kind.TEXT, "The streamed response body.", searched=True),
    _row(
        "metadata",
        Kind.METADATA,
        "Custom properties: explicit `metadata` plus `x-metadata-<key>` request headers.",
        origin=Origin.INPUT,
    ),
)

FIELDS: dict[str, RequestField] = {f.name: f for f in TABLE}
assert len(FIELDS) == len(TABLE), "a field name appears twice in TABLE"

# Keyword values are indexed whole, and Lucene refuses a term over 32,766 bytes (4 per character at most).
# Longer values are refused when a record is read (core.documents), never indexed unsearchable by `ignore_above`.
MAX_KEYWORD_CHARS = 8191
MAX_METADATA_VALUE_CHARS = 8000  # flat_object also indexes `<key>=<value>`, so the key needs room beside it

# Every document carries its tenant; it is not in the table because no client may name it (see service.query).
TENANT_FIELD = "tenant_id"
TENANT_MAPPING: Mapping[str, Any] = {"type": "keyword"}

RETURNED: tuple[str, ...] = tuple(f.name for f in TABLE if f.returned)
FILTERABLE: tuple[str, ...] = tuple(f.name for f in TABLE if f.filterable)
# Full-text search covers these; `openai_id` is matched exactly beside them.
SEARCHED_TEXT_FIELDS: tuple[str, ...] = tuple(f.name for f in TABLE if f.searched)
AGGREGATABLE: tuple[str, ...] = tuple(f.name for f in TABLE if f.aggregatable)

METADATA_PREFIX = "metadata."
METADATA_HEADER_PREFIX = "x-metadata-"
METADATA_KEY_PATTERN = r"^[A-Za-z0-9_\-]{1,64}$"
METADATA_PAIR_SEPARATOR = "="

RELEVANCE = "relevance"
SORTABLE: tuple[str, ...] = (*(f.name for f in TABLE if f.sortable), RELEVANCE)


def template_properties() -> dict[str, Any]:
    """`mappings.properties` as the table says they must be (the template file is checked against this)."""
    return {TENANT_FIELD: dict(TENANT_MAPPING), **{f.name: dict(f.mapping) for f in TABLE}}
