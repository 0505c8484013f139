// Building DOM without HTML: every string becomes a text node or a property, never markup.

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "value" || name === "checked" || name === "selected") el[name] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function $(id) {
  return document.getElementById(id);
}

export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function options(select, items, selected) {
  // items: [value, label] pairs
  fill(select, items.map(([value, label]) => h("option", { value, selected: value === selected }, label)));
  select.value = selected;
}

// Marked text from the API's highlights: a fragment is a list of strings, the odd ones the matched words.
export function marked(fragment) {
  return fragment.map((part, i) => (i % 2 ? h("mark", {}, part) : document.createTextNode(part)));
}

export async function copyText(text, button) {
  let done = false;
  try {
    await navigator.clipboard.writeText(text);
    done = true;
  } catch {
    done = false;
  }
  const label = button.textContent;
  button.textContent = done ? "Copied" : "Copy failed";
  setTimeout(() => {
    button.textContent = label;
  }, 1200);
  return done;
}
