"""Driving the page as a person would, and reading back what it shows; plus the API's own answers to compare."""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

from playwright.sync_api import ConsoleMessage, Page, Request

from tests.browser.data import PAYLOADS

ROOT = Path(__file__).resolve().parent.parent.parent
# Screenshots of every test, for a person to look at; .gitignore keeps them out of the repository.
ARTIFACTS = ROOT / "test-artifacts" / "page"
VIEWPORT = {"width": 1280, "height": 800}


def chromium_path() -> str:
    """Debian's chromium (./dev installs it); LLMSEARCH_CHROMIUM names another."""
    found = os.environ.get("LLMSEARCH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        raise RuntimeError(f"no chromium at {found}: install Debian's 'chromium' package (./dev test does)")
    return found


class Api:
    """The service's API, called as any client would, to check what the page shows."""

    def __init__(self, base_url: str, key: str) -> None:
        self.base_url = base_url
        self.key = key

    def get(self, path: str, **params: Any) -> Any:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        request = urllib.request.Request(
            f"{self.base_url}{path}{'?' + query if query else ''}", headers={"Authorization": f"Bearer {self.key}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def error(self, path: str, key: str | None = None, **params: Any) -> tuple[int, str]:
        """The status and message of an answer that must fail."""
        query = urlencode(params)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        request = urllib.request.Request(f"{self.base_url}{path}{'?' + query if query else ''}", headers=headers)
        try:
            urllib.request.urlopen(request, timeout=30).close()
        except urllib.error.HTTPError as error:
            return error.code, str(json.load(error)["error"])
        raise AssertionError(f"{path} {params} did not fail")


class Ui:
    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.console_errors: list[str] = []
        self.other_origins: list[str] = []
        self.expected_statuses: set[int] = set()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console_errors.append(f"page error: {error}"))
        page.on("request", self._request)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type not in ("error", "warning"):
            return
        text = message.text
        # The browser reports a failed answer on the console itself; a test that provokes one says which.
        for status in self.expected_statuses:
            if f"status of {status}" in text:
                return
        self.console_errors.append(f"{message.type}: {text}")

    def _request(self, request: Request) -> None:
        url = urlparse(request.url)
        if url.scheme == "data":
            return
        if f"{url.scheme}://{url.netloc}" != self.base_url:
            self.other_origins.append(request.url)

    # --- actions ---

    def open(self, query: str = "") -> None:
        self.page.goto(f"{self.base_url}/{query}")

    def ready_mark(self) -> str:
        return str(self.page.evaluate("document.body.dataset.ready || ''"))

    def settle(self, before: str) -> None:
        """Wait until the page has finished the run that an action started."""
        self.page.wait_for_function(
            "before => (document.body.dataset.ready || '') !== before", arg=before, timeout=20_000
        )

    def act(self, action: Any) -> None:
        before = self.ready_mark()
        action()
        self.settle(before)

    def sign_in(self, key: str) -> None:
        self.page.wait_for_selector("#key-input")
        self.page.fill("#key-input", key)
        self.act(lambda: self.page.click("#sign-in-form button[type=submit]"))

    def search(self, text: str) -> None:
        self.page.fill("#search", text)
        self.act(lambda: self.page.press("#search", "Enter"))

    # --- what the page shows ---

    def total(self) -> int:
        return int(self.page.inner_text("#total-count").replace(",", ""))

    def row_ids(self) -> list[str]:
        ids: list[str] = self.page.locator("#results tbody tr[data-id]").evaluate_all(
            "rows => rows.map(row => row.dataset.id)"
        )
        return ids

    def top_rows(self) -> dict[str, tuple[int, str]]:
        """The top-10 table: group -> (requests, cost as shown)."""
        rows: list[list[str]] = self.page.locator("#top-table tbody tr").evaluate_all(
            "rows => rows.map(row => [row.dataset.group, row.querySelector('.count').textContent,"
            " row.querySelector('.cost').textContent])"
        )
        return {group: (int(count.replace(",", "")), cost) for group, count, cost in rows}

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    # --- checks every test ends with ---

    def assert_safe_and_clean(self) -> None:
        assert self.page.evaluate("window.__xss") is None, "a logged value ran as code"
        assert self.page.locator("main img, aside img").count() == 0, "a logged value became an element"
        assert self.console_errors == [], f"console errors: {self.console_errors}"
        assert self.other_origins == [], f"requests to other origins: {self.other_origins}"

    def assert_payloads_literal(self, selector: str, payloads: tuple[str, ...] = PAYLOADS) -> None:
        text = self.page.locator(selector).text_content() or ""
        missing = [p for p in payloads if p not in text]
        assert not missing, f"not shown literally in {selector}: {missing}"


def format_cost(cost: float) -> str:
    """As charts.js formats a total cost: dollars, rounded to a millionth."""
    rounded = round(cost * 1e6) / 1e6
    text = f"{rounded:.6f}".rstrip("0").rstrip(".")
    return f"${text}"
