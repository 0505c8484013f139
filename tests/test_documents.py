"""The shared document model: prompt extraction, metadata from headers, ids, and the response's types."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from core.documents import RawRequest, RequestDocument, extract_prompt
from service.responses import RequestOut

CREATED = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "prompt"),
    [
        ({"messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"}]}, "Be kind.\nHi"),
        (
            {"messages": [{"role": "user", "content": [{"type": "text", "text": "Look"}, {"type": "image_url"}]}]},
            "Look",
        ),
        ({"prompt": "Once upon"}, "Once upon"),
        ({"prompt": ["a", "b"]}, "a\nb"),
        ({"input": "embed me"}, "embed me"),
        ({"input": [{"role": "user", "content": [{"type": "input_text", "text": "responses api"}]}]}, "responses api"),
        ('{"messages": [{"role": "user", "content": "as JSON text"}]}', "as JSON text"),
        ("not json at all", None),
        ({"model": "gpt-4o"}, None),
        (None, None),
    ],
)
def test_prompt_extraction(body: object, prompt: str | None) -> None:
    assert extract_prompt(body) == prompt  # type: ignore[arg-type]


def test_document_from_raw_record() -> None:
    raw = RawRequest(
        id="r1",
        createdAt=datetime(2026, 2, 1),  # naive: taken as UTC
        ip=" 192.168.0.1 ",
        method="post",
        request_headers={"X-Metadata-Env": "prod", "x-metadata-Team": "core", "content-type": "application/json"},
        metadata={"tier": 2, "beta": True},
        request_body={"messages": [{"role": "user", "content": "hello"}]},
        response_body={"choices": []},
    )
    document = RequestDocument.from_raw(raw, "acme", cost=0.5)
    assert document.createdAt == CREATED and document.updatedAt == CREATED
    assert document.ip == "192.168.0.1" and document.method == "POST"
    assert document.metadata == {"env": "prod", "team": "core", "tier": "2", "beta": "true"}
    assert document.prompt == "hello"
    assert document.request_body == '{"messages":[{"role":"user","content":"hello"}]}'
    assert document.cost == 0.5
    assert document.doc_id == "acme:r1"


def test_recorded_cost_wins_over_computed() -> None:
    raw = RawRequest(id="r2", createdAt=CREATED, cost=0.25)
    assert RequestDocument.from_raw(raw, "acme", cost=9.0).cost == 0.25


@pytest.mark.parametrize(
    "fields",
    [
        {"id": "", "createdAt": CREATED},
        {"id": "x", "createdAt": "yesterday"},
        {"id": "x", "createdAt": CREATED, "ip": "999.1.1.1"},
        {"id": "x", "createdAt": CREATED, "status": "ok"},
        {"id": "x", "createdAt": CREATED, "prompt_tokens": -1},
        {"id": "x", "createdAt": CREATED, "surprise": 1},
    ],
)
def test_bad_raw_records_are_rejected(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        RawRequest.model_validate(fields)


@pytest.mark.parametrize("tenant", ["", "a:b", "has space"])
def test_tenant_ids_that_would_make_ambiguous_document_ids_are_refused(tenant: str) -> None:
    with pytest.raises(ValidationError):
        RequestDocument.from_raw(RawRequest(id="x", createdAt=CREATED), tenant)


def test_response_object_uses_the_spec_types() -> None:
    out = RequestOut.model_validate({"id": "x", "status": 404, "cost": 1})
    assert out.status == "404" and out.cost == 1.0 and out.model is None
