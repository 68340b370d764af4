// /embeddings as columns: typed arrays the plot hands to WebGL as they are. Read from the
// Apache Arrow IPC stream when the vendored Arrow JS reader is loaded (smaller and much
// faster to parse than JSON at 70,000 points: see README), else from JSON.

import { fetchFrom, getJSON } from "./api.js";

const ARROW = "application/vnd.apache.arrow.stream";

// `query` names the model and version (api.js modelQuery).
export async function loadEmbeddings(query, split, format = window.Arrow ? "arrow" : "json") {
  const path = `/embeddings?${query}&split=${split}&format=${format}`;
  if (format !== "arrow") return { ...fromJSON(await getJSON(path)), format };
  const r = await fetchFrom(path, ARROW);
  return { ...fromArrow(new Uint8Array(await r.arrayBuffer())), format };
}

// The Arrow stream: one record batch; the JSON body's scalar fields in the schema metadata.
export function fromArrow(bytes) {
  const table = window.Arrow.tableFromIPC(bytes);
  const meta = JSON.parse(table.schema.metadata.get("latentlab"));
  const col = (name) => table.getChild(name)?.toArray() ?? null;
  const latent = table.getChild("latent");
  return {
    ...meta,
    labels: col("label"),
    index: col("index"),
    x: col("x"), y: col("y"), z: col("z"),
    tx: col("tsne_x"), ty: col("tsne_y"),
    // A FixedSizeList's child holds all N x D values in one Float32Array.
    latents: latent ? latent.data[0].children[0].values.subarray(0, meta.count * meta.latent_dim) : null,
  };
}

export function fromJSON(doc) {
  const column = (rows, k) => (rows ? Float32Array.from(rows, (p) => p[k]) : null);
  return {
    ...doc,
    labels: Int8Array.from(doc.labels),
    index: Int32Array.from(doc.index),
    x: column(doc.view3d, 0), y: column(doc.view3d, 1), z: column(doc.view3d, 2),
    tx: column(doc.tsne2d, 0), ty: column(doc.tsne2d, 1),
    latents: doc.latents ? Float32Array.from(doc.latents.flat()) : null,
  };
}

export const view3dAt = (emb, i) => [emb.x[i], emb.y[i], emb.z[i]];
export const tsneAt = (emb, i) => (emb.tx ? [emb.tx[i], emb.ty[i]] : null);
export const latentAt = (emb, i) => (emb.latents
  ? Array.from(emb.latents.subarray(i * emb.latent_dim, (i + 1) * emb.latent_dim)) : null);

// Which split point i came from (the "all" split is train, then test).
export function splitOf(emb, i) {
  const row = i + emb.offset;
  for (const [name, [start, stop]] of Object.entries(emb.split_ranges)) {
    if (row >= start && row < stop) return name;
  }
  return emb.split;
}
