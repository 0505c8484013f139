"""ClickHouse, the engine Helicone and Langfuse keep request logs in, as a benchmark side: in-process through the
`chdb` package (the `bench` extra), loaded with the very documents the loader indexes into OpenSearch.

**Data.** The synthetic records of (docs, seed) go through the loader's own `Preparer` (`bench.ingest.documents`):
the same document JSON OpenSearch gets (costs priced, `duration_ms`, `prompt`, `metadata` and `status_class` derived
exactly as indexed), inserted as JSONEachRow. `metadata_pairs` is left out: a Map column serves what it is for.

**Schema** (`TABLE_DDL`), as a ClickHouse user would lay out a request log:

- `MergeTree ORDER BY (tenant_id, createdAt, id)`, `PRIMARY KEY (tenant_id, createdAt)`: every query names one
  tenant and most a time range, so the sparse primary index cuts both; `id` in the sorting key (not the primary
  index) breaks `createdAt` ties the way the API does, so newest-first pages read in order
  (`optimize_read_in_order`) and stop after the page.
- `LowCardinality(...)` for the few-valued strings (`tenant_id`, `url`, `method`, `model`, `app_id`,
  `status_class`, the metadata keys): dictionary-encoded, and GROUP BY on them works on the dictionary positions.
  `user_id` stays a plain String: end users run to millions in a real log.
- Dimensions that can be missing are `Nullable`, because the API groups a missing value as its own `null` group;
  the text columns are plain Strings (`''` when absent), which is what the text index wants.
- `metadata Map(LowCardinality(String), String)`: user-defined keys without a column per key, read as
  `metadata['feature']` (only the map's keys and values subcolumns are read, not the bodies).
- `duration_ms` a column (computed at indexing, as in OpenSearch), `cost` Float64, `status` UInt16.
- Bodies `CODEC(ZSTD(3))` (OpenSearch stores them with best_compression, DEFLATE); `createdAt`
  `CODEC(Delta, ZSTD(1))`.

**Indexes.**

- `search_idx`: a `text` (inverted) index, GA since ClickHouse 26.2 (chdb 4.4 ships 26.9), over ONE expression:
  the five searched texts concatenated (`SEARCH_TEXT`: prompt, completion and the three bodies, the fields the API's
  `search` reads), so a term is looked up once rather than per column (OR over per-column indexes cannot skip:
  each index only knows its own column). Tokenizer `splitByNonAlpha` (words of ASCII letters and digits; other
  bytes stay in words), preprocessor `lowerUTF8` (search ignores case, as the service's analyzer does) plus a space
  around every kana, Han and Hangul character, so CJK text is indexed as single characters the way the service's
  `cjk_bigram` with unigrams indexes it. A term is `hasAllTokens(SEARCH_TEXT, 'term')` (the needle goes through
  the same preprocessor and tokenizer). ClickHouse allows one text index per column, so there is no second one
  (say an `ngrams(2)` one) for CJK: a CJK word or a quoted phrase is `hasAllTokens` over its characters or words
  (the index) AND `positionCaseInsensitiveUTF8` for adjacency. The text index holds no positions, so that check
  reads the bodies: phrases and CJK words are where ClickHouse is slowest (`hasPhrase`, also in 26.9, measured
  slower still, and `ngrambf_v1` cannot skip: a common CJK bigram is in every granule).
  No ASCII folding: `elan` does not find `Élan` (the service's analyzer folds accents); none of the benchmark's terms
  has an accent.
- `openai_id_idx`: `bloom_filter` on `openai_id`, for the `OR openai_id = <search>` half of every search.
- No projection: a copy sorted by `(tenant_id, user_id, createdAt)` would make Q5 (one end user's latest) a range
  read, but the page needs every column, so it would be a second copy of the bodies.

The table is merged to one part after loading (OPTIMIZE FINAL), so no background merge runs while it is measured.
Data lives under `~/.cache/llm-request-search/bench-clickhouse/<tenant>` (`--clickhouse-path`), and a later run with
the same docs/seed reuses it.

**chdb holds its data directory for one process at a time**: the harness loads and checks in its own process inside
`session()` (which closes it), and the load generator opens it again for the timed cells (a `python` target,
`target()` below). Queries run in worker threads; chdb releases the GIL while ClickHouse works. The ClickHouse side
therefore pays no HTTP hop and no JSON parsing of a request, which OpenSearch (direct) pays: its figures are the
engine's, with the least client cost possible.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bench import ingest
from bench.loadgen import FIRST_IDS, Answer
from bench.stats import Sample
from bench.workload import PAGE_SIZE, Query
from core.fields import RETURNED

Log = Callable[[str], None]
DEFAULT_PATH = Path.home() / ".cache" / "llm-request-search" / "bench-clickhouse"
TABLE = "requests"
META_TABLE = "bench_meta"
INSERT_BATCH = 50_000

# The searched texts, as one expression: the text index is built on exactly this, and a query must name it the same
# way for the index to serve it.
SEARCHED_COLUMNS = ("prompt", "completion", "request_body", "response_body", "streamed_response_body")
SEARCH_TEXT = "concatWithSeparator(' ', " + ", ".join(SEARCHED_COLUMNS) + ")"
# Kana, Han and Hangul: each character becomes a word of its own (the service indexes CJK runs as single characters
# and bigrams; adjacency is checked by position below).
CJK_CLASS = r"\x{3040}-\x{30ff}\x{3400}-\x{4dbf}\x{4e00}-\x{9fff}\x{f900}-\x{faff}\x{ac00}-\x{d7af}"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")


def literal(value: str | float | int | None) -> str:
    """A ClickHouse literal (strings quoted with `\\` and `'` escaped)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


