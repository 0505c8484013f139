"""`GET /docs`: the API reference, rendered in the browser by Redoc from `/api/v1/openapi.json`.

Redoc is vendored in `service/static/redoc/` (with its licence, its bundled libraries' notices and `VENDORED.json`,
which records where the file came from and its sha256), so the page needs no CDN and works offline. The page has no
inline script, so its Content-Security-Policy admits only the service's own scripts.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from aiohttp import web

STATIC: Traversable = resources.files("service") / "static" / "redoc"
DOCS_PATH = "/docs"
SPEC_PATH = "/api/v1/openapi.json"
SCRIPT_PATH = f"{DOCS_PATH}/redoc.standalone.js"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        # Redoc builds its search index in a Web Worker made from a blob: URL.
        "worker-src blob:",
        # Redoc styles itself with styled-components, which writes <style> elements at run time.
        "style-src 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
# The script's URL carries its digest, so a browser may keep it until the next release changes it.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@dataclass(frozen=True)
class Script:
    body: bytes
    gzipped: bytes
    sha256: str

    @property
    def version(self) -> str:
        return self.sha256[:16]


@cache
def vendored() -> dict[str, str]:
    """What `VENDORED.json` records: package, version, file, sha256, licence."""
    record: dict[str, str] = json.loads((STATIC / "VENDORED.json").read_text(encoding="utf-8"))
    return record


@cache
def _script() -> Script:
    body = (STATIC / vendored()["file"]).read_bytes()
    return Script(body, gzip.compress(body, compresslevel=9, mtime=0), hashlib.sha256(body).hexdigest())


async def _loaded_script() -> Script:
    # Compressing a megabyte takes a noticeable moment once; it should not stall the event loop while it does.
    return await asyncio.to_thread(_script)


def _page(script: Script) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>llm-request-search API reference</title>
<link rel="icon" href="data:,">
</head>
<body>
<redoc spec-url="{SPEC_PATH}" expand-responses="200"></redoc>
<script src="{SCRIPT_PATH}?v={script.version}"></script>
</body>
</html>
"""


def _security_headers(cache_control: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": cache_control,
    }


async def docs_page(request: web.Request) -> web.Response:
    script = await _loaded_script()
    return web.Response(
        text=_page(script), content_type="text/html", charset="utf-8", headers=_security_headers(REVALIDATE)
    )


def _accepts_gzip(header: str) -> bool:
    for item in header.split(","):
        coding, _, params = item.partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


async def redoc_script(request: web.Request) -> web.Response:
    script = await _loaded_script()
    current = request.query.get("v") == script.version
    headers = _security_headers(IMMUTABLE if current else REVALIDATE)
    headers["Vary"] = "Accept-Encoding"
    body = script.body
    if _accepts_gzip(request.headers.get("Accept-Encoding", "")):
        body = script.gzipped
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=body, content_type="text/javascript", charset="utf-8", headers=headers)
