// The page: sign-in, search, time range, filters, results, detail and charts, all kept in the URL.

import { ApiError, forgetKey, get, getKey, setKey } from "./api.js";
import { Charts, formatCount } from "./charts.js";
import { copyJsonButton, renderDetail } from "./detail.js";
import { $, fill, h, options } from "./dom.js";
import { FilterBuilder } from "./filters.js";
import { readState, writeState } from "./state.js";
import { renderHead, renderRows, TABLE_FIELDS, time } from "./table.js";

const RANGE_MS = { "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3 };
const METADATA_GROUP = "metadata.<key>";

let schema;
let state;
let builder;
let charts;
let generation = 0;

function show(el, visible) {
  el.hidden = !visible;
}

function banner(message) {
  fill($("banner-text"), message ?? "");
  show($("banner"), Boolean(message));
}

// --- sign-in ----------------------------------------------------------------------------------------------------

async function signIn(key) {
  try {
    const me = await get("/api/v1/me", {}, key);
    setKey(key);
    fill($("tenant"), "tenant ", h("strong", {}, me.tenant));
    show($("tenant"), true);
    show($("sign-out"), true);
    show($("sign-in"), false);
    show($("app"), true);
    fill($("sign-in-error"));
    return true;
  } catch (error) {
    if (error.status === 401 || error.status === 403) {
      signOut(error.message);
    } else {
      // The engine or the service is away: keep the key in the form, so "Sign in" tries again.
      signOut(error.message);
      $("key-input").value = key;
    }
    return false;
  }
}

function signOut(message = "") {
  forgetKey();
  show($("app"), false);
  show($("detail"), false);
  show($("tenant"), false);
  show($("sign-out"), false);
  show($("sign-in"), true);
  fill($("sign-in-error"), message);
  $("key-input").value = "";
  $("key-input").focus();
}

// --- the selection: search, filter and time range -----------------------------------------------------------------

function timeRange(now) {
  if (state.range === "custom") {
    return { from: state.from || null, to: state.to || null };
  }
  if (state.range in RANGE_MS) {
    return { from: new Date(now - RANGE_MS[state.range]).toISOString(), to: new Date(now).toISOString() };
  }
  return { from: null, to: null };
}

// The filter as sent: the builder's group, and the time range as createdAt rules beside it. `prefix` is where the
// builder's group sits in it, so a 400's rule path can be traced back to a row.
function sentFilter(range) {
  const { group, paths } = builder.sent();
  const rangeRules = [];
  if (range.from) rangeRules.push({ field: "createdAt", operator: ">=", value: range.from });
  if (range.to) rangeRules.push({ field: "createdAt", operator: "<=", value: range.to });
  if (!rangeRules.length) return { filter: group.rules.length ? group : null, paths, prefix: "" };
  return { filter: { combinator: "and", rules: [group, ...rangeRules] }, paths, prefix: "rules[0]" };
}

function json(value) {
  return value ? JSON.stringify(value) : undefined;
}

// --- running the view -----------------------------------------------------------------------------------------------

async function run() {
  const mine = ++generation;
  const now = Date.now();
  const range = timeRange(now);
  const sent = sentFilter(range);
  const userFilter = builder.sent().group;
  const selection = { search: state.search || undefined };
  banner(null);
  fill($("query-error"));
  fill($("filter-error"));
  document.body.classList.add("loading");
  const list = get("/api/v1/requests", {
    ...selection,
    filter: json(sent.filter),
    sortBy: state.sortBy,
    sortOrder: state.sortOrder,
    pageSize: state.pageSize,
    pageNumber: state.page,
    fields: TABLE_FIELDS,
    highlight: "true",
  });
  const chart = runCharts(selection, userFilter.rules.length ? userFilter : null, range);
  const [listResult, chartResult] = await Promise.allSettled([list, chart]);
  if (mine !== generation) return;
  document.body.classList.remove("loading");
  const failure = [listResult, chartResult].find((r) => r.status === "rejected");
  if (failure) {
    handleError(failure.reason, sent);
  }
  if (listResult.status === "fulfilled") renderResults(listResult.value);
  else clearResults();
  if (chartResult.status === "rejected") charts.clear("No chart: see the message above.");
  if (chartResult.status === "fulfilled" && chartResult.value) {
    charts.render(chartResult.value.answer, chartResult.value.dimension);
    const { from, to, interval } = chartResult.value.answer;
    fill($("chart-range"), `${time(from)} – ${time(to)} UTC, per ${interval}`);
  }
  document.body.dataset.ready = String(mine);
  performance.mark("llmsearch:ready"); // bench/page.py reads the first one: the page's first load, done
}

async function runCharts(selection, filter, range) {
  let { from, to } = range;
  if (!from || !to) {
    // "All time" (or an open end): the charts span the first to the last matching request.
    const ends = await Promise.all(
      ["asc", "desc"].map((order) =>
        get("/api/v1/requests", { ...selection, filter: json(filter), sortBy: "createdAt", sortOrder: order, pageSize: 1, fields: "createdAt" }),
      ),
    );
    if (!ends[0].totalCount || !ends[0].requests[0].createdAt) {
      charts.clear("No requests to chart.");
      fill($("chart-range"));
      return null;
    }
    from = from || ends[0].requests[0].createdAt;
    to = to || ends[1].requests[0].createdAt;
  }
  const dimension = groupDimension();
  const answer = await get("/api/v1/analytics", {
    ...selection,
    filter: json(filter),
    from,
    to,
    groupBy: dimension ?? undefined,
    metrics: "count,cost",
    top: 10,
  });
  return { answer, dimension };
}

function groupDimension() {
  if (!state.group) return null;
  if (state.group.startsWith(schema.metadataKey.prefix) && state.group.length === schema.metadataKey.prefix.length) return null;
  return state.group;
}

function handleError(error, sent) {
  if (!(error instanceof ApiError)) {
    banner(String(error));
    return;
  }
  if (error.status === 401 || error.status === 403) {
    signOut(error.message);
  } else if (error.status === 400 && error.message.startsWith("filter: ")) {
    builder.showError(error.message, sent.paths, sent.prefix);
  } else if (error.status === 400) {
    fill($("query-error"), error.message);
  } else {
    banner(error.message);
  }
}

function clearResults() {
  // The last answer no longer matches the controls: show none rather than a stale page.
  fill($("total"));
  renderHead($("results").tHead, state.sortBy, state.sortOrder, sortOn);
  fill($("results").tBodies[0], h("tr", {}, h("td", { colspan: 8, class: "muted empty" }, "No results: see the message above.")));
  fill($("page-info"));
  $("prev").disabled = true;
  $("next").disabled = true;
}

function renderResults(page) {
  const first = (state.page - 1) * state.pageSize;
  const pages = Math.max(1, Math.ceil(page.totalCount / state.pageSize));
  const reachable = Math.min(pages, Math.floor(schema.limits.resultWindow / state.pageSize));
  fill(
    $("total"),
    h("strong", { id: "total-count" }, formatCount(page.totalCount)),
    page.totalCount === 1 ? " request" : " requests",
    page.requests.length ? ` · showing ${formatCount(first + 1)}–${formatCount(first + page.requests.length)}` : "",
  );
  renderHead($("results").tHead, state.sortBy, state.sortOrder, sortOn);
  renderRows($("results").tBodies[0], page.requests, openDetail, state.detail);
  fill($("page-info"), `Page ${formatCount(state.page)} of ${formatCount(pages)}`);
  $("prev").disabled = state.page <= 1;
  $("next").disabled = state.page >= reachable;
  const keys = new Set();
  for (const request of page.requests) for (const key of Object.keys(request.metadata ?? {})) keys.add(key);
  const list = $("metadata-keys");
  fill(list, [...keys].sort().map((key) => h("option", { value: key })));
}

// --- detail -----------------------------------------------------------------------------------------------------------

async function openDetail(id, push = true) {
  state.detail = id;
  if (push) writeState(state, schema);
  for (const row of $("results").tBodies[0].rows) row.classList.toggle("selected", row.dataset.id === id);
  show($("detail"), true);
  fill($("detail-title"), "Request ", h("code", {}, id));
  fill($("detail-body"), h("p", { class: "muted" }, "Loading…"));
  try {
    const request = await get(`/api/v1/requests/${encodeURIComponent(id)}`);
    if (state.detail !== id) return;
    renderDetail($("detail-body"), request);
    copyJsonButton($("detail-copy-json"), request);
  } catch (error) {
    fill($("detail-body"), h("p", { class: "error", role: "alert" }, error.message));
    if (error.status === 401) signOut(error.message);
  }
}

function closeDetail() {
  state.detail = "";
  show($("detail"), false);
  writeState(state, schema);
  for (const row of $("results").tBodies[0].rows) row.classList.remove("selected");
}

// --- user actions -----------------------------------------------------------------------------------------------------

function change(update, { resetPage = true } = {}) {
  Object.assign(state, update);
  if (resetPage) state.page = 1;
  writeState(state, schema);
  syncControls();
  run();
}

function sortOn(key) {
  if (state.sortBy === key) change({ sortOrder: state.sortOrder === "asc" ? "desc" : "asc" });
  else change({ sortBy: key, sortOrder: "desc" });
}

function pickGroup(dimension, value) {
  const rule = value === null ? { field: dimension, operator: "null", value: "" } : { field: dimension, operator: "=", value };
  builder.addRule(rule);
  change({ filter: structuredClone(builder.group) });
}

function localInput(iso) {
  // datetime-local shows local time; the URL keeps UTC.
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 19);
}

