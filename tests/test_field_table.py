"""The field table (`core.fields.TABLE`) against every place that must agree with it.

Derived models are checked so a refactoring cannot quietly stop deriving them; literal files (the JSON index
template, the benchmark's PostgreSQL schema) are checked so a field added in one place and forgotten in another
fails here with a message naming the file to fix.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from bench import pgschema
from core.documents import INPUT_ONLY_FIELDS, RawRequest, RequestDocument
from core.fields import (
    FIELDS,
    MAX_KEYWORD_CHARS,
    MAX_METADATA_VALUE_CHARS,
    RETURNED,
    SEARCHED_TEXT_FIELDS,
    SORTABLE,
    TABLE,
    TENANT_FIELD,
    Kind,
    Origin,
    template_properties,
)
from core.templates import load_template
from service.filters.targets import filterable_names
from service.openapi import openapi_spec
from service.params import parse_query
from service.query import build_search_body
from service.responses import RequestOut

TEMPLATE = "index_templates/requests.json"


def test_the_index_template_maps_every_field_as_the_table_says() -> None:
    properties = load_template("requests")["template"]["mappings"]["properties"]
    wanted = template_properties()
    missing = sorted(set(wanted) - set(properties))
    extra = sorted(set(properties) - set(wanted))
    differ = sorted(name for name in set(wanted) & set(properties) if properties[name] != wanted[name])
    assert not missing, f"{TEMPLATE} lacks mappings for {missing} (from core/fields.py TABLE); add them there"
    assert not extra, f"{TEMPLATE} maps {extra}, which core/fields.py TABLE does not have: add rows or remove them"
    assert not differ, "\n".join(
        f"{TEMPLATE}: {name} is mapped {properties[name]}, core/fields.py says {wanted[name]}" for name in differ
    )


def test_the_document_model_holds_the_tenant_and_every_field() -> None:
    assert list(RequestDocument.model_fields) == [TENANT_FIELD, *FIELDS], "core/documents.py RequestDocument"


def test_the_input_model_takes_every_field_that_is_not_derived() -> None:
    accepted = {row.name for row in TABLE if row.origin is not Origin.DERIVED}
    fields = set(RawRequest.model_fields)
    assert accepted <= fields, f"core/documents.py RawRequest lacks {sorted(accepted - fields)} (in TABLE)"
    unexplained = fields - accepted - set(INPUT_ONLY_FIELDS)
    assert not unexplained, f"core/documents.py RawRequest has {sorted(unexplained)}: add rows or INPUT_ONLY_FIELDS"
    derived = {row.name for row in TABLE if row.origin is Origin.DERIVED}
    assert not derived & fields, f"RawRequest accepts derived fields {sorted(derived & fields)}"


def test_every_keyword_the_input_takes_is_length_capped_below_lucenes_term_limit() -> None:
    """Keyword values are indexed whole; without `ignore_above` a value over Lucene's 32,766-byte term would be
    refused by the engine, and with it the value would vanish from filters. So input refuses it first."""
    assert MAX_KEYWORD_CHARS * 4 <= 32_766  # four UTF-8 bytes a character at most
    for row in TABLE:
        if row.kind is not Kind.KEYWORD or row.origin is Origin.DERIVED:
            continue
        assert "ignore_above" not in row.mapping, f"{row.name}: ignore_above hides long values from filters"
        longest = "\U0001f600" * MAX_KEYWORD_CHARS  # the most bytes a value may have
        if row.name != "id":
            RawRequest.model_validate({"id": "k", "createdAt": CREATED, row.name: longest})
        with pytest.raises(ValidationError, match=row.name):
            RawRequest.model_validate({"id": "k", "createdAt": CREATED, row.name: longest + "x"})


def test_metadata_values_are_length_capped_whether_explicit_or_from_headers() -> None:
    ok = "v" * MAX_METADATA_VALUE_CHARS
    RawRequest.model_validate({"id": "k", "createdAt": CREATED, "metadata": {"a": ok}})
    for record in (
        {"metadata": {"a": ok + "v"}},
        {"request_headers": {"X-Metadata-A": ok + "v"}},
        {"request_headers": '{"x-metadata-a": "' + ok + 'v"}'},
    ):
        with pytest.raises(ValidationError, match="metadata value"):
            RawRequest.model_validate({"id": "k", "createdAt": CREATED, **record})
    # Other headers are not metadata, so not capped.
    RawRequest.model_validate({"id": "k", "createdAt": CREATED, "request_headers": {"cookie": ok + "v"}})


def test_the_response_returns_exactly_the_returned_fields() -> None:
    assert list(RequestOut.model_fields) == list(RETURNED)
    source = build_search_body(parse_query({}, []), "acme")["_source"]  # what a page asks the engine for
    assert list(RETURNED) == source
    assert "prompt" not in RETURNED and TENANT_FIELD not in source


def test_openapi_enums_and_descriptions_come_from_the_table() -> None:
    spec = openapi_spec()
    sort_by = next(p for p in spec["paths"]["/api/v1/requests"]["get"]["parameters"] if p["name"] == "sortBy")
    assert sort_by["schema"]["enum"] == list(SORTABLE)
    properties = spec["components"]["schemas"]["RequestOut"]["properties"]
    for name in RETURNED:
        assert properties[name]["description"] == FIELDS[name].description


def test_filter_targets_and_search_come_from_the_table() -> None:
    names = filterable_names()
    assert [n for n in names if "<key>" not in n] == [row.name for row in TABLE if row.filterable]
    assert [row.name for row in TABLE if row.searched] == list(SEARCHED_TEXT_FIELDS)


def test_the_postgres_schema_has_a_column_for_every_original_field() -> None:
    """bench/pgschema.py is the original system's table, written as SQL."""
    columns = set(re.findall(r'^ {4}"?(\w+)"? ', pgschema.TABLE_DDL, flags=re.MULTILINE))
    original = {row.name for row in TABLE if row.origin is Origin.ORIGINAL}
    assert original <= columns, f"bench/pgschema.py TABLE_DDL lacks columns {sorted(original - columns)}"
    assert original <= set(pgschema.COPY_COLUMNS), (
        f"bench/pgschema.py COPY_COLUMNS lacks {sorted(original - set(pgschema.COPY_COLUMNS))}"
    )
    unexplained = columns - original - set(INPUT_ONLY_FIELDS)
    assert not unexplained, f"bench/pgschema.py has columns {sorted(unexplained)} that no table row or input has"


CREATED = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("updated", "duration"),
    [
        (None, None),  # no updatedAt in the record: no duration (updatedAt itself defaults to createdAt)
        (CREATED, 0),
        (CREATED + timedelta(seconds=1, microseconds=500_900), 1500),  # whole milliseconds, rounded down
        (CREATED + timedelta(hours=3), 10_800_000),
        (CREATED - timedelta(seconds=1), None),  # updated before created: not a duration
        (CREATED + timedelta(days=30), None),  # past the integer mapping: not a plausible request duration
    ],
)
def test_duration_is_computed_at_indexing(updated: datetime | None, duration: int | None) -> None:
    raw = RawRequest(id="d", createdAt=CREATED, updatedAt=updated)
    document = RequestDocument.from_raw(raw, "acme")
    assert document.duration_ms == duration
    assert document.updatedAt == (updated or CREATED)
