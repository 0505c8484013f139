// The filter builder: rows of field / operator / value in AND/OR groups with "not", drawn from the service's own
// field and operator tables (GET /api/v1/schema), producing the react-querybuilder rule group the API takes.

import { fill, h } from "./dom.js";
import { emptyGroup } from "./state.js";

const METADATA_CHOICE = "metadata.<key>";

export class FilterBuilder {
  constructor(root, schema, onChange) {
    this.root = root;
    this.schema = schema;
    this.onChange = onChange;
    this.fields = new Map(schema.fields.map((field) => [field.name, field]));
    this.operators = new Map(schema.operators.map((op) => [op.key, op]));
    this.group = emptyGroup();
    this.errors = new Map(); // model path -> message
    this.timer = null;
  }

  set(group) {
    this.group = structuredClone(group);
    this.errors.clear();
    this.render();
  }

  fieldInfo(name) {
    if (this.fields.has(name)) return this.fields.get(name);
    const meta = this.schema.metadataKey;
    if (typeof name === "string" && name.startsWith(meta.prefix)) {
      return { name, kind: meta.kind, operators: meta.operators, metadataKey: name.slice(meta.prefix.length) };
    }
    return null;
  }

  changed(immediate = false) {
    this.errors.clear();
    clearTimeout(this.timer);
    if (immediate) this.onChange();
    else this.timer = setTimeout(() => this.onChange(), 400);
  }

  addRule(rule) {
    // A rule from a chart: ANDed with whatever the filter already says.
    if (this.group.combinator !== "and" || this.group.not) {
      this.group = { combinator: "and", not: false, rules: this.group.rules.length ? [this.group] : [] };
    }
    this.group.rules.push(rule);
    this.render();
  }

  // The group as sent: rules still being edited (no value yet) left out, with each sent path's model path.
  sent() {
    const paths = new Map();
    const walk = (group, modelPath, sentPath) => {
      const rules = [];
      group.rules.forEach((item, i) => {
        const here = `${modelPath}.rules[${i}]`;
        const there = `${sentPath ? `${sentPath}.` : ""}rules[${rules.length}]`;
        if (Array.isArray(item.rules)) {
          paths.set(there, here);
          rules.push(walk(item, here, there));
        } else if (this.complete(item)) {
          paths.set(there, here);
          rules.push({ field: item.field, operator: item.operator, value: item.value ?? "" });
        }
      });
      return { combinator: group.combinator, not: group.not, rules };
    };
    return { group: walk(this.group, "", ""), paths };
  }

  complete(rule) {
    const op = this.operators.get(rule.operator);
    if (!op || !this.fieldInfo(rule.field) || rule.field === METADATA_CHOICE) return false;
    if (op.values === "none") return true;
    const value = rule.value;
    if (op.values === "one") return value !== undefined && value !== null && String(value).trim() !== "";
    const items = Array.isArray(value) ? value : [];
    const filled = items.filter((item) => String(item).trim() !== "");
    return op.values === "two" ? filled.length === 2 : filled.length >= 1;
  }

  // The API's 400 for the filter names the rule by its path in what was sent: show it next to that row.
  showError(message, paths, prefix) {
    const match = /^filter: (rules\[[0-9]+\](?:\.rules\[[0-9]+\])*): (.*)$/s.exec(message);
    let where = "";
    if (match) {
      const sentPath = match[1].startsWith(prefix) ? match[1].slice(prefix.length).replace(/^\./, "") : null;
      if (sentPath && paths.has(sentPath)) where = paths.get(sentPath);
    }
    this.errors.clear();
    this.errors.set(where, message);
    this.render();
  }

  render() {
    fill(this.root, this.renderGroup(this.group, "", null));
  }

  renderGroup(group, path, parent) {
    const box = h("div", { class: "group", dataset: { path } });
    const head = h(
      "div",
      { class: "group-head" },
      h(
        "select",
        {
          "aria-label": "Combinator",
          class: "combinator",
          onchange: (event) => {
            group.combinator = event.target.value;
            this.changed(true);
          },
        },
        h("option", { value: "and", selected: group.combinator === "and" }, "all of (AND)"),
        h("option", { value: "or", selected: group.combinator === "or" }, "any of (OR)"),
      ),
      h(
        "label",
        { class: "not" },
        h("input", {
          type: "checkbox",
          checked: group.not === true,
          onchange: (event) => {
            group.not = event.target.checked;
            this.changed(true);
          },
        }),
        " not",
      ),
      h(
        "button",
        {
          type: "button",
          class: "add-rule",
          onclick: () => {
            group.rules.push({ field: "model", operator: "=", value: "" });
            this.render();
          },
        },
        "+ Rule",
      ),
      h(
        "button",
        {
          type: "button",
          class: "add-group",
          onclick: () => {
            group.rules.push(emptyGroup());
            this.render();
          },
        },
        "+ Group",
      ),
      parent
        ? h(
            "button",
            {
              type: "button",
              class: "remove",
              "aria-label": "Remove group",
              onclick: () => {
                parent.rules.splice(parent.rules.indexOf(group), 1);
                this.render();
                this.changed(true);
              },
            },
            "×",
          )
        : null,
    );
    if (!parent && !group.rules.length) head.append(h("span", { class: "muted" }, "No filter: every request."));
    box.append(head);
    group.rules.forEach((item, i) => {
      const here = `${path}.rules[${i}]`;
      box.append(Array.isArray(item.rules) ? this.renderGroup(item, here, group) : this.renderRule(item, here, group));
    });
    if (this.errors.has(path)) box.append(h("p", { class: "error row-error", role: "alert" }, this.errors.get(path)));
    return box;
  }