function fromLocalInput(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}

function syncControls() {
  $("search").value = state.search;
  $("range").value = state.range;
  show($("custom-range"), state.range === "custom");
  $("range-from").value = localInput(state.from);
  $("range-to").value = localInput(state.to);
  $("sort-by").value = state.sortBy;
  $("sort-order").value = state.sortOrder;
  $("page-size").value = String(state.pageSize);
  const isMetadata = state.group.startsWith(schema.metadataKey.prefix);
  $("group-by").value = isMetadata ? METADATA_GROUP : state.group;
  show($("group-key"), isMetadata);
  $("group-key").value = isMetadata ? state.group.slice(schema.metadataKey.prefix.length) : "";
}

function wire() {
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("key-input").value.trim();
    if (key) signIn(key).then((ok) => ok && start());
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("retry").addEventListener("click", () => run());
  $("query-bar").addEventListener("submit", (event) => {
    event.preventDefault();
    change({ search: $("search").value.trim() });
  });
  $("range").addEventListener("change", () => {
    const range = $("range").value;
    if (range === "custom") {
      const now = Date.now();
      change({ range, from: state.from || new Date(now - RANGE_MS["24h"]).toISOString(), to: state.to || new Date(now).toISOString() });
    } else {
      change({ range, from: "", to: "" });
    }
  });
  for (const id of ["range-from", "range-to"]) {
    $(id).addEventListener("change", () => change({ from: fromLocalInput($("range-from").value), to: fromLocalInput($("range-to").value) }));
  }
  $("sort-by").addEventListener("change", () => change({ sortBy: $("sort-by").value }));
  $("sort-order").addEventListener("change", () => change({ sortOrder: $("sort-order").value }));
  $("page-size").addEventListener("change", () => change({ pageSize: Number($("page-size").value) }));
  $("prev").addEventListener("click", () => change({ page: state.page - 1 }, { resetPage: false }));
  $("next").addEventListener("click", () => change({ page: state.page + 1 }, { resetPage: false }));
  $("group-by").addEventListener("change", () => {
    const value = $("group-by").value;
    if (value === METADATA_GROUP) {
      show($("group-key"), true);
      $("group-key").focus();
      if ($("group-key").value.trim()) change({ group: schema.metadataKey.prefix + $("group-key").value.trim() }, { resetPage: false });
      return;
    }
    change({ group: value }, { resetPage: false });
  });
  $("group-key").addEventListener("change", () => {
    const key = $("group-key").value.trim();
    if (key) change({ group: schema.metadataKey.prefix + key }, { resetPage: false });
  });
  $("detail-close").addEventListener("click", closeDetail);
  addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("detail").hidden) closeDetail();
  });
  addEventListener("popstate", () => {
    state = readState(schema);
    builder.set(state.filter);
    syncControls();
    if (state.detail) openDetail(state.detail, false);
    else show($("detail"), false);
    run();
  });
}

