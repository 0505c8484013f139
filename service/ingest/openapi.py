"""`POST /api/v1/ingest` in the OpenAPI document: the record schema is the loaders' own input model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.documents import RawRequest
from service.auth import MISSING_SCOPE
from service.ingest.answer import IngestAnswer
from service.keys import Scope

INGEST_PATH = "/api/v1/ingest"


def ingest_operation(errors: Mapping[str, Any], components: dict[str, Any], ref_template: str) -> dict[str, Any]:
    """The operation; `errors` holds the list's 401 and 503 answers and the security requirement."""
    for model in (RawRequest, IngestAnswer):
        schema = model.model_json_schema(ref_template=ref_template)
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    record = {"$ref": ref_template.format(model=RawRequest.__name__)}
    answer = {"$ref": ref_template.format(model=IngestAnswer.__name__)}

    def answered(description: str) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": answer}}}

    error = {"$ref": ref_template.format(model="ErrorBody")}
    return {
        "tags": ["ingest"],
        "operationId": "ingest",
        "summary": "Log requests as they happen: searchable within a second",
        "description": (
            "A JSON array of records, or NDJSON (`Content-Type: application/x-ndjson`), gzip allowed "
            "(`Content-Encoding: gzip`). A record has the shape the NDJSON loader takes; `id` is required; it is "
            "written to the API key's tenant (`tenant_id` in a record is refused). The key needs the `write` scope.\n\n"
            "Idempotent: an id is stored once, and of two records of one id the newest `updatedAt` is kept whatever "
            "order they arrive in, so a retry is always safe. Searchable within the refresh interval (1 s), or when "
            "the answer comes with `refresh=wait_for`."
        ),
        "parameters": [
            {
                "name": "refresh",
                "in": "query",
                "required": False,
                "description": "`wait_for`: answer once the records are searchable.",
                "schema": {"type": "string", "enum": ["false", "wait_for"], "default": "false"},
            }
        ],
        "requestBody": {
            "required": True,
            # NDJSON (one record a line) is taken too; it is described rather than listed, since client
            # generators refuse a content type they cannot encode.
            "description": "A JSON array of records; or NDJSON, one record a line, as `application/x-ndjson`.",
            "content": {"application/json": {"schema": {"type": "array", "items": record}}},
        },
        "security": errors["security"],
        "responses": {
            "200": answered("Every record is stored (`accepted`)."),
            "207": answered("Some records were not stored: `errors` says which (by index in the body) and why."),
            "400": {
                "description": "Nothing could be read: the body is empty, not JSON, or no NDJSON line is JSON.",
                "content": {"application/json": {"schema": error}},
            },
            "401": errors["401"],
            "403": {
                "description": "The key cannot write.",
                "content": {
                    "application/json": {
                        "schema": error,
                        "example": {"error": MISSING_SCOPE[Scope.WRITE]},
                    }
                },
            },
            "405": {
                "description": "Any method but POST.",
                "content": {"application/json": {"schema": error}},
            },
            "413": {
                "description": "Over the body (10 MB decoded) or record (10,000) limit of one call.",
                "content": {"application/json": {"schema": error}},
            },
            "429": answered(
                "The engine (or the service) is busy: the records listed with `retryable: true` (or, without "
                "`errors`, all of them) were not stored; send them again after `Retry-After` seconds."
            ),
            "503": errors["503"],
        },
    }
