"""The README's Python examples are code that runs: each compiles, and the ingest example logs a call through the
real service and node (it is executed, not just read)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from client import AsyncClient
from core.settings import ServiceSettings
from core.templates import IndexNames
from service.keys import KeyStore, Scope
from tests.live_server import live_service

README = Path(__file__).resolve().parent.parent / "README.md"
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def python_blocks() -> list[str]:
    return PYTHON_BLOCK.findall(README.read_text())


def test_every_python_example_compiles() -> None:
    blocks = python_blocks()
    assert blocks, "the README has Python examples"
    for number, block in enumerate(blocks):
        compile(block, f"README.md python block {number}", "exec")


async def test_the_ingest_example_logs_a_call(opensearch_url: str, index_names: IndexNames, keys: KeyStore) -> None:
    (example,) = [block for block in python_blocks() if "async def log_call" in block]
    namespace: dict[str, Any] = {}
    exec(compile(example, "README.md", "exec"), namespace)
    key, _ = await keys.create("readme", "example", frozenset({Scope.READ, Scope.WRITE}))
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "What is the discount code?"}]}
    answer = {
        "id": "chatcmpl-1",
        "choices": [{"message": {"role": "assistant", "content": "It is SAVE20."}}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 4},
    }
    settings = ServiceSettings(index_prefix=index_names.prefix, key_cache_seconds=0)
    with live_service(opensearch_url, settings) as url:
        async with AsyncClient(url, key) as service:
            await namespace["log_call"](service, body, answer, 1_790_000_000.0, "u-7")
            await service.search(pageSize=1)  # the key works for reading too
            client_refresh = await service.ingest([], refresh=True)
            assert client_refresh.accepted == 0
        await asyncio.sleep(1.2)  # searchable within the refresh interval
        async with AsyncClient(url, key) as service:
            page = await service.search(search="discount code", fields="completion,user_id,metadata")
    assert page["totalCount"] == 1
    (found,) = page["requests"]
    assert (found["completion"], found["user_id"], found["metadata"]["feature"]) == (
        "It is SAVE20.",
        "u-7",
        "support-bot",
    )
