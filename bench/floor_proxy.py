"""The least an HTTP service in front of OpenSearch can do, for `bench.floor`: take a GET, send the search body
registered for its query to the engine with aiohttp, return the engine's bytes as they came. No key, no parsing, no
rendering, no log: what is left over direct OpenSearch is the second hop itself on this machine.

    python -m bench.floor_proxy ENGINE_SEARCH_URL PORT
"""

from __future__ import annotations

import sys

import aiohttp
from aiohttp import web

SESSION = web.AppKey("session", aiohttp.ClientSession)
BODIES = web.AppKey("bodies", dict)
ENGINE = web.AppKey("engine", str)


async def search(request: web.Request) -> web.Response:
    body = request.app[BODIES][request.query["q"]]
    headers = {"Content-Type": "application/json"}
    async with request.app[SESSION].post(request.app[ENGINE], data=body, headers=headers) as answer:
        data = await answer.read()
    return web.Response(body=data, status=answer.status, content_type="application/json")


async def register(request: web.Request) -> web.Response:
    """The search body of query `q`, sent once before the timed requests."""
    request.app[BODIES][request.query["q"]] = await request.read()
    return web.json_response({"registered": request.query["q"]})


def make_app(engine_search_url: str) -> web.Application:
    app = web.Application()
    app[ENGINE] = engine_search_url
    app[BODIES] = {}

    async def open_session(app: web.Application) -> None:
        # As the service's engine client: no Accept-Encoding, so the engine answers uncompressed.
        app[SESSION] = aiohttp.ClientSession(skip_auto_headers=("Accept-Encoding",))

    async def close_session(app: web.Application) -> None:
        await app[SESSION].close()

    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)
    app.router.add_get("/search", search)
    app.router.add_post("/register", register)
    return app


if __name__ == "__main__":
    web.run_app(make_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), access_log=None, print=None)
