"""The built-in page: `GET /` and its static files under `/app/`, straight from the package (`service/static/app/`).

No build step: the page is plain ES modules and one vendored chart library (uPlot, recorded with its licence and
sha256 in `static/app/vendor/VENDORED.json`). Files are read once, gzipped once, and answered with an ETag that a
browser revalidates (`no-cache`), so a new release is picked up on the next load without renamed files.

The page's Content-Security-Policy allows scripts, styles and connections to this origin only, no inline script or
style, and requires Trusted Types, so a string can never reach `innerHTML` or another HTML sink: every logged value
is rendered as a text node.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from aiohttp import web

from service.handlers import COMPRESS_FROM_BYTES
from service.schema import ME_PATH, SCHEMA_PATH, me, schema

APP: Traversable = resources.files("service") / "static" / "app"
PAGE_PATH = "/"
ASSETS_PATH = "/app"
INDEX = "index.html"

PAGE_CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        # No string may reach innerHTML, outerHTML, document.write or eval: the page builds text nodes only.
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    )
)
CONTENT_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".LICENSE": "text/plain",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str


def _asset(body: bytes, content_type: str) -> Asset:
    gzipped = gzip.compress(body, compresslevel=9, mtime=0) if len(body) >= COMPRESS_FROM_BYTES else None
    return Asset(body, gzipped, content_type, f'"{hashlib.sha256(body).hexdigest()[:32]}"')


def _walk(folder: Traversable, prefix: str) -> dict[str, Traversable]:
    found: dict[str, Traversable] = {}
    for entry in folder.iterdir():
        if entry.is_dir():
            found.update(_walk(entry, f"{prefix}{entry.name}/"))
        else:
            found[f"{prefix}{entry.name}"] = entry
    return found


def _content_type(name: str) -> str | None:
    for suffix, content_type in CONTENT_TYPES.items():
        if name.endswith(suffix):
            return content_type
    return None


@cache
def assets() -> dict[str, Asset]:
    """Every servable file of the page, by its path under `/app/` (the page itself as `index.html`)."""
    out: dict[str, Asset] = {}
    for name, entry in _walk(APP, "").items():
        content_type = _content_type(name)
        if content_type is not None:
            out[name] = _asset(entry.read_bytes(), content_type)
    return out


def security_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": PAGE_CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
        "Vary": "Accept-Encoding",
    }


def _accepts_gzip(header: str) -> bool:
    for item in header.split(","):
        coding, _, params = item.partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            params = params.strip()
            quality = params[2:].strip() if params.startswith("q=") else "1"
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


def _answer(request: web.Request, asset: Asset) -> web.Response:
    headers = security_headers()
    headers["ETag"] = asset.etag
    if asset.etag in (tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")):
        return web.Response(status=304, headers=headers)
    body = asset.body
    if asset.gzipped is not None and _accepts_gzip(request.headers.get("Accept-Encoding", "")):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    charset = "utf-8" if asset.content_type.startswith("text/") or asset.content_type.endswith("json") else None
    return web.Response(body=body, content_type=asset.content_type, charset=charset, headers=headers)


async def page(request: web.Request) -> web.Response:
    return _answer(request, assets()[INDEX])


async def asset(request: web.Request) -> web.Response:
    found = assets().get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound()
    return _answer(request, found)


def add_page_routes(app: web.Application) -> None:
    app.router.add_get(PAGE_PATH, page)
    app.router.add_get(ASSETS_PATH + "/{name:.+}", asset)
    app.router.add_get(SCHEMA_PATH, schema)
    app.router.add_get(ME_PATH, me)
