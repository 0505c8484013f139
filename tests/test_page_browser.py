"""The built-in page (`/`) end to end: Debian's chromium through pytest-playwright, against the live service on a
real node, over known requests (tests/browser/data.py). Each test checks that the numbers on screen are the API's
(and the known answers), that the console stays free of errors, that nothing is fetched from another origin, and
that logged markup shows as text. Screenshots (1280x800) go to test-artifacts/page/."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

import pytest
from opensearchpy import AsyncOpenSearch
from playwright.sync_api import Browser, BrowserType, Page, Playwright, sync_playwright

from core.settings import ServiceSettings
from core.templates import IndexNames
from service.errors import INVALID_KEY
from service.keys import KeyStore
from tests.browser.data import IMG, ODD_ID, TEMPLATE, TENANT, count, documents, utc_now
from tests.browser.ui import VIEWPORT, Api, Ui, chromium_path, format_cost
from tests.dataset import index_documents
from tests.live_server import LiveService, running_service


# Playwright's sync API marks its event loop as running between calls, which stops pytest-asyncio's loop from
# running. So Playwright lives for this module only, started after the module's async fixtures (the data, the key,
# the server) and stopped before they are torn down; pytest-playwright's `context` and `page` fixtures use it.
@pytest.fixture(scope="module")
def playwright(site: LiveService, _pw_api_request_contexts: Any) -> Iterator[Playwright]:
    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="module")
def browser_type(playwright: Playwright, browser_name: str) -> BrowserType:
    chosen: BrowserType = getattr(playwright, browser_name)
    return chosen


@pytest.fixture(scope="module")
def launch_browser(browser_type_launch_args: dict[str, Any], browser_type: BrowserType) -> Callable[..., Browser]:
    return lambda **kwargs: browser_type.launch(**{**browser_type_launch_args, **kwargs})


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[..., Browser]) -> Iterator[Browser]:
    launched = launch_browser()
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def browser_type_launch_args() -> dict[str, Any]:
    return {"executable_path": chromium_path(), "headless": True}


@pytest.fixture(scope="module")
def browser_context_args() -> dict[str, Any]:
    return {"viewport": VIEWPORT}


@pytest.fixture(scope="module")
async def known_now(client: AsyncOpenSearch, index_names: IndexNames) -> datetime:
    now = utc_now()
    await index_documents(client, index_names, documents(now))
    return now


@pytest.fixture(scope="module")
async def key(client: AsyncOpenSearch, index_names: IndexNames, known_now: datetime) -> str:
    created, _ = await KeyStore(client, index_names, 0).create(TENANT, "page tests")
    return created


@pytest.fixture(scope="module")
def site(opensearch_url: str, index_names: IndexNames, key: str) -> Iterator[LiveService]:
    settings = ServiceSettings(index_prefix=index_names.prefix, key_cache_seconds=60)
    with running_service(opensearch_url, settings, through_proxy=True) as server:
        yield server


@pytest.fixture
def api(site: LiveService, key: str) -> Api:
    return Api(site.base_url, key)


@pytest.fixture
def ui(page: Page, site: LiveService) -> Ui:
    return Ui(page, site.base_url)


def signed_in(ui: Ui, key: str, query: str = "") -> Ui:
    ui.open(query)
    ui.sign_in(key)
    return ui


def rule_group(*rules: dict[str, Any]) -> str:
    """The filter as the page sends it for rules added to an empty builder."""
    return json.dumps({"combinator": "and", "not": False, "rules": list(rules)}, separators=(",", ":"))


def test_sign_in_shows_the_tenant_and_the_apis_numbers(ui: Ui, api: Api, key: str) -> None:
    signed_in(ui, key)
    assert ui.page.inner_text("#tenant") == f"tenant {TENANT}"
    answer = api.get("/api/v1/requests", sortBy="createdAt", sortOrder="desc", pageSize=10)
    assert ui.total() == answer["totalCount"] == 48
    assert ui.row_ids() == [r["id"] for r in answer["requests"]]
    assert ui.page.evaluate("sessionStorage.getItem('llmsearch.key')") == key
    assert key not in ui.page.url
    ui.shot("signed-in")
    ui.assert_payloads_literal("#results tbody", (IMG,))
    ui.assert_safe_and_clean()
    ui.page.click("#sign-out")
    assert ui.page.is_visible("#sign-in")
    assert ui.page.evaluate("sessionStorage.getItem('llmsearch.key')") is None


def test_search_marks_the_matched_words_and_shows_payloads_as_text(
    ui: Ui, api: Api, key: str, known_now: datetime
) -> None:
    signed_in(ui, key, "?size=50")
    ui.search("lighthouse")
    expected = count(known_now, lambda r: "lighthouse" in r.prompt or "lighthouse" in r.completion)
    answer = api.get("/api/v1/requests", search="lighthouse", pageSize=50, highlight="true")
    assert ui.total() == answer["totalCount"] == expected
    assert ui.row_ids() == [r["id"] for r in answer["requests"]]
    marks = ui.page.locator("#results mark").all_text_contents()
    assert marks and {m.lower() for m in marks} == {"lighthouse"}
    shown = sum(1 for r in answer["requests"] for f in r["highlights"].values() for frag in f for _ in frag[1::2])
    assert len(marks) == shown
    ui.assert_payloads_literal("#results tbody")
    ui.shot("search-highlighted")
    ui.assert_safe_and_clean()


def test_time_range_narrows_table_and_charts(ui: Ui, api: Api, key: str, known_now: datetime) -> None:
    signed_in(ui, key)
    for value, hours in (("1h", 1), ("24h", 24), ("7d", 24 * 7), ("30d", 24 * 30)):
        ui.act(lambda value=value: ui.page.select_option("#range", value))
        expected = count(known_now, hours=hours)
        assert ui.total() == expected, value
        assert sum(n for n, _ in ui.top_rows().values()) == expected, value
    assert "range=30d" in ui.page.url
    ui.assert_safe_and_clean()


def test_adding_and_removing_a_filter(ui: Ui, api: Api, key: str, known_now: datetime) -> None:
    signed_in(ui, key)
    ui.page.click("#filter-builder .add-rule")
    value = ui.page.locator("#filter-builder .rule .value")
    value.fill("claude-3-5")
    ui.act(lambda: value.press("Tab"))
    rule = {"field": "model", "operator": "=", "value": "claude-3-5"}
    answer = api.get("/api/v1/requests", filter=rule_group(rule), pageSize=10)
    assert ui.total() == answer["totalCount"] == count(known_now, lambda r: r.model == "claude-3-5")
    assert ui.row_ids() == [r["id"] for r in answer["requests"]]
    assert ui.top_rows() == {"claude-3-5": (answer["totalCount"], ui.top_rows()["claude-3-5"][1])}

    # A value the API refuses: its 400 message, next to the row.
    ui.page.select_option("#filter-builder .rule .field", "createdAt")
    value = ui.page.locator("#filter-builder .rule .value")
    value.fill("not-a-date")
    ui.expected_statuses.add(400)
    ui.act(lambda: value.press("Tab"))
    status, message = api.error(
        "/api/v1/requests",
        key=api.key,
        filter=rule_group({"field": "createdAt", "operator": "=", "value": "not-a-date"}),
    )
    assert status == 400
    assert ui.page.inner_text("#filter-builder .rule-box .row-error") == message
    ui.shot("filter-error")

    ui.act(lambda: ui.page.click("#filter-builder .rule .remove"))
    assert ui.total() == 48
    assert ui.page.locator("#filter-builder .rule").count() == 0
    ui.assert_safe_and_clean()


def test_sorting_and_paging(ui: Ui, api: Api, key: str) -> None:
    signed_in(ui, key)
    ui.act(lambda: ui.page.click("#results thead button[data-sort=cost]"))
    answer = api.get("/api/v1/requests", sortBy="cost", sortOrder="desc", pageSize=10)
    assert ui.row_ids() == [r["id"] for r in answer["requests"]]
    costs = ui.page.locator("#results tbody tr td:nth-child(7)").all_text_contents()
    assert costs == [f"${r['cost']}" for r in answer["requests"]]
    ui.act(lambda: ui.page.click("#results thead button[data-sort=cost]"))
    answer = api.get("/api/v1/requests", sortBy="cost", sortOrder="asc", pageSize=10)
    assert ui.row_ids() == [r["id"] for r in answer["requests"]]
    ui.act(lambda: ui.page.select_option("#page-size", "25"))
    ui.act(lambda: ui.page.click("#next"))
    answer = api.get("/api/v1/requests", sortBy="cost", sortOrder="asc", pageSize=25, pageNumber=2)
    assert ui.row_ids() == [r["id"] for r in answer["requests"]]
    assert len(answer["requests"]) == 23
    assert ui.page.inner_text("#page-info") == "Page 2 of 2"
    assert ui.page.is_disabled("#next")
    ui.act(lambda: ui.page.select_option("#sort-by", "prompt_tokens"))
    answer = api.get("/api/v1/requests", sortBy="prompt_tokens", sortOrder="asc", pageSize=25)
    assert ui.row_ids() == [r["id"] for r in answer["requests"]]
    ui.shot("sorted-paged")
    ui.assert_safe_and_clean()


def test_detail_shows_every_field(ui: Ui, api: Api, key: str) -> None:
    ui.page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui.base_url)
    signed_in(ui, key, "?sort=createdAt&order=asc")
    ui.page.click(f"#results tbody tr[data-id='{ODD_ID}']")
    ui.page.wait_for_selector("#detail-body table.fields")
    request = api.get(f"/api/v1/requests/{quote(ODD_ID, safe='')}")
    for name, value in request.items():
        if name in ("request_body", "response_body", "completion", "streamed_response_body", "metadata"):
            continue
        cell = ui.page.locator(f"#detail-body tr[data-field='{name}'] td").first.inner_text()
        if name in ("createdAt", "updatedAt"):
            assert value.startswith(cell.replace(" ", "T")), name
        else:
            assert cell == (
                "null" if value is None else json.dumps(value) if isinstance(value, bool) else str(value)
            ), name
    for name in ("request_body", "response_body"):
        shown = ui.page.locator(f"#detail-body [data-field='{name}'] pre").inner_text()
        assert shown == json.dumps(json.loads(request[name]), indent=2, ensure_ascii=False)
    assert ui.page.locator("#detail-body [data-field=completion] pre").inner_text() == request["completion"]
    metadata = ui.page.locator("#detail-body table.metadata tbody tr").evaluate_all(
        "rows => rows.map(row => [...row.cells].map(cell => cell.textContent))"
    )
    assert metadata == sorted([k, v] for k, v in request["metadata"].items())
    ui.assert_payloads_literal("#detail-body", (TEMPLATE,))
    assert f"id={quote(ODD_ID, safe='')}" in ui.page.url
    ui.page.locator("#detail-body tr[data-field=id] button.copy").click()
    assert ui.page.evaluate("navigator.clipboard.readText()") == ODD_ID
    ui.shot("detail")
    ui.page.click("#detail-close")
    assert not ui.page.is_visible("#detail")
    ui.assert_safe_and_clean()


def test_chart_grouping_and_clicking_a_group_filters(ui: Ui, api: Api, key: str, known_now: datetime) -> None:
    signed_in(ui, key)
    models = {m: count(known_now, lambda r, m=m: r.model == m) for m in ("gpt-4o", "claude-3-5", "o3-mini")}
    assert {group: n for group, (n, _) in ui.top_rows().items()} == models
    ui.act(lambda: ui.page.select_option("#group-by", "app_id"))
    first = api.get("/api/v1/requests", sortBy="createdAt", sortOrder="asc", pageSize=1, fields="createdAt")
    last = api.get("/api/v1/requests", sortBy="createdAt", sortOrder="desc", pageSize=1, fields="createdAt")
    answer = api.get(
        "/api/v1/analytics",
        **{"from": first["requests"][0]["createdAt"], "to": last["requests"][0]["createdAt"]},
        groupBy="app_id",
        metrics="count,cost",
        top=10,
    )
    expected = {s["key"]["app_id"]: (s["totals"]["count"], format_cost(s["totals"]["cost"])) for s in answer["series"]}
    assert ui.top_rows() == expected
    assert {app: n for app, (n, _) in expected.items()} == {a: 16 for a in ("web", "batch", "mobile")}
    legend = ui.page.locator("#legend .legend-item").all_text_contents()
    assert sorted(legend) == sorted(f"{app} {n}" for app, (n, _) in expected.items())
    ui.shot("charts-by-app")

    ui.page.select_option("#group-by", "metadata.<key>")
    ui.page.fill("#group-key", "env")
    ui.act(lambda: ui.page.press("#group-key", "Tab"))
    assert {group: n for group, (n, _) in ui.top_rows().items()} == {"prod": 24, "dev": 24}
    assert "group=metadata.env" in ui.page.url
    ui.act(lambda: ui.page.select_option("#group-by", "app_id"))

    ui.act(lambda: ui.page.click("#legend .legend-item[data-group=batch]"))
    assert ui.total() == 16
    assert ui.page.locator("#filter-builder .rule .field").input_value() == "app_id"
    assert ui.page.locator("#filter-builder .rule .value").input_value() == "batch"
    assert set(ui.page.locator("#results tbody tr td:nth-child(5)").all_text_contents()) == {"batch"}

    ui.act(lambda: ui.page.select_option("#group-by", "model"))
    ui.act(lambda: ui.page.click("#top-table tr[data-group=o3-mini]"))
    both = count(known_now, lambda r: r.app_id == "batch" and r.model == "o3-mini")
    assert ui.total() == both
    assert ui.page.locator("#filter-builder .rule").count() == 2
    ui.assert_safe_and_clean()


def test_a_copied_url_reproduces_the_view_and_history_works(ui: Ui, api: Api, key: str) -> None:
    signed_in(ui, key)
    ui.search("policy")
    ui.act(lambda: ui.page.select_option("#range", "7d"))
    ui.act(lambda: ui.page.select_option("#sort-by", "cost"))
    ui.act(lambda: ui.page.select_option("#sort-order", "asc"))
    ui.act(lambda: ui.page.select_option("#group-by", "app_id"))
    ui.act(lambda: ui.page.click("#next"))
    url = ui.page.url
    ids, total, top = ui.row_ids(), ui.total(), ui.top_rows()
    assert ids and total > 10

    other = Ui(ui.page.context.new_page(), ui.base_url)
    other.page.goto(url)
    other.sign_in(key)  # the key lives in one tab's sessionStorage: a new tab asks again
    assert (other.row_ids(), other.total(), other.top_rows()) == (ids, total, top)
    assert other.page.input_value("#search") == "policy"
    assert other.page.input_value("#range") == "7d"
    assert other.page.input_value("#sort-by") == "cost"
    assert other.page.input_value("#group-by") == "app_id"
    assert other.page.inner_text("#page-info").startswith("Page 2 ")
    other.shot("copied-url")
    other.assert_safe_and_clean()

    ui.act(lambda: ui.page.go_back())
    assert ui.page.inner_text("#page-info").startswith("Page 1 ")
    ui.act(lambda: ui.page.go_back())
    assert ui.page.input_value("#group-by") == "model"
    ui.act(lambda: ui.page.go_forward())
    ui.act(lambda: ui.page.go_forward())
    assert ui.row_ids() == ids
    ui.assert_safe_and_clean()


def test_a_wrong_key_shows_the_401_message(ui: Ui, api: Api) -> None:
    ui.expected_statuses.add(401)
    ui.open()
    ui.page.fill("#key-input", "lrs_not-a-key")
    ui.page.click("#sign-in-form button[type=submit]")
    ui.page.wait_for_function("() => document.getElementById('sign-in-error').textContent !== ''")
    status, message = api.error("/api/v1/me", key="lrs_not-a-key")
    assert (status, message) == (401, INVALID_KEY)
    assert ui.page.inner_text("#sign-in-error") == message
    assert not ui.page.is_visible("#app")
    ui.shot("wrong-key")
    ui.assert_safe_and_clean()


def test_an_engine_outage_shows_the_503_message_and_recovers(ui: Ui, api: Api, key: str, site: LiveService) -> None:
    signed_in(ui, key)
    ui.expected_statuses.add(503)
    site.cut_engine()
    try:
        status, message = api.error("/api/v1/requests", key=api.key)
        assert status == 503
        ui.act(lambda: ui.page.click("#query-bar button[type=submit]"))
        assert ui.page.is_visible("#banner")
        assert ui.page.inner_text("#banner-text") == message
        ui.shot("engine-down")
    finally:
        site.restore_engine()
    ui.act(lambda: ui.page.click("#retry"))
    assert not ui.page.is_visible("#banner")
    assert ui.total() == api.get("/api/v1/requests")["totalCount"] == 48
    ui.assert_safe_and_clean()


def test_clicking_a_bar_filters_by_its_series(ui: Ui, api: Api, key: str, known_now: datetime) -> None:
    signed_in(ui, key)
    over = ui.page.locator("#chart-count .u-over").bounding_box()
    assert over is not None
    bottom = over["y"] + over["height"] - 2  # just above zero: the lowest band, the largest group (gpt-4o)
    x = over["x"] + over["width"] - 6
    while x > over["x"]:
        ui.page.mouse.move(x, bottom)
        readout = ui.page.inner_text("#chart-readout")
        if readout.split("gpt-4o ")[-1].split(",")[0].strip() not in ("", "0"):
            break
        x -= 2
    else:
        raise AssertionError("no bucket with a gpt-4o request under the cursor")
    ui.act(lambda: ui.page.mouse.click(x, bottom))
    assert ui.page.locator("#filter-builder .rule .field").input_value() == "model"
    assert ui.page.locator("#filter-builder .rule .value").input_value() == "gpt-4o"
    expected = count(known_now, lambda r: r.model == "gpt-4o")
    assert (
        ui.total()
        == api.get("/api/v1/requests", filter=rule_group({"field": "model", "operator": "=", "value": "gpt-4o"}))[
            "totalCount"
        ]
        == expected
    )
    ui.assert_safe_and_clean()
