"""The app under test, served the way `llmsearch serve` serves it (service.server.ApiRunner)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer

from service.server import ApiRunner


class ApiTestServer(TestServer):
    async def _make_runner(self, **kwargs: Any) -> ApiRunner:
        return ApiRunner(self.app, **kwargs)
