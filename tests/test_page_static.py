"""The page's server side: `/` and its files (CSP, no other origin, gzip, ETags), the vendored uPlot against its
record, `/api/v1/schema` against the service's own tables, `/api/v1/me`, and what `serve` prints."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from opensearchpy import AsyncOpenSearch

from cli.serve import serving_lines
from core.fields import FILTERABLE, SORTABLE
from core.templates import IndexNames
from service.analytics.dimensions import FIELD_DIMENSIONS
from service.errors import INVALID_KEY, MISSING_KEY
from service.filters import OPERATORS
from service.filters.targets import resolve
from service.keys import KeyStore
from service.openapi import openapi_spec
from service.page_routes import APP, PAGE_CONTENT_SECURITY_POLICY, assets
from service.schema import ME_PATH, SCHEMA_PATH
from tests.test_openapi import csp_directives

Api = TestClient[web.Request, web.Application]
APP_DIR = Path(str(APP))
VENDOR = APP_DIR / "vendor"


def test_the_vendored_uplot_is_what_its_record_says() -> None:
    record = json.loads((VENDOR / "VENDORED.json").read_text(encoding="utf-8"))
    assert (record["package"], record["license"]) == ("uplot", "MIT")
    for name, entry in record["files"].items():
        body = (VENDOR / name).read_bytes()
        assert hashlib.sha256(body).hexdigest() == entry["sha256"], name
        assert len(body) == entry["bytes"], name
    script = (VENDOR / "uPlot.iife.min.js").read_text(encoding="utf-8")
    assert script.startswith(f"/*! https://github.com/leeoniya/uPlot (v{record['version']}) */")
    assert "MIT License" in (VENDOR / record["license_file"]).read_text(encoding="utf-8")
    # Nothing in the page directory is vendored without a record.
    assert {p.name for p in VENDOR.iterdir()} == {*record["files"], record["license_file"], "VENDORED.json"}


def _page_files() -> list[Path]:
    return sorted(p for p in APP_DIR.rglob("*") if p.is_file() and p.parent == APP_DIR)


def test_the_page_scripts_use_no_html_sink() -> None:
    """Logged values become text nodes only; the policy's Trusted Types would stop a string at an HTML sink anyway."""
    sinks = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(\"on"
    )
    scripts = [p for p in _page_files() if p.suffix == ".js"]
    assert len(scripts) >= 5
    for path in scripts:
        assert not sinks.search(path.read_text(encoding="utf-8")), path.name


def test_every_module_the_page_imports_is_a_served_file() -> None:
    served = assets()
    for path in (p for p in _page_files() if p.suffix == ".js"):
        for imported in re.findall(r'from "\./([^"]+)"', path.read_text(encoding="utf-8")):
            assert imported in served, f"{path.name} imports {imported}"


async def test_the_page_loads_only_its_own_files_under_its_policy(api: Api) -> None:
    response = await api.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    assert response.headers["Content-Security-Policy"] == PAGE_CONTENT_SECURITY_POLICY
    csp = csp_directives(PAGE_CONTENT_SECURITY_POLICY)
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["require-trusted-types-for"] == ["'script'"]
    assert "unsafe" not in PAGE_CONTENT_SECURITY_POLICY
    html = await response.text()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.DOTALL)
    assert len(scripts) == 2 and all(inline.strip() == "" for _, inline in scripts)
    assert "<style" not in html and " style=" not in html
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls
    for url in urls:
        assert url.startswith(("/app/", "data:", "/docs")), url
        if url.startswith("/app/"):
            served = await api.get(url)
            assert served.status == 200, url
            assert served.headers["Content-Security-Policy"] == PAGE_CONTENT_SECURITY_POLICY


async def test_page_files_are_gzipped_revalidated_and_unknown_ones_404(api: Api) -> None:
    plain = await api.get(
        "/app/vendor/uPlot.iife.min.js", headers={"Accept-Encoding": "identity"}, auto_decompress=False
    )
    assert plain.status == 200 and plain.content_type == "text/javascript"
    body = await plain.read()
    assert body == (VENDOR / "uPlot.iife.min.js").read_bytes()
    zipped = await api.get("/app/vendor/uPlot.iife.min.js", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await zipped.read()) == body
    etag = plain.headers["ETag"]
    again = await api.get("/app/vendor/uPlot.iife.min.js", headers={"If-None-Match": etag})
    assert again.status == 304
    assert (await api.get("/app/main.js")).content_type == "text/javascript"
    assert (await api.get("/app/app.css")).content_type == "text/css"
    for missing in ("/app/nope.js", "/app/../pyproject.toml", "/app/vendor/"):
        answer = await api.get(missing)
        assert answer.status == 404, missing
        assert answer.content_type == "application/json"


async def test_the_schema_is_the_services_own_tables(api: Api) -> None:
    response = await api.get(SCHEMA_PATH)
    assert response.status == 200
    schema = await response.json()
    assert [f["name"] for f in schema["fields"]] == list(FILTERABLE)
    for field in schema["fields"]:
        target = resolve(field["name"])
        assert field["kind"] == str(target.kind)
        assert field["operators"] == [key for key, op in OPERATORS.items() if op.accepts(target)], field["name"]
    assert [op["key"] for op in schema["operators"]] == list(OPERATORS)
    assert {op["key"]: op["values"] for op in schema["operators"]} == {k: o.arity.value for k, o in OPERATORS.items()}
    labels = [op["label"] for op in schema["operators"]]
    assert len(set(labels)) == len(labels) and labels[labels.index("begins with")]
    assert schema["sortBy"] == list(SORTABLE)
    assert schema["analytics"]["groupBy"] == [*FIELD_DIMENSIONS, "metadata.<key>"]
    assert schema["metadataKey"]["operators"] == [k for k, o in OPERATORS.items() if o.accepts(resolve("metadata.x"))]
    paths = openapi_spec()["paths"]
    assert SCHEMA_PATH in paths and ME_PATH in paths


@pytest.fixture(scope="module")
async def page_key(client: AsyncOpenSearch, index_names: IndexNames, keys: KeyStore) -> str:
    created, _ = await keys.create("page-tenant")
    return created


async def test_me_names_the_keys_tenant_and_gives_the_apis_401s(api: Api, page_key: str) -> None:
    response = await api.get(ME_PATH, headers={"Authorization": f"Bearer {page_key}"})
    assert response.status == 200
    assert await response.json() == {"tenant": "page-tenant"}
    missing = await api.get(ME_PATH)
    assert (missing.status, await missing.json()) == (401, {"error": MISSING_KEY})
    wrong = await api.get(ME_PATH, headers={"Authorization": "Bearer lrs_wrong"})
    assert (wrong.status, await wrong.json()) == (401, {"error": INVALID_KEY})


def test_serve_prints_the_page_beside_the_demo_key() -> None:
    lines = serving_lines("http://127.0.0.1:8080", "http://127.0.0.1:9200", "lrs_demo")
    assert "The page (search, filters, charts): http://127.0.0.1:8080/" in lines
    key = lines.index("Demo API key (tenant 'demo'): lrs_demo")
    assert lines[key + 1] == "  open http://127.0.0.1:8080/ and paste it to sign in, or"
    assert not any("http://127.0.0.1:8080/ " in line for line in serving_lines("http://127.0.0.1:8080", "x", None))