_CJK_PATTERN = literal(f"([{CJK_CLASS}])")
_SPACED = literal(r" \1 ")
PREPROCESSOR = f"replaceRegexpAll(lowerUTF8({SEARCH_TEXT}), {_CJK_PATTERN}, {_SPACED})"

TABLE_DDL = f"""
CREATE TABLE {TABLE} (
    tenant_id LowCardinality(String),
    id String,
    createdAt DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    updatedAt DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    ip Nullable(IPv6),
    url LowCardinality(Nullable(String)),
    method LowCardinality(Nullable(String)),
    status Nullable(UInt16),
    status_class LowCardinality(Nullable(String)),
    cached Bool,
    streamed Bool,
    user_id Nullable(String),
    app_id LowCardinality(Nullable(String)),
    model LowCardinality(Nullable(String)),
    openai_id Nullable(String),
    prompt_tokens Nullable(UInt32),
    completion_tokens Nullable(UInt32),
    cost Nullable(Float64),
    duration_ms Nullable(UInt32),
    size_chars UInt32,
    metadata Map(LowCardinality(String), String),
    prompt String CODEC(ZSTD(3)),
    completion String CODEC(ZSTD(3)),
    request_body String CODEC(ZSTD(3)),
    response_body String CODEC(ZSTD(3)),
    streamed_response_body String CODEC(ZSTD(3)),
    INDEX search_idx {SEARCH_TEXT} TYPE text(tokenizer = splitByNonAlpha, preprocessor = {PREPROCESSOR}),
    INDEX openai_id_idx openai_id TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = MergeTree
ORDER BY (tenant_id, createdAt, id)
PRIMARY KEY (tenant_id, createdAt)
"""
# Document fields the table does not hold, on purpose.
SKIPPED_FIELDS = frozenset({"metadata_pairs"})
NOT_NULL_SORT = frozenset({"id", "createdAt", "updatedAt", "cached", "streamed"})
INSERT_SETTINGS = (
    "input_format_skip_unknown_fields = 1, date_time_input_format = 'best_effort', input_format_null_as_default = 1"
)


# -- the session ----------------------------------------------------------------------------------------------


