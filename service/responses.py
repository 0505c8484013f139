"""What `GET /api/v1/requests` answers: the request objects and the page around them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator


class RequestOut(BaseModel):
    """One element of the API's `requests` array, with the spec's types (status and bodies are strings)."""

    id: str
    createdAt: str | None = None
    updatedAt: str | None = None
    ip: str | None = None
    url: str | None = None
    method: str | None = None
    status: str | None = None
    cached: bool | None = None
    streamed: bool | None = None
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
    metadata: dict[str, str] | None = None

    @field_validator("status", mode="before")
    @classmethod
    def _status_text(cls, value: Any) -> Any:
        return None if value is None else str(value)


class RequestsPage(BaseModel):
    """The 200 body of `GET /api/v1/requests`."""

    requests: list[RequestOut]
    totalCount: int = Field(ge=0)


# Fields the response needs from `_source`; the tenant and the derived prompt stay inside.
RESPONSE_SOURCE_FIELDS: list[str] = list(RequestOut.model_fields)
