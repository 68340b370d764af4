// The side panels that only call the API: sample grid, interpolation strip, model card.
// `query` is api.js modelQuery's: the model and the version the page looks at.

import { pngURL, showImage } from "./api.js";

const $ = (id) => document.getElementById(id);
export async function showSamples(query, randomSeed) {
  const seedField = $("seed");
  const seed = randomSeed ? "" : `&seed=${Number(seedField.value) || 0}`;
  const label = $("sample-label").value;
  const labels = label ? `&label=${encodeURIComponent(label)}` : "";
  const prior = `&prior=${$("sample-prior").value || "auto"}`;
  const path = `/sample?${query}&n=${$("n").value}${seed}${labels}${prior}`;
  const { url, headers } = await pngURL(path);
  seedField.value = headers.get("X-Seed") ?? seedField.value;
  showImage($("samples"), url);
}

// The label picker: "any" (the prior), each label, or all labels in turn; only for models
// whose manifest has label priors.
export function fillLabelPicker(manifest) {
  const picker = $("sample-label");
  const names = manifest.label_priors ? manifest.label_priors.labels.map((p) => p.name) : [];
  const options = [new Option("any (prior)", "")];
  if (names.length) options.push(new Option("each in turn", names.map((_, i) => i).join(",")));
  names.forEach((name, i) => options.push(new Option(name, String(i))));
  picker.replaceChildren(...options);
  picker.disabled = !names.length;
  picker.title = names.length ? "" : "this model has no label priors (python -m trainer refresh)";
  fillPriorPicker(manifest);
}

// The prior picker: auto (the learned prior where it measured better), learned, gaussian;
// learned only for models whose manifest has a learned prior (prior.onnx).
function fillPriorPicker(manifest) {
  const picker = $("sample-prior");
  const learned = manifest.learned_prior;
  const options = [new Option(learned?.preferred ? "auto (learned)" : "auto (gaussian)", "auto")];
  if (learned) options.push(new Option("learned", "learned"));
  options.push(new Option("gaussian", "gaussian"));
  picker.replaceChildren(...options);
  picker.title = learned ? "" : "this model has no learned prior (python -m trainer refresh)";
}

export async function showStrip(query, a, b) {
  const steps = Math.min(32, Math.max(2, Number($("steps").value) || 10));
  $("steps").value = steps;
  const doc = { start: a.latent, end: b.latent, steps };
  showImage($("strip"), (await pngURL(`/interpolate?${query}`, { method: "POST", doc })).url);
}

function fmt(value) {
  if (typeof value !== "number" || Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toPrecision(4);
}

// Metric rows, with nested objects (sample_quality) flattened as "outer.inner".
function metricRows(metrics, prefix = "") {
  return Object.entries(metrics).flatMap(([key, value]) => {
    if (value === null) return [];
    if (typeof value === "object") return metricRows(value, `${prefix}${key}.`);
    return [[prefix + key, fmt(value)]];
  });
}

export function fillCard(model, version, manifest) {
  const m = manifest;
  const training = m.training ? `, trained ${m.training.epochs} epochs in ${fmt(m.training.seconds)} s` : "";
  $("card-summary").textContent =
    `${model} version ${version}: ${m.architecture}. Dataset ${m.dataset.name}; latent ${m.latent_shape.join("x")} ` +
    `(D = ${m.latent_dim}); prior ${m.prior.kind}${training}.`;
  const table = $("metrics");
  table.replaceChildren(...metricRows(m.metrics || {}).map(([key, value]) => {
    const row = document.createElement("tr");
    for (const text of [key, value]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  }));
  $("gallery").replaceChildren();
  $("gallery").dataset.loaded = "";
}

// The report pictures, fetched only once the card is opened (they weigh megabytes).
export async function loadGallery(model, version, manifest) {
  const gallery = $("gallery");
  const which = `${model}/${version}`;
  if (gallery.dataset.loaded === which) return;
  gallery.dataset.loaded = which;
  const files = manifest.report || [];
  if (!files.length) gallery.textContent = "No report pictures for this model.";
  for (const file of files) {
    const path = `/models/${encodeURIComponent(model)}/report/${encodeURIComponent(file)}?version=${version}`;
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    const caption = document.createElement("figcaption");
    img.alt = file;
    caption.textContent = file;
    const link = document.createElement("a"); // full size in a new tab
    link.target = "_blank";
    link.append(img);
    figure.append(link, caption);
    gallery.append(figure);
    img.src = link.href = (await pngURL(path)).url;
  }
}
