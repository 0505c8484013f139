// The view's state lives in the page's URL, so a link reproduces the view and back/forward step through it.

const NAMES = {
  search: "q",
  filter: "filter",
  range: "range",
  from: "from",
  to: "to",
  sortBy: "sort",
  sortOrder: "order",
  page: "page",
  pageSize: "size",
  group: "group",
  detail: "id",
};
export const RANGES = ["all", "1h", "24h", "7d", "30d", "custom"];
const PAGE_SIZES = [10, 25, 50, 100];

export function defaults(schema) {
  return {
    search: "",
    filter: emptyGroup(),
    range: "all",
    from: "",
    to: "",
    sortBy: schema.defaults.sortBy,
    sortOrder: schema.defaults.sortOrder,
    page: 1,
    pageSize: schema.defaults.pageSize,
    group: "model",
    detail: "",
  };
}

export function emptyGroup() {
  return { combinator: "and", not: false, rules: [] };
}

function wholeNumber(text, fallback) {
  return /^[0-9]{1,6}$/.test(text || "") && Number(text) >= 1 ? Number(text) : fallback;
}

function group(text) {
  if (!text) return emptyGroup();
  try {
    const value = JSON.parse(text);
    if (value && typeof value === "object" && Array.isArray(value.rules)) {
      return { combinator: value.combinator === "or" ? "or" : "and", not: value.not === true, rules: value.rules };
    }
  } catch {
    // a hand-edited URL: start without a filter
  }
  return emptyGroup();
}

export function readState(schema, search = location.search) {
  const params = new URLSearchParams(search);
  const base = defaults(schema);
  const get = (name) => params.get(NAMES[name]) ?? "";
  const size = wholeNumber(get("pageSize"), base.pageSize);
  return {
    search: get("search"),
    filter: group(get("filter")),
    range: RANGES.includes(get("range")) ? get("range") : base.range,
    from: get("from"),
    to: get("to"),
    sortBy: schema.sortBy.includes(get("sortBy")) ? get("sortBy") : base.sortBy,
    sortOrder: ["asc", "desc"].includes(get("sortOrder")) ? get("sortOrder") : base.sortOrder,
    page: wholeNumber(get("page"), 1),
    pageSize: PAGE_SIZES.includes(size) ? size : base.pageSize,
    group: params.has(NAMES.group) ? get("group") : base.group,
    detail: get("detail"),
  };
}

export function stateQuery(state, schema) {
  const base = defaults(schema);
  const params = new URLSearchParams();
  for (const [name, short] of Object.entries(NAMES)) {
    let value = state[name];
    if (name === "filter") {
      if (!state.filter.rules.length) continue;
      value = JSON.stringify(state.filter);
    } else if (value === base[name]) {
      continue;
    }
    if ((name === "from" || name === "to") && state.range !== "custom") continue;
    params.set(short, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : location.pathname;
}

export function writeState(state, schema, push = true) {
  const url = stateQuery(state, schema);
  const current = location.search || location.pathname;
  if (url === current) return;
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
}
