"""Bad input never stops a load: each bad record becomes a dead letter with its position and reason, the others
are indexed, and the exit code tells a clean load from one with rejections or a fatal error."""

from __future__ import annotations

import json
from pathlib import Path

from opensearchpy import AsyncOpenSearch

from cli.load import EXIT_OK, EXIT_REJECTED, EXIT_USAGE
from cli.signals import EXIT_FATAL
from core.documents import document_id
from core.fields import MAX_KEYWORD_CHARS
from core.templates import IndexNames, delete_all
from loaders.sources.csv_source import CsvSource
from loaders.sources.ndjson import NdjsonSource
from tests.test_load_support import dead_letters, documents, fresh_index, options, request, run_cli, run_load

MAX_DOCUMENT = 64 * 1024


def bad_file(path: Path) -> tuple[Path, dict[int, tuple[str, str]]]:
    """An NDJSON file mixing good and bad lines; returns it with {line: (stage, words in the reason)}."""
    lines: list[bytes] = [
        json.dumps(request(1)).encode(),  # 1 good
        b'{"id": "broken", "createdAt": ',  # 2
        json.dumps(request(3, status="abc")).encode(),  # 3 wrong type
        json.dumps(request(4, colour="red")).encode(),  # 4 unknown field
        json.dumps(request(5, ip="999.1.2.3")).encode(),  # 5 bad IP
        json.dumps(request(6, prompt_tokens=3_000_000_000)).encode(),  # 6 the engine's integer field refuses it
        json.dumps(request(7, model="m" * 40_000)).encode(),  # 7 a keyword longer than one index term: refused on read
        json.dumps(request(8, request_body={"prompt": "x" * (2 * MAX_DOCUMENT)})).encode(),  # 8 too big
        b"[1, 2, 3]",  # 9 not an object
        b"",  # 10 blank: not a record
        b'{"id": "latin1", "completion": "caf\xe9"}',  # 11 not UTF-8
        json.dumps({"id": "no-date"}).encode(),  # 12 missing createdAt
        json.dumps(request(13)).encode(),  # 13 good
        json.dumps(request(14, ip="2001:db8::1")).encode(),  # 14 good, IPv6
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    expected = {
        2: ("read", "malformed JSON"),
        3: ("validate", "status"),
        4: ("validate", "colour: unknown field"),
        5: ("validate", "not an IP address"),
        6: ("engine", "prompt_tokens"),
        7: ("validate", "model"),
        8: ("size", "over the limit"),
        9: ("read", "JSON object"),
        11: ("read", "UTF-8"),
        12: ("validate", "createdAt"),
    }
    return path, expected


async def test_bad_records_become_dead_letters_and_the_rest_is_indexed(client: AsyncOpenSearch, tmp_path: Path) -> None:
    path, expected = bad_file(tmp_path / "mixed.ndjson")
    dead = tmp_path / "dead.ndjson"
    opts = options(tmp_path, dead_letter_path=dead, max_document_bytes=MAX_DOCUMENT)
    async with fresh_index(client) as names:
        result = await run_load(NdjsonSource(path, MAX_DOCUMENT * 4), client, names, "acme", opts)
        assert (result.counts.created, result.counts.rejected) == (3, len(expected))
        assert not result.clean
        found = await documents(client, names)
        assert set(found) == {document_id("acme", f"req-{n:06d}") for n in (1, 13, 14)}

    letters = dead_letters(dead)
    assert [letter["position"]["value"] for letter in letters] == sorted(expected)
    for letter in letters:
        stage, words = expected[letter["position"]["value"]]
        assert letter["position"]["kind"] == "line"
        assert letter["stage"] == stage, letter
        assert words in letter["reason"], letter
        assert letter["source"].startswith("ndjson:")
    by_line = {letter["position"]["value"]: letter for letter in letters}
    assert by_line[3]["id"] == "req-000003" and by_line[3]["record"]["status"] == "abc"
    assert by_line[2]["record"] == '{"id": "broken", "createdAt": '
    assert f"at most {MAX_KEYWORD_CHARS} characters" in by_line[7]["reason"]  # refused before the engine saw it
    assert by_line[8]["record_truncated"] is True


async def test_csv_bad_rows_are_rejected_with_row_numbers(client: AsyncOpenSearch, tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(
        "id,createdAt,status,cached,request_body\n"
        'a,2025-01-01T00:00:00Z,200,true,"{""prompt"": ""hi""}"\n'
        "b,2025-01-01T00:00:00Z,200\n"  # too few fields
        "c,2025-01-01T00:00:00Z,200,perhaps,\n"  # not a boolean
        "d,yesterday,200,false,\n"  # not a date
        'e,2025-01-01T00:00:00Z,201,false,"multi\nline body"\n',
        encoding="utf-8",
    )
    dead = tmp_path / "dead.ndjson"
    async with fresh_index(client) as names:
        result = await run_load(
            CsvSource(path, 1 << 20), client, names, "acme", options(tmp_path, dead_letter_path=dead)
        )
        assert (result.counts.created, result.counts.rejected) == (2, 3)
    letters = dead_letters(dead)
    assert [(letter["position"]["kind"], letter["position"]["value"]) for letter in letters] == [
        ("row", 2),
        ("row", 3),
        ("row", 4),
    ]
    assert "3 fields" in letters[0]["reason"]
    assert "cached" in letters[1]["reason"]
    assert "createdAt" in letters[2]["reason"]


def test_exit_codes_and_summary(opensearch_url: str, tmp_path: Path) -> None:
    prefix = f"test-load-cli-{tmp_path.name[-12:].lower().replace('_', '-')}"
    common = ["--index-prefix", prefix, "--state-dir", str(tmp_path / "state"), "--progress", "none"]
    try:
        clean = tmp_path / "clean.ndjson"
        clean.write_text(json.dumps(request(1)) + "\n" + json.dumps(request(2)) + "\n")
        done = run_cli(opensearch_url, str(clean), "--tenant", "acme", *common)
        assert done.returncode == EXIT_OK, done.stderr
        assert "created 2" in done.stdout

        mixed, expected = bad_file(tmp_path / "mixed.ndjson")
        done = run_cli(
            opensearch_url, str(mixed), "--tenant", "acme", "--max-document-bytes", "64kb", "--json", *common
        )
        assert done.returncode == EXIT_REJECTED, done.stderr
        summary = json.loads(done.stdout)
        assert summary["counts"]["rejected"] == len(expected)
        assert len(dead_letters(Path(summary["dead_letter_path"]))) == len(expected)

        header = tmp_path / "header.csv"
        header.write_text("id,createdAt,colour\nx,2025-01-01T00:00:00Z,red\n")
        done = run_cli(opensearch_url, str(header), "--tenant", "acme", *common)
        assert done.returncode == EXIT_FATAL
        assert "unknown column(s) 'colour'" in done.stderr and "Traceback" not in done.stderr

        done = run_cli(opensearch_url, str(tmp_path / "missing.ndjson"), "--tenant", "acme", *common)
        assert done.returncode == EXIT_FATAL and "no such file" in done.stderr

        done = run_cli(opensearch_url, str(clean), *common)
        assert done.returncode == EXIT_USAGE and "--tenant is required" in done.stderr
    finally:
        import asyncio

        from core.engine import make_client
        from core.settings import OpenSearchSettings

        async def cleanup() -> None:
            os_client = make_client(opensearch_url, OpenSearchSettings(url=opensearch_url))
            await delete_all(os_client, IndexNames(prefix))
            await os_client.close()

        asyncio.run(cleanup())