  fieldChoices() {
    return [...this.schema.fields.map((field) => [field.name, field.name]), [METADATA_CHOICE, "metadata key…"]];
  }

  renderRule(rule, path, parent) {
    const info = this.fieldInfo(rule.field);
    const isMetadataKey = info && info.metadataKey !== undefined;
    const fieldValue = isMetadataKey ? METADATA_CHOICE : rule.field;
    const fieldSelect = h(
      "select",
      {
        class: "field",
        "aria-label": "Field",
        onchange: (event) => {
          const name = event.target.value;
          rule.field = name === METADATA_CHOICE ? this.schema.metadataKey.prefix : name;
          const allowed = this.fieldInfo(rule.field)?.operators ?? [];
          if (!allowed.includes(rule.operator)) rule.operator = allowed[0] ?? "=";
          rule.value = "";
          this.render();
        },
      },
      this.fieldChoices().map(([value, label]) => h("option", { value, selected: value === fieldValue }, label)),
    );
    const row = h("div", { class: "rule", dataset: { path } }, fieldSelect);
    if (isMetadataKey) {
      row.append(
        h("input", {
          type: "text",
          class: "metadata-key",
          placeholder: "key",
          "aria-label": "Metadata key",
          value: info.metadataKey,
          onchange: (event) => {
            rule.field = this.schema.metadataKey.prefix + event.target.value.trim();
            this.changed(true);
          },
        }),
      );
    }
    const operators = info ? info.operators : [];
    row.append(
      h(
        "select",
        {
          class: "operator",
          "aria-label": "Operator",
          title: this.operators.get(rule.operator)?.description ?? "",
          onchange: (event) => {
            const before = this.operators.get(rule.operator)?.values;
            rule.operator = event.target.value;
            if (this.operators.get(rule.operator)?.values !== before) rule.value = "";
            this.render();
            this.changed(true);
          },
        },
        operators.map((key) =>
          h(
            "option",
            { value: key, selected: key === rule.operator, title: this.operators.get(key).description },
            this.operators.get(key).label,
          ),
        ),
      ),
    );
    row.append(this.valueInputs(rule, info));
    row.append(
      h(
        "button",
        {
          type: "button",
          class: "remove",
          "aria-label": "Remove rule",
          onclick: () => {
            parent.rules.splice(parent.rules.indexOf(rule), 1);
            this.render();
            this.changed(true);
          },
        },
        "×",
      ),
    );
    const box = h("div", { class: "rule-box" }, row);
    if (this.errors.has(path)) box.append(h("p", { class: "error row-error", role: "alert" }, this.errors.get(path)));
    return box;
  }

  valueInputs(rule, info) {
    const op = this.operators.get(rule.operator);
    if (!op || op.values === "none" || !info) return [];
    const kind = info.kind;
    const input = (value, set, label) => {
      if (kind === "boolean") {
        return h(
          "select",
          {
            class: "value",
            "aria-label": label,
            onchange: (event) => {
              set(event.target.value);
              this.changed(true);
            },
          },
          ["", "true", "false"].map((choice) =>
            h("option", { value: choice, selected: String(value) === choice }, choice || "…"),
          ),
        );
      }
      return h("input", {
        class: "value",
        type: kind === "integer" || kind === "number" ? "number" : "text",
        step: kind === "number" ? "any" : null,
        placeholder: placeholders[kind] ?? "value",
        "aria-label": label,
        value: value ?? "",
        onchange: (event) => {
          set(event.target.value);
          this.changed(true);
        },
      });
    };
    if (op.values === "one") return input(rule.value, (v) => (rule.value = v), "Value");
    if (op.values === "two") {
      const pair = Array.isArray(rule.value) ? rule.value : ["", ""];
      rule.value = pair;
      return [input(pair[0], (v) => (pair[0] = v), "From value"), " and ", input(pair[1], (v) => (pair[1] = v), "To value")];
    }
    const list = Array.isArray(rule.value) ? rule.value.join(", ") : (rule.value ?? "");
    return h("input", {
      class: "value",
      type: "text",
      placeholder: "a, b, c",
      "aria-label": "Values",
      value: list,
      onchange: (event) => {
        rule.value = event.target.value
          .split(",")
          .map((item) => item.trim())
          .filter(Boolean);
        this.changed(true);
      },
    });
  }
}

const placeholders = {
  date: "2026-01-31 or 2026-01-31T12:00:00Z",
  ip: "203.0.113.7 or 10.0.0.0/8",
  text: "words",
  keyword: "exact value",
  metadata: "exact value",
};

