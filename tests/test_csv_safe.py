"""The export's spreadsheet escape (service.csv_safe) and the CSV loader's reading of it
(loaders.sources.csv_source) are exact inverses, and together keep every formula start out of a cell's first
character."""

from __future__ import annotations

import pytest

from loaders.sources.base import Position
from loaders.sources.csv_source import row_record, without_safety_quote
from service.csv_safe import FORMULA_STARTS, PREFIXED_STARTS, spreadsheet_safe

STARTS = [*sorted(PREFIXED_STARTS), "a", "1", " ", "{", "東", "🙂", '"', ","]
VALUES = ["", *STARTS, *(start + rest for start in STARTS for rest in ("x", "=1", "'", "''", "-1", "\n=2"))]


@pytest.mark.parametrize("value", VALUES)
def test_a_value_escaped_then_read_back_is_itself(value: str) -> None:
    assert without_safety_quote(spreadsheet_safe(value)) == value


@pytest.mark.parametrize("value", VALUES)
def test_no_escaped_cell_starts_a_formula(value: str) -> None:
    assert spreadsheet_safe(value)[:1] not in FORMULA_STARTS


def test_what_is_escaped() -> None:
    assert [spreadsheet_safe(v) for v in ("=1+1", "-2", "+3", "@A1", "\tx", "\rx", "'x", "'")] == [
        "'=1+1",
        "'-2",
        "'+3",
        "'@A1",
        "'\tx",
        "'\rx",
        "''x",
        "''",
    ]
    assert [spreadsheet_safe(v) for v in ("", "plain", " =1", "a=1", "{}", "2026-01-01")] == [
        "",
        "plain",
        " =1",
        "a=1",
        "{}",
        "2026-01-01",
    ]


def test_the_loader_drops_the_quote_only_before_what_the_export_escapes() -> None:
    names = ["id", "createdAt", "completion", "metadata", "user_id"]
    row = ["'=id", "2026-01-01T00:00:00Z", "'don't", '{"k": "\'=v"}', "''"]
    record = row_record(Position("row", 1), names, row)
    assert record.data == {
        "id": "=id",
        "createdAt": "2026-01-01T00:00:00Z",
        "completion": "'don't",  # a quote before a letter is the data's own
        "metadata": {"k": "'=v"},  # only a cell's first character is the escape's: JSON inside is as written
        "user_id": "'",
    }
