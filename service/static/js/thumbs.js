// Thumbnails: each point's own digit, cut from its split's sprite atlas (GET /sprites/{dataset}:
// one PNG per split, images tiled row-major, the Embedding Projector's convention). The
// listing and each atlas are fetched on the first hover that needs them, then kept.

import { getJSON } from "./api.js";

const listings = new Map(); // dataset -> Promise of {split: {url, columns, single_image_dim}}
const atlases = new Map(); // url -> Promise of a decoded Image

function listing(dataset) {
  if (!listings.has(dataset)) {
    listings.set(dataset, getJSON(`/sprites/${encodeURIComponent(dataset)}`)
      .then((doc) => doc.splits).catch(() => ({})));
  }
  return listings.get(dataset);
}

function atlas(url) {
  if (!atlases.has(url)) {
    atlases.set(url, new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error(`cannot load the sprite atlas ${url}`));
      img.src = url;
    }));
  }
  return atlases.get(url);
}

// Paint image `index` of `split` of `dataset` on `canvas`; false when there is no atlas.
export async function paintThumbnail(canvas, dataset, split, index) {
  const spec = (await listing(dataset))[split];
  if (!spec || index >= spec.count) return false;
  const img = await atlas(spec.url);
  const [h, w] = spec.single_image_dim;
  const sx = (index % spec.columns) * w;
  const sy = Math.floor(index / spec.columns) * h;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(img, sx, sy, w, h, 0, 0, canvas.width, canvas.height);
  canvas.dataset.shows = `${dataset}/${split}/${index}`;
  return true;
}
