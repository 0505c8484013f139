"""The one document model: raw request records in, indexed documents out.

Loaders and the HTTP service both use it, so a request looks the same whichever way it entered the index.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from ipaddress import ip_address
from typing import Annotated, Any, Self

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, create_model, field_validator

from core.fields import (
    MAX_KEYWORD_CHARS,
    MAX_METADATA_VALUE_CHARS,
    METADATA_HEADER_PREFIX,
    METADATA_PAIR_SEPARATOR,
    TABLE,
    TENANT_FIELD,
    Kind,
    Origin,
    RequestField,
)

JsonValue = dict[str, Any] | list[Any] | str | int | float | bool | None
# A value indexed whole (a keyword): longer ones are refused here rather than left unfilterable in the index.
Keyword = Annotated[str, Field(max_length=MAX_KEYWORD_CHARS)]
MAX_ID_LENGTH = 512
# No ':' so that `<tenant>:<id>` (the document _id) splits one way only.
TENANT_PATTERN = r"^[^:\s]{1,256}$"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}", re.ASCII)


class RawRequest(BaseModel):
    """A logged request as it comes from a log line, a CSV row or the original database's `Request` table.

    Field names are the spec's; bodies may be JSON values or JSON text. Unknown fields are an error rather than
    silently dropped, so a misnamed column is noticed. This is the input format, so it stays written out; its
    fields are the table's non-derived ones plus INPUT_ONLY_FIELDS (tests/test_field_table.py checks that).
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    createdAt: datetime
    updatedAt: datetime | None = None
    ip: str | None = None
    url: Keyword | None = None
    method: Keyword | None = None
    status: int | None = Field(default=None, ge=0, le=999)
    cached: bool = False
    streamed: bool = False
    user_id: Keyword | None = None
    app_id: Keyword | None = None
    userId: str | None = None  # the original system's account id: the tenant, where none is given
    completion: str | None = None
    model: Keyword | None = None
    openai_id: Keyword | None = None
    prompt_tokens: int | None = Field(default=None, ge=0)
    completion_tokens: int | None = Field(default=None, ge=0)
    request_headers: dict[str, Any] | None = None
    request_body: JsonValue = None
    response_headers: dict[str, Any] | None = None
    response_body: JsonValue = None
    streamed_response_body: JsonValue = None
    cost: float | None = Field(default=None, ge=0)
    metadata: dict[str, str | int | float | bool] | None = None

    @field_validator("createdAt", "updatedAt")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @field_validator("ip")
    @classmethod
    def _valid_ip(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if _CANONICAL_IPV4.fullmatch(value):
            return value  # already what ip_address would make of it, found in a tenth of the time
        return _normal_ipv6(value) or _normal_ip(value)

    @field_validator("request_headers", "response_headers", mode="before")
    @classmethod
    def _headers_from_text(cls, value: Any) -> Any:
        return _json_or_value(value) if isinstance(value, str) else value

    @field_validator("request_headers", "metadata")
    @classmethod
    def _metadata_values_fit(cls, value: dict[str, Any] | None, info: ValidationInfo) -> dict[str, Any] | None:
        every_key = info.field_name == "metadata"
        for key, item in (value or {}).items():
            if not every_key and not key.lower().startswith(METADATA_HEADER_PREFIX):
                continue
            size = len(item if isinstance(item, str) else json.dumps(item))
            if size > MAX_METADATA_VALUE_CHARS:
                raise ValueError(
                    f"{key}: a metadata value of {size} characters; the limit is {MAX_METADATA_VALUE_CHARS}"
                )
        return value


def _normal_ip(value: str) -> str:
    try:
        return str(ip_address(value.strip()))
    except ValueError as error:
        raise ValueError(f"not an IP address: {value!r}") from error


def _normal_ipv6(value: str) -> str | None:
    """The C library's text of an IPv6 address, which is Python's (RFC 5952) in a fifth of the time, except where
    it writes an embedded IPv4 address (`::ffff:1.2.3.4`, which Python writes in hex): None then, and for anything
    else it does not take (IPv4, scoped addresses, spaces), so ip_address decides."""
    try:
        text = socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, value))
    except (OSError, ValueError):
        return None
    return None if "." in text else text


# RawRequest fields that are not in the field table: they feed the tenant and metadata, or are kept only in the
# original system's table.
INPUT_ONLY_FIELDS: tuple[str, ...] = ("userId", "request_headers", "response_headers")
_INT_MAX = 2**31 - 1  # the mapping's `integer`


