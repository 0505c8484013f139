"""`GET /api/v1/openapi.json`, generated from the pydantic models so it cannot drift from the code."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from service.errors import INVALID_KEY, METHOD_NOT_ALLOWED, MISSING_KEY, ErrorBody
from service.params import RequestsQuery
from service.responses import RequestsPage

REF_TEMPLATE = "#/components/schemas/{model}"


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def _parameters() -> list[dict[str, Any]]:
    schema = RequestsQuery.model_json_schema()
    out = []
    for name, prop in schema["properties"].items():
        description = prop.pop("description", "")
        prop.pop("title", None)
        out.append({"name": name, "in": "query", "required": False, "description": description, "schema": prop})
    return out


def _error(description: str, *examples: str) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": {"$ref": REF_TEMPLATE.format(model="ErrorBody")}}
    if examples:
        content["examples"] = {f"e{i}": {"value": {"error": text}} for i, text in enumerate(examples)}
    return {"description": description, "content": {"application/json": content}}


@cache
def openapi_spec() -> dict[str, Any]:
    components: dict[str, Any] = {}
    page_ref = _schema(RequestsPage, components)
    _schema(ErrorBody, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "llm-request-search",
            "version": "1",
            "description": "Search logged LLM API requests. Every query is confined to the API key's tenant.",
        },
        "paths": {
            "/api/v1/requests": {
                "get": {
                    "operationId": "listRequests",
                    "summary": "Search, filter, sort and page logged requests",
                    "parameters": _parameters(),
                    "security": [{"apiKey": []}],
                    "responses": {
                        "200": {
                            "description": "A page of requests",
                            "content": {"application/json": {"schema": page_ref}},
                        },
                        "400": _error("A parameter is invalid; the message names it"),
                        "401": _error("No API key, or an invalid one", MISSING_KEY, INVALID_KEY),
                        "405": _error("Any method but GET or HEAD", METHOD_NOT_ALLOWED),
                        "503": _error("The search engine is unavailable; retry"),
                    },
                }
            }
        },
        "components": {
            "schemas": components,
            "securitySchemes": {
                "apiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`Bearer <key>` or the bare key",
                }
            },
        },
    }
