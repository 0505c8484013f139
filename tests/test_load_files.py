"""NDJSON (plain and gzip) and CSV loads into a real OpenSearch: counts, document fields, idempotent reruns."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import AsyncOpenSearch

from core.documents import document_id
from core.pricing import PricingTable
from loaders.sources.csv_source import CsvSource
from loaders.sources.ndjson import NdjsonSource
from tests.test_load_support import count, documents, fresh_index, options, request, run_load, write_ndjson

MAX = 32 * 1024 * 1024
RECORDS = 40


@pytest.mark.parametrize("name", ["requests.ndjson", "requests.jsonl.gz"])
async def test_ndjson_loads_every_record_and_a_rerun_updates(
    client: AsyncOpenSearch, tmp_path: Path, name: str
) -> None:
    records = [request(n) for n in range(RECORDS)]
    records[3]["cost"] = 0.5  # a cost the logger set wins over the pricing table
    path = write_ndjson(tmp_path / name, records)
    async with fresh_index(client) as names:
        result = await run_load(NdjsonSource(path, MAX), client, names, "acme", options(tmp_path))
        assert (result.counts.created, result.counts.updated, result.counts.rejected) == (RECORDS, 0, 0)
        assert result.complete and result.clean
        assert result.docs_per_s > 0 and result.bytes_per_s > 0

        found = await documents(client, names)
        assert set(found) == {document_id("acme", f"req-{n:06d}") for n in range(RECORDS)}
        doc = found[document_id("acme", "req-000007")]
        assert doc["tenant_id"] == "acme"
        assert doc["prompt"] == "question number 7 about lighthouses"
        assert doc["metadata"] == {"team": "search", "run": "7"}
        assert doc["method"] == "POST"
        assert doc["cost"] == PricingTable.default().price("gpt-4o", 1007, 500)
        assert json.loads(doc["request_body"])["messages"][0]["content"] == "question number 7 about lighthouses"
        assert found[document_id("acme", "req-000003")]["cost"] == 0.5

        again = await run_load(NdjsonSource(path, MAX), client, names, "acme", options(tmp_path))
        assert (again.counts.created, again.counts.updated, again.counts.rejected) == (0, RECORDS, 0)
        assert await count(client, names) == RECORDS


async def test_csv_with_json_cells_loads_and_reruns(client: AsyncOpenSearch, tmp_path: Path) -> None:
    columns = [
        "id",
        "createdAt",
        "ip",
        "method",
        "status",
        "cached",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "request_headers",
        "request_body",
        "completion",
        "metadata",
    ]
    path = tmp_path / "requests.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for n in range(10):
            body = {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": f"row {n}, with a comma\nand a newline"}],
            }
            writer.writerow(
                [
                    f"csv-{n}",
                    "2025-06-01T12:00:00Z",
                    "" if n == 0 else "192.168.1.9",
                    "GET",
                    "200",
                    "true" if n % 2 else "false",
                    "gpt-4o-mini",
                    "100",
                    "",
                    json.dumps({"x-metadata-source": "csv"}),
                    json.dumps(body),
                    "done",
                    json.dumps({"batch": n}),
                ]
            )
    async with fresh_index(client) as names:
        result = await run_load(CsvSource(path, MAX), client, names, "acme", options(tmp_path))
        assert (result.counts.created, result.counts.rejected) == (10, 0)
        found = await documents(client, names)
        doc = found[document_id("acme", "csv-3")]
        assert doc["prompt"] == "row 3, with a comma\nand a newline"
        assert doc["metadata"] == {"source": "csv", "batch": "3"}
        assert doc["cached"] is True and doc["status"] == 200 and doc["completion_tokens"] is None
        assert doc["cost"] == PricingTable.default().price("gpt-4o-mini", 100, None)
        assert found[document_id("acme", "csv-0")]["ip"] is None

        again = await run_load(CsvSource(path, MAX), client, names, "acme", options(tmp_path))
        assert (again.counts.created, again.counts.updated) == (0, 10)
        assert await count(client, names) == 10


async def test_unknown_model_is_indexed_without_cost_and_counted(client: AsyncOpenSearch, tmp_path: Path) -> None:
    records: list[dict[str, Any]] = [
        request(1, model="totally-new-model-9000"),
        request(2, model="totally-new-model-9000"),
        request(3),
        request(4, model=None),  # no model: no cost, but nothing unknown to warn about
    ]
    path = write_ndjson(tmp_path / "costs.ndjson", records)
    async with fresh_index(client) as names:
        result = await run_load(NdjsonSource(path, MAX), client, names, "acme", options(tmp_path))
        assert result.counts.created == 4 and result.clean
        assert result.counts.cost_unknown == 2
        assert result.counts.unknown_models == {"totally-new-model-9000": 2}
        found = await documents(client, names)
        assert found[document_id("acme", "req-000001")]["cost"] is None
        assert found[document_id("acme", "req-000003")]["cost"] is not None
        assert found[document_id("acme", "req-000004")]["cost"] is None


@pytest.mark.parametrize("name", ["resume.ndjson", "resume.ndjson.gz", "resume.csv", "resume.csv.gz"])
def test_a_resume_position_continues_with_the_next_record(tmp_path: Path, name: str) -> None:
    """Positions carry the byte offset past the record: plain files seek to it, gzip decompresses up to it."""
    if ".csv" in name:
        text = "id,createdAt,completion\n" + "".join(
            f'r{n},2025-01-01T00:00:00Z,"line one\nline two {n}"\n' for n in range(50)
        )
    else:
        text = "".join(json.dumps(request(n)) + "\n" + ("\n" if n == 20 else "") for n in range(50))
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    source = CsvSource(path, MAX) if ".csv" in name else NdjsonSource(path, MAX)
    everything = list(source.records(None))
    assert len(everything) == 50
    for cut in (0, 19, 20, 21, 48):
        rest = list(source.records(everything[cut].position))
        assert [record.data for record in rest] == [record.data for record in everything[cut + 1 :]]
        assert [record.position for record in rest] == [record.position for record in everything[cut + 1 :]]
    assert list(source.records(everything[-1].position)) == []
