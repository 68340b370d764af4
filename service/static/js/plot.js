// The embeddings scatter (plotly.js): one trace per label (so labels toggle), then two
// marker traces: the drawing (diamond) and the current selection (open circle).

import { tsneAt, view3dAt } from "./embeddings.js";

// matplotlib's tab10, the palette of the trainer's report pictures.
export const TAB10 = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
];

const MARKERS = {
  drawing: { symbol: "diamond", size: 9, color: "#111", line: { color: "#fff", width: 1 } },
  selected: { symbol: "circle-open", size: 14, color: "#111", line: { color: "#111", width: 3 } },
};

export function coordsOf(emb, view, i) {
  return view === "tsne2d" ? tsneAt(emb, i) : view3dAt(emb, i);
}

// One label's points as typed arrays (WebGL takes them as they are; 70,000 points plot in
// well under a second). `members` are row numbers in `emb`; plotly's pointNumber indexes it.
function labelTrace(emb, view, label, members) {
  const is3d = view === "view3d";
  const [xs, ys, zs] = is3d ? [emb.x, emb.y, emb.z] : [emb.tx, emb.ty, null];
  const pick = (col) => Float32Array.from(members, (i) => col[i]);
  const size = emb.count > 3000 ? (is3d ? 2 : 3) : (is3d ? 3.5 : 6);
  const trace = {
    type: is3d ? "scatter3d" : "scattergl",
    mode: "markers",
    name: emb.label_names[label],
    x: pick(xs),
    y: pick(ys),
    customdata: Int32Array.from(members, (i) => emb.index[i]),
    hovertemplate: `label ${emb.label_names[label]}<br>index %{customdata}<extra></extra>`,
    marker: { size, color: TAB10[label % TAB10.length], opacity: 0.85 },
  };
  if (is3d) trace.z = pick(zs);
  // 3-D markers are drawn as glyph meshes: a circle is many triangles, a square two. At 2 px
  // they look the same, and an orbit frame of 70,000 points takes 2.4x less time
  // (bench/bench_explorer.py, software WebGL). Opacity 0.85 measured faster than 1 there too.
  if (is3d && emb.count > 3000) trace.marker.symbol = "square";
  return trace;
}

function markerTrace(view, name) {
  const trace = {
    type: view === "view3d" ? "scatter3d" : "scatter",
    mode: "markers",
    name,
    meta: name,
    x: [],
    y: [],
    hoverinfo: "name",
    marker: structuredClone(MARKERS[name]),
  };
  if (view === "view3d") trace.z = [];
  return trace;
}

function layout(emb, view) {
  const axis = (title) => ({ title: { text: title }, zeroline: false });
  const what = emb.view3d_method === "latent" ? "z" : "pc";
  const base = {
    margin: { l: 0, r: 0, t: 0, b: 0 },
    showlegend: false,
    hovermode: "closest",
    paper_bgcolor: "rgba(0,0,0,0)",
    uirevision: `${emb.model}/${emb.split}/${view}`, // keep the camera when only the markers change
  };
  if (view === "view3d") {
    base.scene = {
      xaxis: axis(`${what}1`), yaxis: axis(`${what}2`), zaxis: axis(`${what}3`),
      aspectmode: "cube",
    };
  } else {
    base.margin = { l: 40, r: 10, t: 10, b: 40 };
    base.xaxis = axis("t-SNE 1");
    base.yaxis = axis("t-SNE 2");
  }
  return base;
}

// Draw (or redraw) the scatter; `hidden` is a Set of labels switched off. Returns the row
// numbers of each label's trace, for mapping a clicked point back to its row.
export async function drawScatter(div, emb, view, hidden) {
  const groups = emb.label_names.map(() => []);
  emb.labels.forEach((label, i) => groups[label].push(i));
  const traces = groups.map((members, label) => labelTrace(emb, view, label, members));
  traces.forEach((t, label) => { t.visible = hidden.has(label) ? "legendonly" : true; });
  traces.push(markerTrace(view, "drawing"), markerTrace(view, "selected"));
  const config = { responsive: true, displaylogo: false, scrollZoom: true };
  await window.Plotly.react(div, traces, layout(emb, view), config);
  return groups;
}

// Move a marker trace ("drawing" or "selected") to `point` ([x, y] or [x, y, z]); null hides it.
export function placeMarker(div, name, point) {
  if (!div.data) return; // not plotted yet
  const index = div.data.findIndex((t) => t.meta === name);
  if (index < 0) return;
  const update = { x: [point ? [point[0]] : []], y: [point ? [point[1]] : []] };
  if (div.data[index].type === "scatter3d") update.z = [point ? [point[2]] : []];
  window.Plotly.restyle(div, update, [index]);
}

export function setLabelVisible(div, label, visible) {
  window.Plotly.restyle(div, { visible: visible ? true : "legendonly" }, [label]);
}

// Points drawn in the label traces (the test compares this with /embeddings' count).
export function pointCount(div, labels) {
  return div.data.slice(0, labels).reduce((sum, t) => sum + t.x.length, 0);
}