function buildControls() {
  options(
    $("sort-by"),
    schema.sortBy.map((key) => [key, key]),
    schema.defaults.sortBy,
  );
  const groups = schema.analytics.groupBy.map((name) => [name, name === METADATA_GROUP ? "metadata key…" : name]);
  options($("group-by"), [["", "nothing"], ...groups], "model");
  const keyList = h("datalist", { id: "metadata-keys" });
  document.body.append(keyList);
  $("group-key").setAttribute("list", "metadata-keys");
  builder = new FilterBuilder($("filter-builder"), schema, () => change({ filter: structuredClone(builder.group) }));
  charts = new Charts({
    count: $("chart-count"),
    cost: $("chart-cost"),
    legend: $("legend"),
    top: $("top-table").tBodies[0],
    topDimension: $("top-dimension"),
    readout: $("chart-readout"),
    onPick: pickGroup,
  });
}

function start() {
  state = readState(schema);
  builder.set(state.filter);
  syncControls();
  if (state.detail) openDetail(state.detail, false);
  run();
}

async function main() {
  schema = await get("/api/v1/schema", {}, null);
  buildControls();
  wire();
  const key = getKey();
  if (key && (await signIn(key))) start();
  else if (!key) signOut();
}

main().catch((error) => {
  banner(`The page could not start: ${error.message}`);
  show($("app"), true);
});
