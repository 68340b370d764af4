// The explorer's wiring: pick a model, plot its embeddings, decode what is pointed at,
// reconstruct what is drawn. Everything comes from this service's own API.

import {
  ApiError, getJSON, modelQuery, pngURL, reconstruct, setApiKey, showImage, throttled,
} from "./api.js";
import { paintPixels, setupPad, showOnPad } from "./draw.js";
import { latentAt, loadEmbeddings, splitOf, tsneAt, view3dAt } from "./embeddings.js";
import { fillCard, fillLabelPicker, loadGallery, showSamples, showStrip } from "./panels.js";
import { TAB10, drawScatter, placeMarker, pointCount, setLabelVisible } from "./plot.js";
import { buildSliders, sliderBox, syncSliders } from "./sliders.js";

const $ = (id) => document.getElementById(id);
const plot = $("plot");
const state = {
  model: null, version: null, listing: {}, manifest: null, emb: null,
  view: "view3d", split: "test", hidden: new Set(),
  box: null, current: null, drawn: null, a: null, b: null, clickBound: false, groups: [],
};

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").title = text; // the header keeps one line: a long status is cut, whole on hover
  $("status").classList.toggle("error", isError);
}

// Run an action; failures show in the status line (a 401 also shows the API key field).
async function guard(action) {
  try {
    await action();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) $("key-field").hidden = false;
    status(err.message, true);
  }
}

// The model and version the page looks at, as a query: every model call passes both.
const q = () => modelQuery(state.model, state.version);
const shown = () => `${state.model} v${state.version}`;

// t-SNE has no map for new latents: a new point is shown at its nearest test point.
function nearestTsne(latent) {
  const emb = state.emb;
  if (!emb.latents || !emb.tx || !latent) return null;
  const dim = emb.latent_dim;
  let best = -1;
  let bestDist = Infinity;
  for (let i = 0; i < emb.count; i++) {
    let d = 0;
    for (let k = 0; k < dim; k++) d += (emb.latents[i * dim + k] - latent[k]) ** 2;
    if (d < bestDist) [best, bestDist] = [i, d];
  }
  return tsneAt(emb, best);
}

function showMarkers() {
  placeMarker(plot, "drawing", state.drawn?.where[state.view] ?? null);
  placeMarker(plot, "selected", state.current?.where[state.view] ?? null);
}

let decodes = 0; // replies can overtake each other: only the newest request's image shows

async function decodeTo(selection) {
  const mine = ++decodes;
  state.current = selection;
  placeMarker(plot, "selected", selection.where[state.view] ?? null);
  $("decoded-caption").textContent = selection.caption;
  const { url } = await pngURL(`/decode?${q()}`, { method: "POST", doc: { latent: selection.latent } });
  if (mine === decodes) showImage($("decoded"), url);
  else URL.revokeObjectURL(url);
}

const decodeLive = throttled((selection) => guard(() => decodeTo(selection)), 50);

// A point's latent: its raw latent when served, else (D = 3) its coordinates, else its
// PCA position mapped back (the latent projected on the top 3 principal axes: approximate).
function pointLatent(i) {
  const emb = state.emb;
  if (emb.latents) return [latentAt(emb, i), ""];
  if (state.box) {
    const exact = emb.view3d_method === "latent";
    return [state.box.toLatent(view3dAt(emb, i)), exact ? "" : " (from its PCA position: approximate)"];
  }
  return [null, ""];
}

function onPointClick(event) {
  const point = event.points && event.points[0];
  const members = point && state.groups[point.curveNumber];
  if (!members) return; // a marker, not a data point
  const i = members[point.pointNumber];
  const emb = state.emb;
  const where = { view3d: view3dAt(emb, i), tsne2d: tsneAt(emb, i) };
  const [latent, how] = pointLatent(i);
  const what = `${splitOf(emb, i)} image #${emb.index[i]}`;
  const caption = `${what}, label ${emb.label_names[emb.labels[i]]}${how}`;
  if (!latent) {
    state.current = null;
    placeMarker(plot, "selected", where[state.view]);
    $("decoded-caption").textContent = `${caption}. ${state.model} keeps no raw latents in ` +
      `/embeddings (D = ${emb.latent_dim} is too large), so points cannot be decoded here; ` +
      "draw a digit, sample, or interpolate between two drawings instead.";
    return;
  }
  syncSliders(where.view3d);
  guard(() => decodeTo({ latent, caption, where }));
}