def open_session(path: Path) -> Any:
    """A chdb session on `path` (chdb is untyped; a session answers `query(sql, format)` and `close()`)."""
    from chdb import session as chdb_session

    path.mkdir(parents=True, exist_ok=True)
    return chdb_session.Session(str(path))  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def session(path: Path) -> Iterator[Any]:
    """The chdb session on `path`, closed afterwards (one process at a time may hold a data directory)."""
    opened = open_session(path)
    try:
        yield opened
    finally:
        opened.close()


def rows(sess: Any, sql: str) -> list[list[Any]]:
    """The rows of `sql` as JSON values (JSONCompact), for checks and small answers."""
    result = sess.query(sql, "JSONCompact")
    text = result.bytes()
    if not text:
        return []
    data: list[list[Any]] = json.loads(text)["data"]
    return data


def scalar(sess: Any, sql: str) -> Any:
    found = rows(sess, sql)
    return found[0][0] if found else None


# -- loading --------------------------------------------------------------------------------------------------


def loaded(sess: Any, docs: int, seed: int, tenant: str) -> bool:
    exists = scalar(
        sess, f"SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = '{META_TABLE}'"
    )
    if not exists:
        return False
    marker = rows(sess, f"SELECT docs, seed, tenant FROM {META_TABLE}")
    if not marker or (int(marker[0][0]), int(marker[0][1]), marker[0][2]) != (docs, seed, tenant):
        return False
    return int(scalar(sess, f"SELECT count() FROM {TABLE}")) == docs


def load(path: Path, docs: int, seed: int, tenant: str, reuse: bool, log: Log = print) -> dict[str, Any]:
    """The table holding the documents of (docs, seed) for `tenant`; reused when it already holds exactly that."""
    with session(path) as sess:
        if reuse and loaded(sess, docs, seed, tenant):
            log(f"ClickHouse: reusing the loaded table ({docs:,} rows, seed {seed})")
            return {"reused": True}
        sess.query(f"DROP TABLE IF EXISTS {TABLE}")
        sess.query(f"DROP TABLE IF EXISTS {META_TABLE}")
        sess.query(TABLE_DDL)
        started = time.perf_counter()
        inserted = 0
        with tempfile.TemporaryDirectory(prefix="llmsearch-chdb-") as scratch:
            batch_path = Path(scratch) / "batch.ndjson"
            batch: list[str] = []
            for _doc_id, source in ingest.documents(docs, seed, tenant):
                batch.append(source)
                if len(batch) >= INSERT_BATCH:
                    inserted += _insert(sess, batch_path, batch)
                    batch = []
            if batch:
                inserted += _insert(sess, batch_path, batch)
        load_seconds = time.perf_counter() - started
        merge_started = time.perf_counter()
        sess.query(f"OPTIMIZE TABLE {TABLE} FINAL")
        merge_seconds = time.perf_counter() - merge_started
        sess.query(f"CREATE TABLE {META_TABLE} (docs UInt64, seed Int64, tenant String) ENGINE = TinyLog")
        sess.query(f"INSERT INTO {META_TABLE} VALUES ({docs}, {seed}, {literal(tenant)})")
    log(f"ClickHouse: inserted {inserted:,} rows in {load_seconds:.1f}s, merged to one part in {merge_seconds:.1f}s")
    return {
        "reused": False,
        "rows": inserted,
        "insert_seconds": round(load_seconds, 2),
        "optimize_seconds": round(merge_seconds, 2),
    }


def _insert(sess: Any, batch_path: Path, batch: list[str]) -> int:
    batch_path.write_text("\n".join(batch) + "\n")
    sess.query(
        f"INSERT INTO {TABLE} SELECT * FROM file({literal(str(batch_path))}, 'JSONEachRow', {literal(_structure(sess))}) "
        f"SETTINGS {INSERT_SETTINGS}"
    )
    return len(batch)


def _structure(sess: Any) -> str:
    """The table's columns as a `file()` structure, so the JSON is read straight into the column types."""
    columns = rows(
        sess, f"SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = '{TABLE}'"
    )
    return ", ".join(f"`{name}` {kind}" for name, kind in columns)


