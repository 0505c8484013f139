// Requests and cost over time from GET /api/v1/analytics, stacked by one dimension (uPlot, vendored), a legend and
// a top-10 table. Clicking a bar segment, a legend entry or a table row adds that group as a filter.

import { fill, h } from "./dom.js";

const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#2f4b7c", "#a05195"];
const OTHER = "__other__";
const OTHER_COLOR = "#bab0ac";

export function formatCount(n) {
  return Number(n).toLocaleString("en-US");
}

export function formatCost(n) {
  return n === null || n === undefined ? "–" : `$${Math.round(n * 1e6) / 1e6}`;
}

export function groupLabel(value) {
  if (value === OTHER) return "other";
  if (value === null) return "(none)";
  return String(value);
}

export class Charts {
  constructor({ count, cost, legend, top, topDimension, readout, onPick }) {
    this.els = { count, cost, legend, top, topDimension, readout };
    this.onPick = onPick;
    this.plots = [];
    addEventListener("resize", () => {
      for (const plot of this.plots) plot.setSize({ width: plot.root.parentElement.clientWidth, height: plot.height });
    });
  }

  clear(message) {
    for (const plot of this.plots) plot.destroy();
    this.plots = [];
    fill(this.els.count, h("p", { class: "muted" }, message));
    fill(this.els.cost);
    fill(this.els.legend);
    fill(this.els.top);
    fill(this.els.readout);
  }

  render(answer, dimension) {
    for (const plot of this.plots) plot.destroy();
    this.plots = [];
    const series = answer.series.map((s, i) => {
      const value = dimension ? s.key[dimension] : null;
      return {
        value,
        label: dimension ? groupLabel(value) : "all requests",
        other: value === OTHER,
        color: value === OTHER ? OTHER_COLOR : PALETTE[i % PALETTE.length],
        totals: s.totals,
        buckets: s.buckets,
      };
    });
    const xs = (series[0]?.buckets ?? []).map((b) => Date.parse(b.start) / 1000);
    this.series = series;
    this.dimension = dimension;
    fill(this.els.count);
    fill(this.els.cost);
    this.plots.push(this.plot(this.els.count, xs, series, "count", (v) => formatCount(v)));
    this.plots.push(this.plot(this.els.cost, xs, series, "cost", (v) => formatCost(v)));
    this.renderLegend(series);
    this.renderTop(series, answer.totals, dimension);
  }

  pick(s) {
    if (this.dimension && !s.other) this.onPick(this.dimension, s.value);
  }

  plot(el, xs, series, metric, format) {
    const raw = series.map((s) => s.buckets.map((b) => b[metric] ?? 0));
    const stacked = [];
    let sum = xs.map(() => 0);
    for (const values of raw) {
      sum = sum.map((acc, i) => acc + values[i]);
      stacked.push(sum);
    }
    // uPlot draws in order, so the tallest stack goes first and each lower one is drawn over it.
    const order = series.map((_, i) => i).reverse();
    const bars = globalThis.uPlot.paths.bars({ size: [0.85, 60] });
    const options = {
      width: el.clientWidth || 560,
      height: 170,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.05 : 1] } },
      axes: [{ stroke: "#555" }, { stroke: "#555", size: 70, values: (u, ticks) => ticks.map(format) }],
      series: [
        {},
        ...order.map((i) => ({
          label: series[i].label,
          stroke: series[i].color,
          fill: series[i].color,
          width: 0,
          paths: bars,
          points: { show: false },
        })),
      ],
      hooks: {
        setCursor: [(u) => this.readout(u, xs, series, raw, metric, format)],
      },
    };
    const plot = new globalThis.uPlot(options, [xs, ...order.map((i) => stacked[i])], el);
    plot.over.dataset.metric = metric;
    plot.over.addEventListener("click", () => {
      const idx = plot.cursor.idx;
      if (idx === null || idx === undefined || plot.cursor.top < 0) return;
      const y = plot.posToVal(plot.cursor.top, "y");
      for (let i = 0; i < series.length; i++) {
        const low = i ? stacked[i - 1][idx] : 0;
        if (y >= low && y <= stacked[i][idx] && stacked[i][idx] > low) {
          this.pick(series[i]);
          return;
        }
      }
    });
    return plot;
  }

  readout(u, xs, series, raw, metric, format) {
    const idx = u.cursor.idx;
    if (idx === null || idx === undefined) return;
    const start = new Date(xs[idx] * 1000).toISOString().replace("T", " ").replace(/\.000Z$/, " UTC");
    fill(
      this.els.readout,
      start,
      ": ",
      series.map((s, i) => [i ? ", " : "", h("span", { class: "swatch", dataset: { color: s.color } }), s.label, " ", format(raw[i][idx])]),
    );
    for (const swatch of this.els.readout.querySelectorAll(".swatch")) swatch.style.background = swatch.dataset.color;
  }

  renderLegend(series) {
    fill(
      this.els.legend,
      series.map((s) => {
        const swatch = h("span", { class: "swatch" });
        swatch.style.background = s.color;
        return h(
          "button",
          {
            type: "button",
            class: "legend-item",
            dataset: { group: s.label },
            disabled: !this.dimension || s.other,
            title: this.dimension && !s.other ? "Add as a filter" : null,
            onclick: () => this.pick(s),
          },
          swatch,
          s.label,
          " ",
          h("span", { class: "muted count" }, formatCount(s.totals.count)),
        );
      }),
    );
  }

  renderTop(series, totals, dimension) {
    fill(this.els.topDimension, dimension ?? "Group");
    fill(
      this.els.top,
      series.map((s) =>
        h(
          "tr",
          {
            class: s.other || !dimension ? "other" : "pickable",
            dataset: { group: s.label },
            title: s.other || !dimension ? null : "Add as a filter",
            onclick: () => this.pick(s),
          },
          h("td", {}, s.label),
          h("td", { class: "num count" }, formatCount(s.totals.count)),
          h("td", { class: "num cost" }, formatCost(s.totals.cost)),
          h("td", { class: "num share" }, totals.count ? `${((100 * s.totals.count) / totals.count).toFixed(1)}%` : "–"),
        ),
      ),
    );
  }
}