async function redraw() {
  const started = performance.now();
  state.groups = await drawScatter(plot, state.emb, state.view, state.hidden);
  plot.dataset.drawMs = String(Math.round(performance.now() - started));
  if (!state.clickBound) {
    plot.on("plotly_click", onPointClick);
    state.clickBound = true;
  }
  showMarkers();
  plot.dataset.points = pointCount(plot, state.emb.label_names.length);
  plot.dataset.view = state.view;
}

function buildChips() {
  const chips = state.emb.label_names.map((name, label) => {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "chip";
    chip.setAttribute("aria-pressed", "true");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = TAB10[label % TAB10.length];
    chip.append(swatch, name);
    chip.addEventListener("click", () => {
      const shown = state.hidden.has(label);
      if (shown) state.hidden.delete(label);
      else state.hidden.add(label);
      chip.setAttribute("aria-pressed", String(shown));
      setLabelVisible(plot, label, shown);
    });
    return chip;
  });
  $("labels").replaceChildren(...chips);
}

function plotNote(emb) {
  const d = emb.latent_dim;
  const pca = emb.view3d_method === "pca";
  const notes = state.view === "tsne2d"
    ? ["t-SNE has no inverse: click points (not empty space) to decode them; drawings are " +
       "marked at their nearest test point."]
    : ["Drag to rotate, scroll to zoom, hover for label and index, click a point to decode it.",
       pca ? `Axes: PCA of the D = ${d} latent.` : ""];
  if (state.box) notes.push(`Sliders move through the ${pca ? "PCA box (mapped back to the latent)" : "latent box"}.`);
  if (!emb.latents && !state.box) {
    notes.push(`${state.model} serves no raw latents (D = ${d}), so its points cannot be ` +
      "decoded: draw, sample, or interpolate between two drawings instead.");
  }
  $("plot-note").textContent = notes.filter(Boolean).join(" ");
}

function resetSelections() {
  Object.assign(state, { current: null, drawn: null, a: null, b: null });
  if ($("decoded").src.startsWith("blob:")) URL.revokeObjectURL($("decoded").src);
  $("decoded").removeAttribute("src");
  $("decoded-caption").textContent = "Click a point in the plot.";
  $("a-caption").textContent = "A: not set";
  $("b-caption").textContent = "B: not set";
  $("interpolate").disabled = true;
  $("strip").hidden = true;
  $("samples").hidden = true;
  pad.clear();
  paintPixels($("recon"), Array.from({ length: 28 }, () => new Array(28).fill(0)));
}

// The split picker offers train and all only when the model has train embeddings.
function fillSplits(manifest) {
  const hasTrain = Boolean(manifest.embeddings.splits?.train);
  for (const option of $("split").options) option.disabled = option.value !== "test" && !hasTrain;
  if (!hasTrain) state.split = "test";
  $("split").value = state.split;
}

async function loadPoints() {
  status(`loading ${shown()} ${state.split} points…`);
  const started = performance.now();
  state.emb = await loadEmbeddings(q(), state.split);
  plot.dataset.loadMs = String(Math.round(performance.now() - started));
  plot.dataset.format = state.emb.format;
}

async function selectSplit(split) {
  state.split = split;
  await loadPoints();
  const tsne = $("view").querySelector('[value="tsne2d"]');
  tsne.disabled = !state.emb.tx;
  if (!state.emb.tx) state.view = "view3d";
  $("view").value = state.view;
  plotNote(state.emb);
  await redraw();
  status(`${shown()}: ${state.emb.count} ${state.split} points, D = ${state.emb.latent_dim}`);
}

// The version picker: the model's served versions, newest first, its default marked; a model
// serving one version shows it too (the picker is then disabled). Returns the version picked.
function fillVersions(name, wanted) {
  const { version, versions = [version] } = state.listing[name];
  const picked = versions.includes(wanted) ? wanted : version;
  const options = [...versions].sort((a, b) => b - a).map((v) =>
    new Option(v === version ? `${v} (default)` : String(v), String(v)));
  $("version").replaceChildren(...options);
  $("version").value = String(picked);
  $("version").disabled = versions.length < 2;
  $("version").title = versions.length < 2 ? `${name} serves one version` : "";
  return picked;
}