def sizes(path: Path) -> dict[str, Any]:
    """Bytes on disk: the table's active parts (compressed and not) and each skip index."""
    with session(path) as sess:
        parts = rows(
            sess,
            "SELECT count(), sum(rows), sum(bytes_on_disk), sum(data_compressed_bytes), sum(data_uncompressed_bytes) "
            f"FROM system.parts WHERE database = currentDatabase() AND table = '{TABLE}' AND active",
        )[0]
        indexes = rows(
            sess,
            "SELECT name, type_full, data_compressed_bytes FROM system.data_skipping_indices "
            f"WHERE database = currentDatabase() AND table = '{TABLE}' ORDER BY name",
        )
        version = scalar(sess, "SELECT version()")
    return {
        "version": version,
        "parts": int(parts[0]),
        "rows": int(parts[1] or 0),
        "bytes_on_disk": int(parts[2] or 0),
        "compressed_bytes": int(parts[3] or 0),
        "uncompressed_bytes": int(parts[4] or 0),
        "index_bytes": {str(name): {"type": str(kind), "bytes": int(size)} for name, kind, size in indexes},
    }


def describe() -> dict[str, Any]:
    import chdb

    return {"chdb": getattr(chdb, "__version__", None), "engine": "ClickHouse via chdb (in-process)"}


# -- the search mix (Q1-Q7) -----------------------------------------------------------------------------------

_TERM = re.compile(r'"([^"]*)"|(\S+)')


def search_condition(search: str) -> str:
    """The API's `search` (terms, all required, and "quoted phrases") over the searched text, or an exact openai_id.

    A plain word is `hasAllTokens` (the text index; the needle goes through the index's preprocessor and tokenizer).
    A phrase or a CJK word is `hasAllTokens` over its words or characters (the index) AND a case-insensitive
    position of the whole text, for adjacency (what the service's phrase and bigram queries require).
    `|`, `-` and parentheses are not translated (no query of the mix uses them).
    """
    parts: list[str] = []
    for phrase, word in _TERM.findall(search.strip()):
        text = phrase or word
        if not text.strip():
            continue
        condition = f"hasAllTokens({SEARCH_TEXT}, {literal(text)})"
        if phrase or _CJK.search(text):
            condition += f" AND positionCaseInsensitiveUTF8({SEARCH_TEXT}, {literal(text)}) > 0"
        parts.append(f"({condition})")
    text_match = " AND ".join(parts) if parts else "false"
    return f"(({text_match}) OR openai_id = {literal(search.strip())})"


def where_clause(query: Query, tenant: str) -> str:
    conditions = [f"tenant_id = {literal(tenant)}"]
    if query.user_id is not None:
        conditions.append(f"user_id = {literal(query.user_id)}")
    if query.model is not None:
        conditions.append(f"model = {literal(query.model)}")
    if query.statuses:
        conditions.append(f"status IN ({', '.join(str(s) for s in query.statuses)})")
    if query.cost_range is not None:
        conditions.append(f"cost >= {query.cost_range[0]!r} AND cost <= {query.cost_range[1]!r}")
    if query.search is not None:
        conditions.append(search_condition(query.search))
    return " AND ".join(conditions)


# The page returns what the API returns (`ip` as ClickHouse writes an IPv6: IPv4 as `::ffff:a.b.c.d`).
_PAGE_COLUMNS = ", ".join(RETURNED)


def query_sql(query: Query, tenant: str) -> tuple[str, str]:
    """(count SQL, page SQL) for one query of the mix: the exact total, then the page, as the API answers."""
    where = where_clause(query, tenant)
    direction = "DESC" if query.sort_order == "desc" else "ASC"
    nulls = "" if query.sort_by in NOT_NULL_SORT else " NULLS LAST"  # OpenSearch sorts missing values last
    order = f"{query.sort_by} {direction}{nulls}, id {direction}"
    count_sql = f"SELECT count() FROM {TABLE} WHERE {where}"
    page_sql = (
        f"SELECT {_PAGE_COLUMNS} FROM {TABLE} WHERE {where} ORDER BY {order} LIMIT {PAGE_SIZE} OFFSET {query.offset}"
    )
    return count_sql, page_sql


