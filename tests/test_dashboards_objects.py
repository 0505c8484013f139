"""The OpenSearch Dashboards objects (dashboards/llm-requests.ndjson) and the compose service that imports them.

Docker (and so Dashboards) cannot run here. Instead: every line parses as a saved object of the export format,
every reference resolves to an object in the file, the dashboard shows every visualization and the saved search,
and every field an object names exists in `_field_caps` of a real index built from the template (aggregatable where
it is aggregated or sorted on). The visualizations' aggregations are also run, translated to the engine's DSL, on
the synthetic demo data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from opensearchpy import AsyncOpenSearch

from cli.demo import DEMO_SEED
from core.documents import RawRequest, RequestDocument
from core.settings import ServiceSettings
from core.templates import IndexNames
from core.versions import DASHBOARDS_IMAGE
from loaders.synthetic import generate
from tests.dataset import index_documents

ROOT = Path(__file__).resolve().parent.parent
NDJSON = ROOT / "dashboards" / "llm-requests.ndjson"
IMPORT_SERVICE = "dashboards-import"

# Attributes that hold JSON as text, per type (the export format keeps them as strings).
JSON_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "index-pattern": ("fields", "fieldFormatMap"),
    "search": ("kibanaSavedObjectMeta.searchSourceJSON",),
    "visualization": ("visState", "uiStateJSON", "kibanaSavedObjectMeta.searchSourceJSON"),
    "dashboard": ("panelsJSON", "optionsJSON", "kibanaSavedObjectMeta.searchSourceJSON"),
}
PANEL_TYPES = ("visualization", "search")
GRID_COLUMNS = 48  # the dashboard grid's width
# Metric aggregations that need a numeric field (count and cardinality work on any aggregatable field).
NUMERIC_METRICS = frozenset({"sum", "avg", "min", "max", "percentiles", "median", "std_dev"})
NUMERIC_TYPES = frozenset({"integer", "long", "short", "byte", "double", "float", "half_float", "scaled_float"})
VISUALIZATIONS = {
    "llmsearch-requests-over-time-by-model",
    "llmsearch-cost-per-day",
    "llmsearch-tokens-by-model",
    "llmsearch-status-class",
    "llmsearch-top-users-by-cost",
    "llmsearch-p95-duration-by-app",
    "llmsearch-requests-by-env",
}


def default_read_alias() -> str:
    """The read alias the service uses unless LLMSEARCH_INDEX_PREFIX says otherwise (not read from this
    environment, which may set it)."""
    prefix = ServiceSettings.model_fields["index_prefix"].default
    assert isinstance(prefix, str)
    return IndexNames(prefix).read_alias


def read_lines() -> list[dict[str, Any]]:
    lines = [line for line in NDJSON.read_text(encoding="utf-8").splitlines() if line.strip()]
    parsed = []
    for number, line in enumerate(lines, 1):
        value = json.loads(line)
        assert isinstance(value, dict), f"line {number} is not a JSON object"
        parsed.append(value)
    return parsed


def saved_objects() -> list[dict[str, Any]]:
    """The objects, without the export's closing summary line (which the import skips too)."""
    return [line for line in read_lines() if "exportedCount" not in line]


def attribute(obj: dict[str, Any], dotted: str) -> Any:
    value: Any = obj["attributes"]
    for part in dotted.split("."):
        value = value[part]
    return value


def decoded(obj: dict[str, Any], dotted: str) -> Any:
    text = attribute(obj, dotted)
    assert isinstance(text, str), f"{obj['type']}:{obj['id']} {dotted} must be JSON text"
    return json.loads(text)


def by_type(kind: str) -> list[dict[str, Any]]:
    return [obj for obj in saved_objects() if obj["type"] == kind]


