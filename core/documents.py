"""The one document model: raw request records in, indexed documents out.

Loaders and the HTTP service both use it, so a request looks the same whichever way it entered the index.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.fields import METADATA_HEADER_PREFIX

JsonValue = dict[str, Any] | list[Any] | str | int | float | bool | None
MAX_ID_LENGTH = 512
# No ':' so that `<tenant>:<id>` (the document _id) splits one way only.
TENANT_PATTERN = r"^[^:\s]{1,256}$"


class RawRequest(BaseModel):
    """A logged request as it comes from a log line, a CSV row or the original database's `Request` table.

    Field names are the spec's; bodies may be JSON values or JSON text. Unknown fields are an error rather than
    silently dropped, so a misnamed column is noticed.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    createdAt: datetime
    updatedAt: datetime | None = None
    ip: str | None = None
    url: str | None = None
    method: str | None = None
    status: int | None = Field(default=None, ge=0, le=999)
    cached: bool = False
    streamed: bool = False
    user_id: str | None = None
    app_id: str | None = None
    userId: str | None = None  # the original system's account id: the tenant, where none is given
    completion: str | None = None
    model: str | None = None
    openai_id: str | None = None
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
        try:
            return str(ip_address(value.strip()))
        except ValueError as error:
            raise ValueError(f"not an IP address: {value!r}") from error

    @field_validator("request_headers", "response_headers", mode="before")
    @classmethod
    def _headers_from_text(cls, value: Any) -> Any:
        return _json_or_value(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _updated_defaults_to_created(self) -> RawRequest:
        if self.updatedAt is None:
            self.updatedAt = self.createdAt
        return self


class RequestDocument(BaseModel):
    """What is stored in OpenSearch: one per request, `_id` = `id`, always carrying its tenant."""

    tenant_id: str = Field(pattern=TENANT_PATTERN)
    id: str
    createdAt: datetime
    updatedAt: datetime
    ip: str | None = None
    url: str | None = None
    method: str | None = None
    status: int | None = None
    cached: bool = False
    streamed: bool = False
    user_id: str | None = None
    app_id: str | None = None
    completion: str | None = None
    model: str | None = None
    openai_id: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    request_body: str | None = None
    response_body: str | None = None
    streamed_response_body: str | None = None
    cost: float | None = None
    prompt: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def from_raw(cls, raw: RawRequest, tenant_id: str, cost: float | None = None) -> RequestDocument:
        """Build the indexed document; `cost` fills in when the record has none (see core.pricing)."""
        request_body = _as_json_text(raw.request_body)
        return cls(
            tenant_id=tenant_id,
            id=raw.id,
            createdAt=raw.createdAt,
            updatedAt=raw.updatedAt or raw.createdAt,
            ip=raw.ip,
            url=raw.url,
            method=raw.method.upper() if raw.method else None,
            status=raw.status,
            cached=raw.cached,
            streamed=raw.streamed,
            user_id=raw.user_id,
            app_id=raw.app_id,
            completion=raw.completion,
            model=raw.model,
            openai_id=raw.openai_id,
            prompt_tokens=raw.prompt_tokens,
            completion_tokens=raw.completion_tokens,
            request_body=request_body,
            response_body=_as_json_text(raw.response_body),
            streamed_response_body=_as_json_text(raw.streamed_response_body),
            cost=raw.cost if raw.cost is not None else cost,
            prompt=extract_prompt(raw.request_body),
            metadata=collect_metadata(raw.request_headers, raw.metadata),
        )

    @property
    def doc_id(self) -> str:
        """The OpenSearch `_id`: the request id within its tenant, so a rerun updates the same document and two
        tenants that happen to log the same request id never overwrite each other."""
        return document_id(self.tenant_id, self.id)

    def source(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def document_id(tenant_id: str, request_id: str) -> str:
    return f"{tenant_id}:{request_id}"


def _json_or_value(text: str) -> Any:
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
