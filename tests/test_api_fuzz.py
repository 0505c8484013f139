"""Schemathesis against the live service and a real engine: no 5xx, and every response fits the OpenAPI schema.

1,000 generated requests by default (valid and invalid parameter values alike); set LLMSEARCH_FUZZ_EXAMPLES for a
longer run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opensearchpy import AsyncOpenSearch
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks

from core.settings import ServiceSettings
from core.templates import IndexNames
from service.keys import KeyStore
from service.openapi import openapi_spec
from tests.dataset import TENANT_A, TENANT_B, index_documents, tenant_documents
from tests.live_server import live_service

EXAMPLES = int(os.environ.get("LLMSEARCH_FUZZ_EXAMPLES", "1000"))
CHECKS = [
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
async def fuzz_key(client: AsyncOpenSearch, index_names: IndexNames) -> str:
    await index_documents(client, index_names, [*tenant_documents(TENANT_A, 30), *tenant_documents(TENANT_B)])
    key, _ = await KeyStore(client, index_names, 0).create(TENANT_A)
    return key


@pytest.fixture(scope="module")
def fuzz_target(opensearch_url: str, index_names: IndexNames, fuzz_key: str) -> Iterator[tuple[str, str]]:
    settings_ = ServiceSettings(index_prefix=index_names.prefix, key_cache_seconds=60)
    with live_service(opensearch_url, settings_) as base_url:
        yield base_url, fuzz_key


# The list is the contract and gets every example; the single-request and export paths a share each. Generated
# ids almost never exist, so the single request's answers are mostly (correct) 404s.
OPERATIONS = [("/api/v1/requests", 1.0, 10), ("/api/v1/requests/{id}", 0.2, 0), ("/api/v1/export", 0.2, 10)]


@pytest.mark.parametrize(("path", "share", "ok_percent"), OPERATIONS, ids=[path for path, _, _ in OPERATIONS])
def test_generated_requests_never_break_the_service(
    fuzz_target: tuple[str, str], path: str, share: float, ok_percent: int
) -> None:
    base_url, key = fuzz_target
    schema = schemathesis.openapi.from_dict(openapi_spec())
    operation = schema[path]["GET"]
    examples = max(50, int(EXAMPLES * share))
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))
    session = requests.Session()
    sent: list[int] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, with_key=st.sampled_from([True, True, True, False]))
    def run(case: schemathesis.Case, with_key: bool) -> None:
        headers = {"Authorization": f"Bearer {key}"} if with_key else {}
        response = case.call(base_url=base_url, session=session, headers=headers)
        sent.append(response.status_code)
        assert response.status_code < 500, (response.status_code, response.text, case.query)
        case.validate_response(response, checks=CHECKS)

    run()
    assert len(sent) >= examples
    assert sent.count(200) >= examples * ok_percent // 100, "too few requests got through to exercise the search"
    assert sent.count(400) + sent.count(404) > 0
