// The embeddings plot: the point renderer (renderer.js) on a canvas, with DOM overlays for
// what is not a point: the drawing (◆) and selection (○) markers, the hover tooltip with the
// digit's thumbnail, and the lasso's outline.

import { createRenderer } from "./renderer.js";

// matplotlib's tab10, the palette of the trainer's report pictures.
export const TAB10 = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
];

// Each view's columns in an embeddings table (embeddings.js): x, y and, for 3-D, z.
export const VIEW_COLUMNS = {
  view3d: ["x", "y", "z"], tsne2d: ["tx", "ty"], umap2d: ["ux", "uy"], pca2d: ["px", "py"],
};

export function coordsOf(emb, view, i) {
  const cols = VIEW_COLUMNS[view];
  if (!cols || !emb[cols[0]]) return null;
  return cols.map((c) => emb[c][i]);
}

function el(tag, className, parent) {
  const node = document.createElement(tag);
  node.className = className;
  parent.append(node);
  return node;
}

// Builds the plot inside `div`; `handlers`: onHover(row, x, y), onClick(row), onLasso(ndcPolygon
// or null), onCamera(camera), lassoOn().
export function createPlot(div, handlers) {
  div.replaceChildren();
  const canvas = el("canvas", "points", div);
  canvas.setAttribute("aria-label", "the points: drag to turn or pan, scroll to zoom");
  const lassoSvg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  lassoSvg.setAttribute("class", "lasso");
  const outline = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  lassoSvg.append(outline);
  div.append(lassoSvg);
  const markers = { drawing: el("div", "marker drawing", div), selected: el("div", "marker selected", div) };
  Object.values(markers).forEach((m) => { m.hidden = true; });
  const tooltip = el("div", "tooltip", div);
  tooltip.hidden = true;
  const thumb = el("canvas", "thumb", tooltip);
  thumb.width = thumb.height = 56;
  const caption = el("span", "thumb-caption", tooltip);
  const local = (path) => {
    const box = canvas.getBoundingClientRect();
    return path.map(([x, y]) => `${x - box.left},${y - box.top}`).join(" ");
  };
  const toNdc = (path) => {
    const box = canvas.getBoundingClientRect();
    return path.map(([x, y]) => [((x - box.left) / box.width) * 2 - 1, 1 - ((y - box.top) / box.height) * 2]);
  };
  const renderer = createRenderer(canvas, TAB10, {
    ...handlers,
    onLassoPath: (path) => outline.setAttribute("points", local(path)),
    onLasso: (path) => {
      outline.setAttribute("points", "");
      handlers.onLasso(path ? toNdc(path) : null);
    },
    onFrame: () => { div.dataset.frames = String(renderer.frames); },
  });
  return {
    renderer,
    canvas,
    // Draw `view` of `emb`; `hidden` labels off; `camera` null for the view's default.
    draw(emb, view, hidden, camera) {
      const [x, y, z] = VIEW_COLUMNS[view].map((c) => emb[c]);
      renderer.setPoints({ x, y, z: view === "view3d" ? z : null, labels: emb.labels }, camera);
      renderer.setShown(emb.label_names.map((_, k) => !hidden.has(k)));
    },
    placeMarker(name, point) { renderer.setMarker(name, markers[name], point); },
    showTooltip(x, y, text) {
      const box = div.getBoundingClientRect();
      tooltip.style.transform = `translate(${x - box.left + 14}px, ${y - box.top + 14}px)`;
      caption.textContent = text;
      tooltip.hidden = false;
      return thumb;
    },
    hideTooltip() { tooltip.hidden = true; },
    tooltip,
  };
}
