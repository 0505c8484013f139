// The results table: one row per request, sortable headers (the API's sort keys), snippets with matched words marked.

import { fill, h, marked } from "./dom.js";

// What the table asks the list for: no bodies, the snippets come from `highlights`.
export const TABLE_FIELDS = "id,createdAt,model,status,user_id,app_id,prompt_tokens,completion_tokens,cost,metadata";

const COLUMNS = [
  { label: "Time (UTC)", sort: "createdAt", cell: (r) => time(r.createdAt) },
  { label: "Model", sort: "model", cell: (r) => r.model },
  { label: "Status", sort: "status", cell: (r) => r.status },
  { label: "User", sort: "user_id", cell: (r) => r.user_id },
  { label: "App", sort: null, cell: (r) => r.app_id },
  { label: "Tokens", sort: "prompt_tokens", cell: (r) => tokens(r), num: true },
  { label: "Cost", sort: "cost", cell: (r) => (r.cost === null ? null : `$${r.cost}`), num: true },
  { label: "Prompt / completion", sort: null, cell: (r) => snippet(r) },
];

export function time(value) {
  // 2026-03-01T12:00:00.250Z -> 2026-03-01 12:00:00 (the table's column says UTC; the detail shows the rest)
  return value ? value.replace("T", " ").replace(/(\.[0-9]+)?(Z|[+-]00:00)$/, "") : null;
}

function tokens(request) {
  const { prompt_tokens: p, completion_tokens: c } = request;
  if (p === null && c === null) return null;
  return `${p ?? "–"} → ${c ?? "–"}`;
}

function snippet(request) {
  const lines = [];
  for (const [field, label] of [
    ["prompt", "prompt"],
    ["completion", "completion"],
  ]) {
    const fragments = request.highlights?.[field];
    if (fragments && fragments.length) {
      lines.push(h("div", { class: `snippet ${field}` }, h("span", { class: "tag" }, label), " ", fragments.map((f, i) => [i ? " … " : "", marked(f)])));
    }
  }
  return lines.length ? lines : null;
}

export function renderHead(thead, sortBy, sortOrder, onSort) {
  fill(
    thead.querySelector("tr"),
    COLUMNS.map((column) => {
      const active = column.sort && column.sort === sortBy;
      const arrow = active ? (sortOrder === "asc" ? " ▲" : " ▼") : "";
      const content = column.sort
        ? h("button", { type: "button", class: "sort", dataset: { sort: column.sort }, onclick: () => onSort(column.sort) }, column.label, arrow)
        : column.label;
      return h("th", { class: column.num ? "num" : null, "aria-sort": active ? (sortOrder === "asc" ? "ascending" : "descending") : null }, content);
    }),
  );
}

export function renderRows(tbody, requests, onOpen, selectedId) {
  if (!requests.length) {
    fill(tbody, h("tr", {}, h("td", { colspan: COLUMNS.length, class: "muted empty" }, "No requests match.")));
    return;
  }
  fill(
    tbody,
    requests.map((request) =>
      h(
        "tr",
        {
          dataset: { id: request.id },
          class: request.id === selectedId ? "selected" : null,
          tabindex: "0",
          onclick: () => onOpen(request.id),
          onkeydown: (event) => {
            if (event.key === "Enter") onOpen(request.id);
          },
        },
        COLUMNS.map((column) => {
          const value = column.cell(request);
          return h("td", { class: column.num ? "num" : null }, value === null || value === undefined ? h("span", { class: "muted" }, "–") : value);
        }),
      ),
    ),
  );
}
