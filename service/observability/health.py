"""`GET /healthz` and `GET /readyz`: for the orchestrator's probes, without a key.

`/healthz` says the process answers, and nothing more: it makes no engine call, so an engine outage never has the
service restarted (restarting would not bring the engine back). `/readyz` says the service can serve: the engine
answers, and the index templates, the read and write aliases and the keys index exist (the service puts them
there at start, `core.templates.apply_templates`). Otherwise it is a 503 whose `error` says what is missing, for
taking the instance out of rotation or holding a deployment back. A handful of HEAD requests, each within the
service's query timeout.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import OpenSearchException

from core.templates import IndexNames
from service.context import SERVICES
from service.engine_errors import classify
from service.errors import json_error

HEALTHZ_PATH = "/healthz"
READYZ_PATH = "/readyz"
HEALTH_TAG = "operations"


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    try:
        missing = await missing_parts(services.client, services.names)
    except (TimeoutError, OpenSearchException) as error:
        failure = classify(error)
        if failure is None:
            raise
        # Not logged: a probe asks every few seconds through an outage, and the requests log it already.
        return json_error(503, f"Not ready: {failure.answer.message}", failure.answer.headers)
    if missing:
        return json_error(503, f"Not ready: missing {', '.join(missing)} (applied at start; see the service's log).")
    return web.json_response({"status": "ready"})


async def missing_parts(client: AsyncOpenSearch, names: IndexNames) -> list[str]:
    """What of the service's indices is not there; raises when the engine cannot be asked."""
    checks = {
        f"index template {names.requests_template}": client.indices.exists_index_template(name=names.requests_template),
        f"index template {names.prefix}-keys": client.indices.exists_index_template(name=f"{names.prefix}-keys"),
        f"read alias {names.read_alias}": client.indices.exists_alias(name=names.read_alias),
        f"write alias {names.write_alias}": client.indices.exists_alias(name=names.write_alias),
        f"keys index {names.keys_index}": client.indices.exists(index=names.keys_index),
    }
    present = await asyncio.gather(*checks.values())
    return [part for part, there in zip(checks, present, strict=True) if not there]


def add_health_routes(app: web.Application) -> None:
    app.router.add_get(HEALTHZ_PATH, healthz)
    app.router.add_get(READYZ_PATH, readyz)


def health_paths(error_body_ref: dict[str, Any]) -> dict[str, Any]:
    """The two operations in the OpenAPI document."""
    not_ready = {
        "description": "Not ready: the engine is unreachable or timed out, or a template, alias or index is missing "
        "(the message says which).",
        "content": {"application/json": {"schema": error_body_ref}},
    }
    status = {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string"}},
    }
    return {
        HEALTHZ_PATH: {
            "get": {
                "tags": [HEALTH_TAG],
                "operationId": "healthz",
                "summary": "Liveness: the process answers",
                "description": "Makes no engine call, so an engine outage does not fail it. No key needed.",
                "responses": {
                    "200": {
                        "description": '`{"status": "ok"}`',
                        "content": {"application/json": {"schema": status}},
                    }
                },
            }
        },
        READYZ_PATH: {
            "get": {
                "tags": [HEALTH_TAG],
                "operationId": "readyz",
                "summary": "Readiness: the engine answers and the templates, aliases and keys index exist",
                "description": "A few small engine calls, each within the service's query timeout. No key needed.",
                "responses": {
                    "200": {
                        "description": '`{"status": "ready"}`',
                        "content": {"application/json": {"schema": status}},
                    },
                    "503": not_ready,
                },
            }
        },
    }