class DocumentBase(BaseModel):
    """What is stored in OpenSearch: one per request, always carrying its tenant. The fields after `tenant_id`
    and `id` come from the field table (`RequestDocument` below)."""

    tenant_id: str = Field(pattern=TENANT_PATTERN)
    id: str

    @classmethod
    def from_raw(cls, raw: RawRequest, tenant_id: str, cost: float | None = None) -> Self:
        """Build the indexed document; `cost` fills in when the record has none (see core.pricing)."""
        return cls.model_validate(document_values(raw, tenant_id, cost))

    @property
    def doc_id(self) -> str:
        """The OpenSearch `_id`: the request id within its tenant, so a rerun updates the same document and two
        tenants that happen to log the same request id never overwrite each other."""
        return document_id(self.tenant_id, self.id)

    def source(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


# What a document field holds, by kind; booleans default to false and metadata to {} as logged requests do.
_DOCUMENT_TYPES: dict[Kind, tuple[Any, Any]] = {
    Kind.KEYWORD: (str | None, None),
    Kind.TEXT: (str | None, None),
    Kind.IP: (str | None, None),
    Kind.INTEGER: (int | None, None),
    Kind.NUMBER: (float | None, None),
    Kind.DATE: (datetime | None, None),
    Kind.BOOLEAN: (bool, False),
    Kind.METADATA: (dict[str, str], Field(default_factory=dict)),
    Kind.KEYWORDS: (list[str], Field(default_factory=list)),
}


def _document_field(row: RequestField) -> tuple[Any, Any]:
    annotation, default = _DOCUMENT_TYPES[row.kind]
    return (annotation, ...) if row.name == "createdAt" else (annotation, default)


_DOCUMENT_FIELDS: dict[str, Any] = {
    row.name: _document_field(row) for row in TABLE if row.name not in DocumentBase.model_fields
}
RequestDocument = create_model("RequestDocument", __base__=DocumentBase, **_DOCUMENT_FIELDS)


Builder = Callable[[RawRequest, float | None], Any]


def whole_microseconds(delta: timedelta) -> int:
    """`delta // timedelta(microseconds=1)`, exactly, without that division's cost (a few µs per record)."""
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _duration_ms(raw: RawRequest) -> int | None:
    if raw.updatedAt is None:
        return None
    milliseconds = whole_microseconds(raw.updatedAt - raw.createdAt) // 1000
    return milliseconds if 0 <= milliseconds <= _INT_MAX else None


# How each field of a document is built from a raw record: copied as logged unless it is listed here.
_TRANSFORMS: dict[str, Builder] = {
    "updatedAt": lambda raw, _cost: raw.updatedAt or raw.createdAt,
    "method": lambda raw, _cost: raw.method.upper() if raw.method else None,
    "request_body": lambda raw, _cost: _as_json_text(raw.request_body),
    "response_body": lambda raw, _cost: _as_json_text(raw.response_body),
    "streamed_response_body": lambda raw, _cost: _as_json_text(raw.streamed_response_body),
    "cost": lambda raw, cost: raw.cost if raw.cost is not None else cost,
    "duration_ms": lambda raw, _cost: _duration_ms(raw),
    "prompt": lambda raw, _cost: extract_prompt(raw.request_body),
    "metadata": lambda raw, _cost: collect_metadata(raw.request_headers, raw.metadata),
    "status_class": lambda raw, _cost: status_class(raw.status),
}
SIZE_FIELD = "size_chars"
# Derived from the other fields once they are built rather than from the raw record, in this order.
_FROM_BUILT: dict[str, Callable[[dict[str, Any]], Any]] = {
    "metadata_pairs": lambda values: metadata_pairs(values["metadata"]),
    SIZE_FIELD: lambda values: returned_text_chars(values),
}
_missing = [
    row.name
    for row in TABLE
    if row.origin is Origin.DERIVED and row.name not in _TRANSFORMS and row.name not in _FROM_BUILT
]
if _missing:
    raise RuntimeError(f"core/documents.py: derived fields {_missing} have no builder in _TRANSFORMS")
# Every field, in the table's order: the document starts as all None in that order, so each value keeps its place
# whenever it is filled in (and the JSON is the model's own, key for key).
_FIELD_ORDER: tuple[str, ...] = (TENANT_FIELD, *(row.name for row in TABLE))
_COPIED: tuple[str, ...] = tuple(
    row.name for row in TABLE if row.name not in _TRANSFORMS and row.name not in _FROM_BUILT
)
# Text the API returns (keywords, text, IPs: a string or None once built).
_RETURNED_TEXT = tuple(row.name for row in TABLE if row.returned and row.kind in (Kind.KEYWORD, Kind.TEXT, Kind.IP))


def returned_text_chars(values: dict[str, Any]) -> int:
    """The characters of every returned string value: about the bytes a request adds to an API answer."""
    return sum(map(len, filter(None, map(values.get, _RETURNED_TEXT))))


def document_values(raw: RawRequest, tenant_id: str, cost: float | None = None) -> dict[str, Any]:
    """The indexed document of `raw` as plain values, in `RequestDocument`'s field order.

    Every value is built from the validated record by the builders above, so only the tenant (which comes from
    elsewhere) is checked here: validating the whole document again would cost the hot path of a load or an ingest
    call a third of its time for nothing (`RequestDocument.from_raw` still does, for callers that want the model).
    """
    _checked_tenant(tenant_id)
    values: dict[str, Any] = dict.fromkeys(_FIELD_ORDER)
    values[TENANT_FIELD] = tenant_id
    logged = raw.__dict__
    for name in _COPIED:
        values[name] = logged[name]
    for name, build in _TRANSFORMS.items():
        values[name] = build(raw, cost)
    for name, derive in _FROM_BUILT.items():
        values[name] = derive(values)
    return values


def document_json(values: dict[str, Any]) -> str:
    """`document_values` as the JSON text the engine stores: the same text `RequestDocument.model_dump_json()`
    gives (tests/test_document_json.py checks it), written by orjson, which does it in a third of the time."""
    try:
        return orjson.dumps(values, option=orjson.OPT_UTC_Z).decode()
    except TypeError:
        # An integer past 64 bits (a token count the mapping cannot hold either): pydantic writes it, and the
        # engine's refusal of it is then reported like any other.
        return RequestDocument.model_validate(values).model_dump_json()


class _Tenant(BaseModel):
    tenant_id: str = Field(pattern=TENANT_PATTERN)


@lru_cache(maxsize=4096)
def _checked_tenant(tenant_id: str) -> None:
    """A ValidationError naming `tenant_id` when it cannot be one; a load or an ingest call has one or a few."""
    _Tenant(tenant_id=tenant_id)


def document_id(tenant_id: str, request_id: str) -> str:
    return f"{tenant_id}:{request_id}"


def _json_or_value(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        # orjson refuses what Python's json takes (NaN, integers past 64 bits): those are JSON to us too.
        try:
            return json.loads(text)
        except ValueError:
            return text


def _as_json_text(value: JsonValue) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def extract_prompt(body: JsonValue) -> str | None:
    """The prompt text of an OpenAI-style request body: chat `messages[].content` (strings or content-part
    arrays), legacy `prompt`, or `input`. Bodies given as JSON text are parsed first."""
    if isinstance(body, str):
        body = _json_or_value(body)
    if not isinstance(body, dict):
        return None
    parts: list[str] = []
    for key in ("system", "instructions"):
        _collect_text(body.get(key), parts)
    for message in body.get("messages") or []:
        if isinstance(message, dict):
            _collect_text(message.get("content"), parts)
    _collect_text(body.get("prompt"), parts)
    _collect_text(body.get("input"), parts)
    return "\n".join(parts) or None


def _collect_text(value: Any, parts: list[str]) -> None:
    """Strings, lists of strings, content parts ({"type": "text", "text": ...}) and input messages."""
    if isinstance(value, str):
        if value:
            parts.append(value)
    elif isinstance(value, list):
        for item in value:
            _collect_text(item, parts)
    elif isinstance(value, dict):
        if isinstance(value.get("text"), str):
            parts.append(value["text"])
        elif "content" in value:
            _collect_text(value["content"], parts)


def status_class(status: int | None) -> str | None:
    """`2xx` for 200 to 299, and so on; None for no status or one outside 100 to 599."""
    if status is None or not 100 <= status <= 599:
        return None
    return f"{status // 100}xx"


def metadata_pairs(metadata: dict[str, str]) -> list[str]:
    """`<key>=<value>` for each pair whose key has no `=` (so a pair starting `<key>=` always belongs to `<key>`),
    sorted: the same metadata gives the same list whatever order its keys came in."""
    return sorted(
        f"{key}{METADATA_PAIR_SEPARATOR}{value}"
        for key, value in metadata.items()
        if METADATA_PAIR_SEPARATOR not in key
    )


def collect_metadata(
    headers: dict[str, Any] | None, metadata: dict[str, str | int | float | bool] | None
) -> dict[str, str]:
    """Custom properties: `x-metadata-<key>` request headers (the original system's way) plus explicit ones."""
    found: dict[str, str] = {}
    for name, value in (headers or {}).items():
        if name.lower().startswith(METADATA_HEADER_PREFIX) and value is not None:
            # Header names are case-insensitive, so keys from headers are too: X-Metadata-Env is `env`.
            key = name[len(METADATA_HEADER_PREFIX) :].lower()
            if key:
                found[key] = value if isinstance(value, str) else json.dumps(value)
    for key, value in (metadata or {}).items():
        found[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return found
