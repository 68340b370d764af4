// The explorer's wiring: pick a model, plot its embeddings, decode what is pointed at,
// reconstruct what is drawn. Everything comes from this service's own API.

import {
  ApiError, getJSON, modelQuery, pngURL, reconstruct, setApiKey, showImage, throttled,
} from "./api.js";
import { paintPixels, setupPad, showOnPad } from "./draw.js";
import { latentAt, loadEmbeddings, splitOf, view3dAt } from "./embeddings.js";
import { rowsInLasso } from "./lasso.js";
import { VIEWS, linkText, readLink } from "./link.js";
import { fillCard, fillLabelPicker, loadGallery, showSamples, showStrip } from "./panels.js";
import { TAB10, coordsOf, createPlot } from "./plot.js";
import { showSelection } from "./selection.js";
import { buildSliders, sliderBox, syncSliders } from "./sliders.js";
import { paintThumbnail } from "./thumbs.js";

const $ = (id) => document.getElementById(id);
const plotDiv = $("plot");
const state = {
  model: null, version: null, listing: {}, manifest: null, emb: null,
  view: "view3d", split: "test", hidden: new Set(), camera: null, lasso: null, rows: [],
  box: null, current: null, drawn: null, a: null, b: null,
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

// t-SNE and UMAP have no map for new latents here: a new point is shown at its nearest point.
function nearestIn(view, latent) {
  const emb = state.emb;
  if (!emb || !emb.latents || !latent || !coordsOf(emb, view, 0)) return null;
  const dim = emb.latent_dim;
  let best = -1;
  let bestDist = Infinity;
  for (let i = 0; i < emb.count; i++) {
    let d = 0;
    for (let k = 0; k < dim; k++) d += (emb.latents[i * dim + k] - latent[k]) ** 2;
    if (d < bestDist) [best, bestDist] = [i, d];
  }
  return coordsOf(emb, view, best);
}

// PCA 2-D is a linear map (the manifest's maps.pca2d): new latents land where they belong.
function pca2dOf(latent) {
  const p = state.manifest?.maps?.pca2d;
  if (!p || !latent) return null;
  const out = [0, 0];
  latent.forEach((v, j) => { out[0] += (v - p.mean[j]) * p.axes[j][0]; out[1] += (v - p.mean[j]) * p.axes[j][1]; });
  return out;
}

// Where a new latent shows in each view.
function placesOf(latent, view3d) {
  return { view3d, tsne2d: nearestIn("tsne2d", latent), umap2d: nearestIn("umap2d", latent),
    pca2d: pca2dOf(latent) };
}

function showMarkers() {
  plot.placeMarker("drawing", state.drawn?.where[state.view] ?? null);
  plot.placeMarker("selected", state.current?.where[state.view] ?? null);
}

let decodes = 0; // replies can overtake each other: only the newest request's image shows

async function decodeTo(selection) {
  const mine = ++decodes;
  state.current = selection;
  plot.placeMarker("selected", selection.where[state.view] ?? null);
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

function onPointClick(i) {
  const emb = state.emb;
  if (i < 0 || !emb) return;
  const where = Object.fromEntries(VIEWS.map((v) => [v, coordsOf(emb, v, i)]));
  const [latent, how] = pointLatent(i);
  const what = `${splitOf(emb, i)} image #${emb.index[i]}`;
  const caption = `${what}, label ${emb.label_names[emb.labels[i]]}${how}`;
  if (!latent) {
    state.current = null;
    plot.placeMarker("selected", where[state.view]);
    $("decoded-caption").textContent = `${caption}. ${state.model} keeps no raw latents in ` +
      `/embeddings (D = ${emb.latent_dim} is too large), so points cannot be decoded here; ` +
      "draw a digit, sample, or interpolate between two drawings instead.";
    return;
  }
  syncSliders(where.view3d);
  guard(() => decodeTo({ latent, caption, where }));
}

function redraw() {
  const started = performance.now();
  if (!state.emb) {
    plot.renderer.clear();
    plotDiv.dataset.points = "0";
    return;
  }
  plot.draw(state.emb, state.view, state.hidden, state.camera);
  state.camera = plot.renderer.camera;
  plot.renderer.setSelected(state.rows);
  plotDiv.dataset.drawMs = String(Math.round(performance.now() - started));
  showMarkers();
  plotDiv.dataset.points = String(plot.renderer.count);
  plotDiv.dataset.view = state.view;
}

// The hovered point's label, index and its own digit, from the split's sprite atlas.
let hovered = -1;
function onHover(i, x, y) {
  hovered = i;
  const emb = state.emb;
  if (i < 0 || !emb) {
    plot.hideTooltip();
    return;
  }
  const split = splitOf(emb, i);
  const thumb = plot.showTooltip(x, y, `label ${emb.label_names[emb.labels[i]]} · ${split} #${emb.index[i]}`);
  plotDiv.dataset.hovered = String(i);
  paintThumbnail(thumb, state.manifest.dataset.name, split, emb.index[i])
    .then((ok) => { if (!ok && hovered === i) thumb.dataset.shows = "none"; })
    .catch(() => { thumb.dataset.shows = "none"; });
}

function selectLasso(lasso) {
  state.lasso = lasso;
  state.rows = lasso && state.emb ? rowsInLasso(state.emb, lasso, state.hidden) : [];
  plot.renderer.setSelected(state.rows);
  plotDiv.dataset.selected = String(state.rows.length);
  if (state.emb) guard(() => showSelection(state.emb, state.rows, q(), state.box?.toLatent));
}

function onLasso(polygon) {
  const lasso = polygon && { view: state.view, camera: state.camera, aspect: plot.renderer.aspect(), polygon };
  selectLasso(lasso);
  saveLink(true);
}

// The address follows the view: a new history entry for what a user would go back to, the
// camera only replaces the current one (a drag would otherwise fill the history).
let linkTimer = null;
function saveLink(push) {
  if (!state.model) return;
  const text = linkText(state);
  clearTimeout(linkTimer);
  if (text === location.hash) return;
  if (push) history.pushState(null, "", text);
  else linkTimer = setTimeout(() => history.replaceState(null, "", linkText(state)), 250);
}

function linkNote(notes) {
  $("link-note").hidden = !notes.length;
  $("link-note").textContent = notes.length ? `The link could not be followed in full: ${notes.join("; ")}. Showing the default instead.` : "";
}

function buildChips() {
  const chips = state.emb.label_names.map((name, label) => {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "chip";
    chip.setAttribute("aria-pressed", String(!state.hidden.has(label)));
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = TAB10[label % TAB10.length];
    chip.append(swatch, name);
    chip.addEventListener("click", () => {
      const shown = state.hidden.has(label);
      if (shown) state.hidden.delete(label);
      else state.hidden.add(label);
      chip.setAttribute("aria-pressed", String(shown));
      plot.renderer.setShown(state.emb.label_names.map((_, k) => !state.hidden.has(k)));
      saveLink(true);
    });
    return chip;
  });
  $("labels").replaceChildren(...chips);
}

const VIEW_NOTES = {
  tsne2d: "t-SNE has no inverse: click points (not empty space) to decode them; drawings are " +
    "marked at their nearest point.",
  umap2d: "UMAP (computed at export, fitted on train): click points to decode them; drawings are " +
    "marked at their nearest point. Drag to pan, scroll to zoom.",
  pca2d: "PCA 2-D: the top two principal axes of the train latents. Drag to pan, scroll to zoom.",
};

function plotNote(emb, problem = "") {
  if (!emb) {
    $("plot-note").textContent = `No points to plot: ${problem} Drawing, sliders, sampling and ` +
      "interpolation still work.";
    return;
  }
  const d = emb.latent_dim;
  const pca = emb.view3d_method === "pca";
  const notes = [VIEW_NOTES[state.view] ?? "Drag to rotate, scroll to zoom, hover for the digit, click a point to decode it.",
    state.view === "view3d" && pca ? `Axes: PCA of the D = ${d} latent.` : "",
    "Lasso (or Shift + drag) selects points."];
  if (state.box) notes.push(`Sliders move through the ${pca ? "PCA box (mapped back to the latent)" : "latent box"}.`);
  if (!emb.latents && !state.box) {
    notes.push(`${state.model} serves no raw latents (D = ${d}), so its points cannot be ` +
      "decoded: draw, sample, or interpolate between two drawings instead.");
  }
  $("plot-note").textContent = notes.filter(Boolean).join(" ");
}

function resetSelections() {
  Object.assign(state, { current: null, drawn: null, a: null, b: null, rows: [] });
  if ($("decoded").src.startsWith("blob:")) URL.revokeObjectURL($("decoded").src);
  $("decoded").removeAttribute("src");
  $("decoded-caption").textContent = "Click a point in the plot.";
  $("a-caption").textContent = "A: not set";
  $("b-caption").textContent = "B: not set";
  $("interpolate").disabled = true;
  $("strip").hidden = true;
  $("samples").hidden = true;
  $("selection-panel").hidden = true;
  pad.clear();
  paintPixels($("recon"), Array.from({ length: 28 }, () => new Array(28).fill(0)));
}

// The split picker offers train and all only when the model has train embeddings.
function fillSplits(manifest, notes) {
  const hasTrain = Boolean(manifest.embeddings.splits?.train);
  for (const option of $("split").options) option.disabled = option.value !== "test" && !hasTrain;
  if (!hasTrain && state.split !== "test") {
    notes.push(`${state.model} has no ${state.split} points`);
    state.split = "test";
  }
  $("split").value = state.split;
}

// The split's points; when /embeddings fails (a missing file, a 5xx), the plot says so and
// everything that does not need the points keeps working.
async function loadPoints() {
  status(`loading ${shown()} ${state.split} points…`);
  const started = performance.now();
  try {
    state.emb = await loadEmbeddings(q(), state.split);
  } catch (err) {
    state.emb = null;
    plotDiv.dataset.format = "";
    plotNote(null, `the ${state.split} points of ${shown()} could not be loaded (${err.message}).`);
    status(`${shown()}: no ${state.split} points (${err.message})`, true);
    return false;
  }
  plotDiv.dataset.loadMs = String(Math.round(performance.now() - started));
  plotDiv.dataset.format = state.emb.format;
  return true;
}

// The views this table can draw; the picked one falls back to 3-D when it has no columns.
function fillViews(notes) {
  const emb = state.emb;
  for (const option of $("view").options) option.disabled = !emb || !coordsOf(emb, option.value, 0);
  if (emb && !coordsOf(emb, state.view, 0)) {
    if (state.view !== "view3d") notes.push(`the ${state.view} view is not available here`);
    state.view = "view3d";
    state.camera = null;
  }
  $("view").value = state.view;
  if (emb) $("view").options[0].textContent = emb.view3d_method === "latent" ? "3-D latent" : "3-D PCA";
}

function pointsStatus() {
  if (state.emb) status(`${shown()}: ${state.emb.count} ${state.split} points, D = ${state.emb.latent_dim}`);
}

async function selectSplit(split, notes = []) {
  state.split = split;
  state.rows = [];
  const ok = await loadPoints();
  fillViews(notes);
  if (ok) plotNote(state.emb);
  redraw();
  if (state.lasso) selectLasso(state.lasso);
  else $("selection-panel").hidden = true;
  pointsStatus();
}

// The version picker: the model's served versions, newest first, its default marked; a model
// serving one version shows it too (the picker is then disabled). Returns the version picked.
function fillVersions(name, wanted, notes = []) {
  const { version, versions = [version] } = state.listing[name];
  if (wanted != null && !versions.includes(wanted)) notes.push(`${name} serves no version ${wanted}`);
  const picked = versions.includes(wanted) ? wanted : version;
  const options = [...versions].sort((a, b) => b - a).map((v) =>
    new Option(v === version ? `${v} (default)` : String(v), String(v)));
  $("version").replaceChildren(...options);
  $("version").value = String(picked);
  $("version").disabled = versions.length < 2;
  $("version").title = versions.length < 2 ? `${name} serves one version` : "";
  return picked;
}

function sliders(manifest, emb) {
  state.box = emb || manifest.embeddings.view3d === "latent"
    ? sliderBox(manifest, emb ?? { view3d_method: manifest.embeddings.view3d }) : null;
  const latentView = manifest.embeddings.view3d === "latent";
  buildSliders(state.box, manifest.latent_dim, (v) => {
    const latent = state.box.toLatent(v);
    const at = v.map((x) => x.toFixed(2)).join(", ");
    const caption = latentView ? `z = (${at})` : `PCA position (${at})`;
    decodeLive({ latent, caption, where: placesOf(latent, v) });
  });
}

// Load a model version and show `link`'s split, view, camera, labels and lasso on it.
async function selectModel(name, wanted = null, link = {}, notes = []) {
  state.model = name;
  $("model").value = name;
  state.version = fillVersions(name, wanted, notes);
  document.body.dataset.version = String(state.version);
  status(`loading ${shown()}…`);
  const manifest = await getJSON(`/models/${encodeURIComponent(name)}?version=${state.version}`);
  state.manifest = manifest;
  Object.assign(state, { split: link.split ?? state.split, view: link.view ?? state.view,
    camera: link.camera ?? null, lasso: link.lasso ?? null });
  state.hidden = new Set((link.hidden ?? []).filter((k) => k < manifest.dataset.label_names.length));
  fillSplits(manifest, notes);
  fillLabelPicker(manifest);
  const ok = await loadPoints();
  const emb = state.emb;
  fillViews(notes);
  resetSelections();
  if (emb) buildChips();
  else $("labels").replaceChildren();
  sliders(manifest, emb);
  if (ok) plotNote(emb);
  const mean = manifest.prior.mean;
  guard(() => decodeTo({
    latent: mean, caption: `the prior's mean; ${state.box ? "move the sliders or " : ""}` +
      (emb?.latents || state.box ? "click a point" : "draw a digit"),
    where: { ...placesOf(mean, manifest.embeddings.view3d === "latent" ? mean : null), tsne2d: null, umap2d: null },
  }));
  fillCard(name, state.version, manifest);
  if ($("card").open) guard(() => loadGallery(name, state.version, manifest));
  redraw();
  if (state.lasso) selectLasso(state.lasso);
  pointsStatus();
}

async function sendDrawing(blob) {
  if (!blob && !pad.hasInk()) return;
  const r = await reconstruct(q(), blob || (await pad.blob()));
  if (blob) showOnPad($("pad"), r.input);
  paintPixels($("recon"), r.pixels);
  const where = placesOf(r.latent, r.view3d);
  state.drawn = { latent: r.latent, caption: "your drawing", where };
  state.current = state.drawn;
  plot.placeMarker("drawing", where[state.view] ?? null);
  plotDiv.dataset.drawing = where[state.view] ? "placed" : "none";
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

function changeView(view) {
  state.view = view;
  state.camera = null;
  plotNote(state.emb);
  redraw();
  saveLink(true);
}

function wire() {
  $("model").addEventListener("change", (e) => guard(async () => {
    await selectModel(e.target.value, null, { split: state.split, view: state.view });
    saveLink(true);
  }));
  $("version").addEventListener("change", (e) => guard(async () => {
    await selectModel(state.model, Number(e.target.value), { split: state.split, view: state.view });
    saveLink(true);
  }));
  $("split").addEventListener("change", (e) => guard(async () => {
    await selectSplit(e.target.value);
    saveLink(true);
  }));
  $("view").addEventListener("change", (e) => changeView(e.target.value));
  $("lasso").addEventListener("click", () => {
    const on = $("lasso").getAttribute("aria-pressed") !== "true";
    $("lasso").setAttribute("aria-pressed", String(on));
  });
  $("selection-clear").addEventListener("click", () => { selectLasso(null); saveLink(true); });
  $("copy-link").addEventListener("click", () => {
    saveLink(true);
    navigator.clipboard?.writeText(location.href).catch(() => {});
    status(`link: ${location.href}`);
  });
  $("api-key").addEventListener("change", (e) => {
    setApiKey(e.target.value.trim());
    guard(start);
  });
  $("clear").addEventListener("click", () => {
    pad.clear();
    state.drawn = null;
    plot.placeMarker("drawing", null);
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
  window.addEventListener("popstate", () => guard(followLink));
  window.addEventListener("hashchange", () => guard(followLink));
}

// Open what the address names: the fragment's link, else ?model=&version= (as in the API),
// else the default; whatever cannot be followed is named in a visible note.
let followed = null;
async function followLink() {
  if (followed !== null && location.hash === followed) return;
  followed = location.hash;
  const params = new URLSearchParams(location.search);
  const { link, bad } = readLink();
  const notes = [...bad];
  const names = Object.keys(state.listing);
  let name = link.model ?? params.get("model");
  let version = link.version ?? (params.has("version") ? Number(params.get("version")) : null);
  if (name != null && !names.includes(name)) {
    notes.push(`no model named ${JSON.stringify(name)} is served`);
    name = null;
    version = null;
  }
  const fallback = state.listing.default ?? names[0];
  const same = name === state.model && (version ?? state.version) === state.version && state.manifest;
  if (same && (link.split ?? "test") === state.split) {
    Object.assign(state, { view: link.view ?? "view3d", camera: link.camera ?? null, lasso: link.lasso ?? null });
    state.hidden = new Set(link.hidden ?? []);
    buildChips();
    fillViews(notes);
    plotNote(state.emb);
    redraw();
    selectLasso(state.lasso);
  } else {
    await selectModel(name ?? fallback, version, notes.length ? {} : link, notes);
  }
  linkNote(notes);
  followed = location.hash;
}

async function start() {
  const list = await getJSON("/models");
  const names = list.models.map((m) => m.name);
  if (!names.length) throw new Error("the service has no models loaded");
  state.listing = Object.fromEntries(list.models.map((m) => [m.name, m]));
  Object.defineProperty(state.listing, "default", { value: list.default ?? names[0], enumerable: false });
  $("model").replaceChildren(...names.map((name) => new Option(name, name)));
  await followLink();
  document.body.dataset.ready = "true";
}

const plot = createPlot(plotDiv, {
  onHover, onClick: onPointClick, onLasso, lassoOn: () => $("lasso").getAttribute("aria-pressed") === "true",
  onCamera: (camera) => { state.camera = camera; saveLink(false); },
});
window.explorer = { state, plot }; // for the browser tests and the benchmark
wire();
guard(start);