def the_one(kind: str) -> dict[str, Any]:
    found = by_type(kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def vis_state(obj: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = decoded(obj, "visState")
    return state


def enabled_aggs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return [agg for agg in vis_state(obj)["aggs"] if agg.get("enabled", True)]


def named_fields(value: Any) -> Iterator[str]:
    """Every `field` value anywhere in a visState's params (agg params, an order agg's params...)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "field" and isinstance(item, str):
                yield item
            else:
                yield from named_fields(item)
    elif isinstance(value, list):
        for item in value:
            yield from named_fields(item)


@dataclass(frozen=True)
class FieldUse:
    where: str
    field: str
    aggregated: bool  # aggregated or sorted on: needs doc values
    numeric: bool = False
    date: bool = False


def field_uses() -> list[FieldUse]:
    uses: list[FieldUse] = []
    pattern = the_one("index-pattern")
    uses.append(FieldUse("index pattern time field", pattern["attributes"]["timeFieldName"], True, date=True))
    uses += [FieldUse("index pattern field format", name, False) for name in decoded(pattern, "fieldFormatMap")]
    search = the_one("search")
    uses += [FieldUse("saved search column", name, False) for name in search["attributes"]["columns"]]
    uses += [FieldUse("saved search sort", name, True) for name, _order in search["attributes"]["sort"]]
    for vis in by_type("visualization"):
        for agg in enabled_aggs(vis):
            where = f"{vis['attributes']['title']} agg {agg['id']} ({agg['type']})"
            for name in named_fields(agg["params"]):
                uses.append(
                    FieldUse(
                        where,
                        name,
                        True,
                        numeric=agg["type"] in NUMERIC_METRICS,
                        date=agg["type"] == "date_histogram",
                    )
                )
    return uses


# --- the file itself --------------------------------------------------------------------------------------------


def test_every_line_is_a_saved_object_and_the_summary_counts_them() -> None:
    lines = read_lines()
    assert "exportedCount" in lines[-1], "an export ends with its summary line"
    assert lines[-1] == {"exportedCount": len(lines) - 1, "missingRefCount": 0, "missingReferences": []}
    objects = saved_objects()
    assert len(objects) == len(lines) - 1
    keys = [(obj["type"], obj["id"]) for obj in objects]
    assert len(set(keys)) == len(keys), "an object appears twice"
    for obj in objects:
        assert set(obj) >= {"id", "type", "attributes", "references", "migrationVersion"}, obj.get("id")
        assert obj["type"] in JSON_ATTRIBUTES, obj["type"]
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", obj["id"]), f"stable, readable ids: {obj['id']}"
        assert obj["attributes"]["title"], obj["id"]
        assert set(obj["migrationVersion"]) == {obj["type"]}
        for dotted in JSON_ATTRIBUTES[obj["type"]]:
            decoded(obj, dotted)
    assert [obj["type"] for obj in objects].count("index-pattern") == 1
    assert {obj["id"] for obj in by_type("visualization")} == VISUALIZATIONS
    assert len(by_type("search")) == len(by_type("dashboard")) == 1


def test_every_reference_resolves_and_every_reference_is_used() -> None:
    objects = saved_objects()
    present = {(obj["type"], obj["id"]) for obj in objects}
    for obj in objects:
        names = [ref["name"] for ref in obj["references"]]
        assert len(set(names)) == len(names), f"{obj['id']}: reference names repeat"
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in present, f"{obj['id']} -> {ref['type']}:{ref['id']} is not in the file"
        used: set[str] = set()
        if obj["type"] in ("search", "visualization", "dashboard"):
            source = decoded(obj, "kibanaSavedObjectMeta.searchSourceJSON")
            assert "index" not in source, f"{obj['id']}: the index goes through indexRefName and references"
            if "indexRefName" in source:
                used.add(source["indexRefName"])
            for filter_row in source.get("filter", []):
                if "indexRefName" in filter_row.get("meta", {}):
                    used.add(filter_row["meta"]["indexRefName"])
        if obj["type"] == "dashboard":
            used |= {panel["panelRefName"] for panel in decoded(obj, "panelsJSON")}
        assert used == set(names), f"{obj['id']}: references used {sorted(used)} != given {sorted(names)}"
        refs = {ref["name"]: ref for ref in obj["references"]}
        for name in used:
            if name.startswith("kibanaSavedObjectMeta."):
                assert refs[name]["type"] == "index-pattern", name
    pattern_id = the_one("index-pattern")["id"]
    for obj in by_type("search") + by_type("visualization"):
        assert {(ref["type"], ref["id"]) for ref in obj["references"]} == {("index-pattern", pattern_id)}


def test_the_dashboard_shows_every_visualization_and_the_saved_search() -> None:
    dashboard = the_one("dashboard")
    panels = decoded(dashboard, "panelsJSON")
    refs = {ref["name"]: ref for ref in dashboard["references"]}
    shown = []
    for panel in panels:
        ref = refs[panel["panelRefName"]]
        assert ref["type"] in PANEL_TYPES, ref
        assert "id" not in panel and "type" not in panel, "panels point at objects through panelRefName only"
        shown.append((ref["type"], ref["id"]))
    assert sorted(shown) == sorted(
        [("visualization", obj["id"]) for obj in by_type("visualization")]
        + [("search", obj["id"]) for obj in by_type("search")]
    )
    indexes = [panel["panelIndex"] for panel in panels]
    assert len(set(indexes)) == len(indexes)
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridData"]
        assert grid["i"] == panel["panelIndex"]
        assert grid["x"] >= 0 and grid["y"] >= 0 and grid["w"] > 0 and grid["h"] > 0
        assert grid["x"] + grid["w"] <= GRID_COLUMNS, panel
        area = {
            (x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & area, f"panel {panel['panelIndex']} overlaps another"
        cells |= area
    assert dashboard["attributes"]["timeRestore"] is True


def test_index_pattern_is_the_default_read_alias_with_created_at_as_time_field() -> None:
    pattern = the_one("index-pattern")
    assert pattern["attributes"]["title"] == default_read_alias() == "llm-requests"
    assert pattern["attributes"]["timeFieldName"] == "createdAt"


def test_the_visualizations_are_the_ones_asked_for() -> None:
    states = {obj["id"]: vis_state(obj) for obj in by_type("visualization")}

    def aggs(vis_id: str) -> list[tuple[str, str | None]]:
        return [(agg["type"], agg["params"].get("field")) for agg in states[vis_id]["aggs"]]

    assert aggs("llmsearch-requests-over-time-by-model") == [
        ("count", None),
        ("date_histogram", "createdAt"),
        ("terms", "model"),
    ]
    assert aggs("llmsearch-cost-per-day") == [("sum", "cost"), ("date_histogram", "createdAt")]
    assert states["llmsearch-cost-per-day"]["aggs"][1]["params"]["interval"] == "d"
    assert aggs("llmsearch-tokens-by-model") == [
        ("sum", "prompt_tokens"),
        ("sum", "completion_tokens"),
        ("terms", "model"),
    ]
    assert aggs("llmsearch-status-class") == [("count", None), ("terms", "status_class")]
    assert aggs("llmsearch-top-users-by-cost")[0] == ("sum", "cost")
    assert aggs("llmsearch-top-users-by-cost")[-1] == ("terms", "user_id")
    assert states["llmsearch-top-users-by-cost"]["aggs"][-1]["params"]["orderBy"] == "1"
    p95 = states["llmsearch-p95-duration-by-app"]["aggs"]
    assert [(agg["type"], agg["params"]["field"]) for agg in p95] == [
        ("percentiles", "duration_ms"),
        ("terms", "app_id"),
    ]
    assert p95[0]["params"]["percents"] == [95]
    assert aggs("llmsearch-requests-by-env") == [("count", None), ("terms", "metadata_pairs")]
    assert states["llmsearch-requests-by-env"]["aggs"][1]["params"]["include"] == "env=.*"
    for obj in by_type("visualization"):
        assert vis_state(obj)["title"] == obj["attributes"]["title"]


# --- the fields, against a real index ---------------------------------------------------------------------------


async def test_every_named_field_exists_and_is_aggregatable_where_aggregated(
    client: AsyncOpenSearch, index_names: IndexNames
) -> None:
    caps = (await client.field_caps(index=index_names.read_alias, fields="*"))["fields"]
    uses = field_uses()
    named = {use.field for use in uses}
    assert named >= {
        "createdAt",
        "model",
        "status",
        "user_id",
        "app_id",
        "cost",
        "prompt_tokens",
        "completion_tokens",
        "duration_ms",
        "status_class",
        "metadata_pairs",
    }
    for use in uses:
        assert use.field in caps, f"{use.where}: field {use.field!r} is not in the index"
        (field_type, cap), *others = caps[use.field].items()
        assert not others, f"{use.field} has several types: {caps[use.field]}"
        assert cap["searchable"], f"{use.where}: {use.field} is not searchable"
        if use.aggregated:
            assert cap["aggregatable"], f"{use.where}: {use.field} ({field_type}) is not aggregatable"
        if use.numeric:
            assert field_type in NUMERIC_TYPES, f"{use.where}: {use.field} is {field_type}, not a number"
        if use.date:
            assert field_type == "date", f"{use.where}: {use.field} is {field_type}, not a date"


# --- the aggregations, run on the demo data ---------------------------------------------------------------------

DEMO_SAMPLE = 400
# date_histogram intervals as the engine takes them; "auto" is what Dashboards scales to the time range (a day here).
INTERVALS = {"auto": {"fixed_interval": "1d"}, "d": {"calendar_interval": "1d"}, "h": {"fixed_interval": "1h"}}


def engine_order(agg: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> dict[str, str]:
    params = agg["params"]
    order_by = params["orderBy"]
    if order_by == "_key":
        return {"_key": params["order"]}
    order_agg = params["orderAgg"] if order_by == "custom" else by_id[order_by]
    if order_agg["type"] == "count":
        return {"_count": params["order"]}
    assert order_by != "custom", "a custom order other than count is not translated here"
    return {order_by: params["order"]}


def engine_aggs(aggs: list[dict[str, Any]]) -> dict[str, Any]:
    """A visualization's aggs as the engine's nested aggregations: buckets in their order, metrics innermost.
    Only the agg types these objects use; a new one fails here, naming itself, until it is added."""
    by_id = {agg["id"]: agg for agg in aggs}
    inner: dict[str, Any] = {}
    for agg in aggs:
        if agg["schema"] != "metric" or agg["type"] == "count":
            continue
        params = agg["params"]
        if agg["type"] == "sum":
            inner[agg["id"]] = {"sum": {"field": params["field"]}}
        elif agg["type"] == "percentiles":
            inner[agg["id"]] = {"percentiles": {"field": params["field"], "percents": params["percents"]}}
        else:
            raise AssertionError(f"metric {agg['type']} is not translated here: add it")
    for agg in reversed([agg for agg in aggs if agg["schema"] != "metric"]):
        params = agg["params"]
        body: dict[str, Any]
        if agg["type"] == "date_histogram":
            body = {
                "date_histogram": {
                    "field": params["field"],
                    "min_doc_count": params["min_doc_count"],
                    **INTERVALS[params["interval"]],
                }
            }
        elif agg["type"] == "terms":
            terms = {"field": params["field"], "size": params["size"], "order": engine_order(agg, by_id)}
            if params.get("include"):
                terms["include"] = params["include"]
            body = {"terms": terms}
        else:
            raise AssertionError(f"bucket agg {agg['type']} is not translated here: add it")
        if inner:
            body["aggs"] = inner
        inner = {agg["id"]: body}
    return inner


@pytest.fixture(scope="module")
async def demo_sample(client: AsyncOpenSearch, index_names: IndexNames) -> IndexNames:
    """The first requests of the demo's synthetic stream, indexed into the module's indices."""
    documents = [
        RequestDocument.from_raw(RawRequest.model_validate(record), "demo")
        for record in generate(DEMO_SAMPLE, seed=DEMO_SEED)
    ]
    await index_documents(client, index_names, documents)
    return index_names


async def test_every_visualization_aggregates_on_the_engine(client: AsyncOpenSearch, demo_sample: IndexNames) -> None:
    for vis in by_type("visualization"):
        title = vis["attributes"]["title"]
        aggs = engine_aggs(enabled_aggs(vis))
        answer = await client.search(index=demo_sample.read_alias, body={"size": 0, "aggs": aggs})
        (outer_id,) = aggs
        buckets = answer["aggregations"][outer_id]["buckets"]
        assert buckets, f"{title}: no buckets on the demo data"


async def test_requests_by_metadata_key_counts_only_that_key(client: AsyncOpenSearch, demo_sample: IndexNames) -> None:
    vis = next(obj for obj in by_type("visualization") if obj["id"] == "llmsearch-requests-by-env")
    aggs = engine_aggs(enabled_aggs(vis))
    answer = await client.search(index=demo_sample.read_alias, body={"size": 0, "aggs": aggs})
    (outer_id,) = aggs
    keys = {bucket["key"]: bucket["doc_count"] for bucket in answer["aggregations"][outer_id]["buckets"]}
    assert {"env=prod", "env=staging"} <= set(keys), keys
    assert all(key.startswith("env=") for key in keys), keys
    with_env = await client.count(index=demo_sample.read_alias, body={"query": {"prefix": {"metadata_pairs": "env="}}})
    assert sum(keys.values()) == with_env["count"], "each request has one env, so the buckets add up"


# --- compose imports exactly this file --------------------------------------------------------------------------


def test_compose_imports_exactly_this_file_once_dashboards_is_available() -> None:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    spec = services[IMPORT_SERVICE]
    assert spec["image"] == DASHBOARDS_IMAGE == services["dashboards"]["image"]
    assert spec["restart"] == "no", "a one-shot"
    assert "dashboards" in spec["depends_on"]
    mounts = {}
    for volume in spec["volumes"]:
        host, target, *mode = volume.split(":")
        mounts[target] = (ROOT / host).resolve()
        assert mode == ["ro"], volume
    (script,) = spec["command"]
    uploads = re.findall(r"--form file=@([^\s)]+)", script)
    assert len(uploads) == 1, uploads
    (upload,) = uploads
    assert mounts[upload] == NDJSON.resolve(), f"the import posts {upload}, mounted from {mounts.get(upload)}"
    assert PurePosixPath(upload).suffix == ".ndjson", "the import API takes only a .ndjson file name"
    dashboards_url = "http://dashboards:5601"
    status_at = script.index(f"{dashboards_url}/api/status")
    import_at = script.index(f"'{dashboards_url}/api/saved_objects/_import?overwrite=true'")
    assert status_at < import_at, "waits for the status API first"
    assert '"state":"green"' in script and '"level":"available"' in script
    assert "-H 'osd-xsrf: true'" in script
    assert "-X POST" in script
    assert '"success":true' in script, "a failed import fails the container"
    single_dollars = re.findall(r"(?<!\$)\$(?!\$)", script)
    assert not single_dollars, "compose interpolates $NAME: the script's own variables are written $$NAME"
