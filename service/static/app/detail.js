// One request, from GET /api/v1/requests/{id}: every field, bodies pretty-printed, metadata as a table, copy buttons.

import { copyText, fill, h } from "./dom.js";
import { time } from "./table.js";

const BODIES = ["request_body", "response_body"];
const TEXTS = ["completion", "streamed_response_body"];

function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function copyButton(text, label = "Copy") {
  const button = h("button", { type: "button", class: "copy" }, label);
  button.addEventListener("click", () => copyText(text, button));
  return button;
}

function block(name, text) {
  return h(
    "section",
    { class: "block", dataset: { field: name } },
    h("h3", {}, name, " ", text === null ? null : copyButton(text)),
    text === null ? h("p", { class: "muted" }, "null") : h("pre", { class: "body" }, text),
  );
}

export function renderDetail(body, request) {
  const scalars = Object.entries(request).filter(([name]) => !BODIES.includes(name) && !TEXTS.includes(name) && name !== "metadata");
  const metadata = request.metadata ? Object.entries(request.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : [];
  fill(
    body,
    h(
      "table",
      { class: "fields" },
      h(
        "tbody",
        {},
        scalars.map(([name, value]) =>
          h(
            "tr",
            { dataset: { field: name } },
            h("th", {}, name),
            h("td", {}, value === null ? h("span", { class: "muted" }, "null") : name === "createdAt" || name === "updatedAt" ? time(value) : String(value)),
            h("td", {}, value === null ? null : copyButton(String(value))),
          ),
        ),
      ),
    ),
    h("h3", {}, "metadata"),
    metadata.length
      ? h(
          "table",
          { class: "metadata" },
          h("thead", {}, h("tr", {}, h("th", {}, "key"), h("th", {}, "value"))),
          h("tbody", {}, metadata.map(([key, value]) => h("tr", {}, h("td", {}, key), h("td", {}, value)))),
        )
      : h("p", { class: "muted" }, request.metadata ? "none" : "null"),
    TEXTS.filter((name) => name in request).map((name) => block(name, request[name])),
    BODIES.filter((name) => name in request).map((name) => block(name, request[name] === null ? null : pretty(request[name]))),
  );
}

export function copyJsonButton(button, request) {
  button.onclick = () => copyText(JSON.stringify(request, null, 2), button);
}