async function selectModel(name, wanted = null) {
  state.model = name;
  state.version = fillVersions(name, wanted);
  document.body.dataset.version = String(state.version);
  status(`loading ${shown()}…`);
  const manifest = await getJSON(`/models/${encodeURIComponent(name)}?version=${state.version}`);
  state.manifest = manifest;
  fillSplits(manifest);
  fillLabelPicker(manifest);
  await loadPoints();
  const emb = state.emb;
  const tsne = $("view").querySelector('[value="tsne2d"]');
  tsne.disabled = !emb.tx;
  if (!emb.tx) state.view = "view3d";
  $("view").value = state.view;
  $("view").options[0].textContent = emb.view3d_method === "latent" ? "3-D latent" : "3-D PCA";
  state.hidden.clear();
  resetSelections();
  buildChips();
  state.box = sliderBox(manifest, emb);
  buildSliders(state.box, emb.latent_dim, (v) => {
    const latent = state.box.toLatent(v);
    const at = v.map((x) => x.toFixed(2)).join(", ");
    const caption = emb.view3d_method === "latent" ? `z = (${at})` : `PCA position (${at})`;
    decodeLive({ latent, caption, where: { view3d: v, tsne2d: nearestTsne(latent) } });
  });
  plotNote(emb);
  const mean = manifest.prior.mean;
  guard(() => decodeTo({
    latent: mean, caption: `the prior's mean; ${state.box ? "move the sliders or " : ""}` +
      (emb.latents || state.box ? "click a point" : "draw a digit"),
    where: { view3d: emb.view3d_method === "latent" ? mean : null, tsne2d: null },
  }));
  fillCard(name, state.version, manifest);
  if ($("card").open) guard(() => loadGallery(name, state.version, manifest));
  await redraw();
  status(`${shown()}: ${emb.count} ${state.split} points, D = ${emb.latent_dim}`);
}

async function sendDrawing(blob) {
  if (!blob && !pad.hasInk()) return;
  const r = await reconstruct(q(), blob || (await pad.blob()));
  if (blob) showOnPad($("pad"), r.input);
  paintPixels($("recon"), r.pixels);
  const where = { view3d: r.view3d, tsne2d: nearestTsne(r.latent) };
  state.drawn = { latent: r.latent, caption: "your drawing", where };
  state.current = state.drawn;
  placeMarker(plot, "drawing", where[state.view] ?? null);
  const placed = where[state.view] ? "; ◆ marks it in the plot" : "; not placeable in this view";
  $("recon-caption").textContent = `reconstruction, MSE ${r.mse.toFixed(4)}${placed}`;
  $("recon").dataset.updates = String(Number($("recon").dataset.updates || 0) + 1);
}

const drawLive = throttled(() => guard(() => sendDrawing(null)), 120);
const pad = setupPad($("pad"), drawLive);

function setEnd(which) {
  if (!state.current) {
    status("point at something first: click a point, move a slider or draw", true);
    return;
  }
  state[which] = state.current;
  $(`${which}-caption`).textContent = `${which.toUpperCase()}: ${state.current.caption}`;
  $("interpolate").disabled = !(state.a && state.b);
}

function wire() {
  $("model").addEventListener("change", (e) => guard(() => selectModel(e.target.value)));
  $("version").addEventListener("change",
    (e) => guard(() => selectModel(state.model, Number(e.target.value))));
  $("split").addEventListener("change", (e) => guard(() => selectSplit(e.target.value)));
  $("view").addEventListener("change", (e) => {
    state.view = e.target.value;
    plotNote(state.emb);
    guard(redraw);
  });
  $("api-key").addEventListener("change", (e) => {
    setApiKey(e.target.value.trim());
    guard(start);
  });
  $("clear").addEventListener("click", () => {
    pad.clear();
    state.drawn = null;
    placeMarker(plot, "drawing", null);
  });
  $("upload").addEventListener("change", (e) => {
    const file = e.target.files[0];
    if (file) guard(() => sendDrawing(file));
  });
  $("set-a").addEventListener("click", () => setEnd("a"));
  $("set-b").addEventListener("click", () => setEnd("b"));
  $("interpolate").addEventListener("click", () => guard(() => showStrip(q(), state.a, state.b)));
  $("sample").addEventListener("click", () => guard(() => showSamples(q(), false)));
  $("sample-random").addEventListener("click", () => guard(() => showSamples(q(), true)));
  $("card").addEventListener("toggle", () => {
    if ($("card").open && state.manifest) guard(() => loadGallery(state.model, state.version, state.manifest));
  });
}

async function start() {
  const list = await getJSON("/models");
  const params = new URLSearchParams(location.search);
  const wanted = params.get("model");
  const names = list.models.map((m) => m.name);
  if (!names.length) throw new Error("the service has no models loaded");
  state.listing = Object.fromEntries(list.models.map((m) => [m.name, m]));
  $("model").replaceChildren(...names.map((name) => new Option(name, name)));
  $("model").value = names.includes(wanted) ? wanted : list.default ?? names[0];
  // ?version= in the page's address picks a served version of that model, as in the API.
  const version = params.has("version") ? Number(params.get("version")) : null;
  await selectModel($("model").value, $("model").value === wanted ? version : null);
  document.body.dataset.ready = "true";
}

wire();
guard(start);