def target_spec(path: Path, statements: list[str], answer: str, count_column: int = 0) -> dict[str, Any]:
    """A load-generator target running `statements` in order on the ClickHouse side (see `target`).

    `answer`: `page` (the first statement a count, the second a page of requests whose ids are shown) or
    `analytics` (one statement of bench/analytics_workload.py; the count is in its totals row, `count_column`)."""
    return {
        "kind": "python",
        "factory": "bench.clickhouse:target",
        "path": str(path),
        "statements": statements,
        "answer": answer,
        "count_column": count_column,
    }


# -- the load generator's target ------------------------------------------------------------------------------

_OPEN: dict[str, Any] = {}


def _shared_session(path: str) -> Any:
    """One session per data directory for the load generator's whole run (closed at exit)."""
    if path not in _OPEN:
        _OPEN[path] = open_session(Path(path))
    return _OPEN[path]


class ChdbTarget:
    """Runs a target's statements on a worker thread: chdb releases the GIL, so workers run in parallel."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.session = _shared_session(spec["path"])
        self.statements: list[str] = spec["statements"]
        self.answer: str = spec["answer"]
        self.count_column: int = spec.get("count_column", 0)

    def _run(self) -> list[bytes]:
        return [self.session.query(sql, "JSONCompact").bytes() for sql in self.statements]

    async def call(self, worker: int, parse: bool) -> tuple[Sample, Answer | None, str | None]:
        start = time.perf_counter()
        try:
            results = await asyncio.to_thread(self._run)
        except Exception as error:  # chdb raises RuntimeError with the server's message
            return Sample(time.perf_counter() - start, ok=False), None, f"{type(error).__name__}: {error}"
        elapsed = time.perf_counter() - start
        answer = parse_answer(self.answer, results, self.count_column) if parse else None
        return Sample(elapsed, ok=True), answer, None

    async def close(self) -> None:
        return None


def parse_answer(kind: str, results: list[bytes], count_column: int = 0) -> Answer:
    if kind == "page":
        count = json.loads(results[0])["data"][0][0]
        page = json.loads(results[1])
        id_column = [c["name"] for c in page["meta"]].index("id")
        return Answer(int(count), [str(r[id_column]) for r in page["data"][:FIRST_IDS]])
    return totals_answer(json.loads(results[0])["data"], count_column)


def totals_answer(rows: Sequence[Sequence[Any]], count_column: int) -> Answer:
    """An analytics statement's answer for the report (bench/analytics_workload.py's rows: `(key_rolled, b_rolled,
    key, start, *metrics)`): the count of its totals row, and the first series' keys."""
    total = next((row[count_column] for row in rows if int(row[0]) and int(row[1])), None)
    keys = sorted(json.dumps(row[2], ensure_ascii=False) for row in rows if not int(row[0]) and int(row[1]))
    return Answer(None if total is None else int(total), keys[:FIRST_IDS])


def target(spec: dict[str, Any], _session: Any) -> ChdbTarget:
    return ChdbTarget(spec)


def default_path(tenant: str) -> Path:
    return Path(os.environ.get("LLMSEARCH_BENCH_CLICKHOUSE", str(DEFAULT_PATH))) / tenant


# -- command line: load, sizes, one query ---------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.clickhouse", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("load", "sizes", "sql"))
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tenant", default="bench")
    parser.add_argument("--path", type=Path)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("sql", nargs="?", help="for `sql`: the statement (answers as PrettyCompact)")
    args = parser.parse_args(argv)
    path = args.path or default_path(args.tenant)
    if args.command == "load":
        print(json.dumps(load(path, args.docs, args.seed, args.tenant, reuse=not args.fresh)))
    elif args.command == "sizes":
        print(json.dumps(sizes(path), indent=1))
    else:
        with session(path) as sess:
            print(sess.query(args.sql, "PrettyCompactMonoBlock"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
