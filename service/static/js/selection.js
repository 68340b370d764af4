// The lasso's selection panel: how many points of each label, the selection's mean latent
// decoded, and the selection (split, index, label, latent) as a CSV download.

import { pngURL, showImage } from "./api.js";
import { latentAt, splitOf } from "./embeddings.js";

const $ = (id) => document.getElementById(id);

// The mean latent of `rows`: from the raw latents when served, else (a PCA model) the mean of
// their 3-D positions mapped back by `toLatent` (approximate), else null.
export function meanLatent(emb, rows, toLatent) {
  if (!rows.length) return null;
  if (emb.latents) {
    const d = emb.latent_dim;
    const sum = new Float64Array(d);
    for (const i of rows) for (let k = 0; k < d; k++) sum[k] += emb.latents[i * d + k];
    return Array.from(sum, (v) => v / rows.length);
  }
  if (!toLatent) return null;
  const m = [0, 0, 0];
  for (const i of rows) { m[0] += emb.x[i]; m[1] += emb.y[i]; m[2] += emb.z[i]; }
  return toLatent(m.map((v) => v / rows.length));
}

export function selectionCSV(emb, rows) {
  const d = emb.latents ? emb.latent_dim : 0;
  const header = ["split", "index", "label", ...(d ? Array.from({ length: d }, (_, k) => `z${k}`) : ["x", "y", "z"])];
  const lines = [header.join(",")];
  for (const i of rows) {
    const values = d ? latentAt(emb, i).map((v) => v.toPrecision(6)) : [emb.x[i], emb.y[i], emb.z[i]];
    lines.push([splitOf(emb, i), emb.index[i], emb.label_names[emb.labels[i]], ...values].join(","));
  }
  return lines.join("\n") + "\n";
}

// Fill the panel for `rows` (row numbers in `emb`); `query` names the model for /decode.
export async function showSelection(emb, rows, query, toLatent) {
  const panel = $("selection-panel");
  panel.hidden = !rows.length;
  panel.dataset.count = String(rows.length);
  if (!rows.length) return;
  const counts = new Map();
  for (const i of rows) counts.set(emb.labels[i], (counts.get(emb.labels[i]) || 0) + 1);
  $("selection-count").textContent = `${rows.length} points selected`;
  $("selection-labels").replaceChildren(...[...counts].sort((a, b) => a[0] - b[0]).map(([label, n]) => {
    const row = document.createElement("tr");
    for (const text of [emb.label_names[label], String(n)]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  }));
  const link = $("selection-csv");
  if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([selectionCSV(emb, rows)], { type: "text/csv" }));
  link.download = `${emb.model}-${emb.split}-selection.csv`;
  const mean = meanLatent(emb, rows, toLatent);
  $("selection-mean-caption").textContent = mean
    ? `their mean latent, decoded${emb.latents ? "" : " (from their mean PCA position: approximate)"}`
    : "no latents served for this model: the mean cannot be decoded";
  if (mean) showImage($("selection-mean"), (await pngURL(`/decode?${query}`, { method: "POST", doc: { latent: mean } })).url);
  else $("selection-mean").hidden = true;
}
