// The view as a link: model, version, split, view, camera, hidden labels and the lasso live
// in the address's fragment (#model=mlp3d&version=1&split=test&view=umap2d&cam=...&lasso=...),
// so a pasted link opens the same view and back/forward step through views.

import { cameraFromText, cameraToText } from "./camera.js";

export const VIEWS = ["view3d", "tsne2d", "umap2d", "pca2d"];
const SPLITS = ["test", "train", "all"];

// The fragment as a state, and what in it could not be read (a list of notes).
export function readLink(hash = location.hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const link = {};
  const bad = [];
  if (params.has("model")) link.model = params.get("model");
  if (params.has("version")) {
    const v = Number(params.get("version"));
    if (Number.isInteger(v) && v > 0) link.version = v;
    else bad.push(`version ${JSON.stringify(params.get("version"))} is not a version number`);
  }
  for (const [key, allowed] of [["split", SPLITS], ["view", VIEWS]]) {
    if (!params.has(key)) continue;
    if (allowed.includes(params.get(key))) link[key] = params.get(key);
    else bad.push(`${key} ${JSON.stringify(params.get(key))} is not one of ${allowed.join(", ")}`);
  }
  if (params.has("cam")) {
    const cam = cameraFromText(params.get("cam"));
    if (cam) link.camera = cam;
    else bad.push("the camera in the link is malformed");
  }
  if (params.has("hide")) {
    const hide = params.get("hide").split(",").filter(Boolean).map(Number);
    if (hide.every((k) => Number.isInteger(k) && k >= 0 && k < 16)) link.hidden = hide;
    else bad.push("the hidden labels in the link are malformed");
  }
  if (params.has("lasso")) {
    const lasso = lassoFromText(params.get("lasso"));
    if (lasso) link.lasso = lasso;
    else bad.push("the lasso in the link is malformed");
  }
  return { link, bad };
}

export function linkText(s) {
  const params = new URLSearchParams();
  params.set("model", s.model);
  params.set("version", String(s.version));
  params.set("split", s.split);
  params.set("view", s.view);
  if (s.camera) params.set("cam", cameraToText(s.camera));
  if (s.hidden?.size) params.set("hide", [...s.hidden].sort((a, b) => a - b).join(","));
  if (s.lasso) params.set("lasso", lassoToText(s.lasso));
  return `#${params.toString()}`;
}

// A lasso: the view it was drawn in, the camera and aspect it was drawn under, and its
// outline in normalised device coordinates; enough to select the same points again.
function lassoToText({ view, camera, aspect, polygon }) {
  const r = (v) => Number(v.toFixed(4));
  return [view, cameraToText(camera), r(aspect), polygon.map(([x, y]) => `${r(x)},${r(y)}`).join(";")]
    .join("~");
}

function lassoFromText(text) {
  const [view, cam, aspect, points] = (text || "").split("~");
  const camera = cameraFromText(cam);
  const polygon = (points || "").split(";").map((p) => p.split(",").map(Number));
  const ok = VIEWS.includes(view) && camera && Number(aspect) > 0 && polygon.length >= 3 &&
    polygon.every((p) => p.length === 2 && p.every(Number.isFinite));
  return ok ? { view, camera, aspect: Number(aspect), polygon } : null;
}
