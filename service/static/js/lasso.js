// Which rows a lasso holds: the points of its view, seen through the camera and aspect it was
// drawn under, whose screen position (normalised device coordinates) is inside its outline.
// One pass over the points when a lasso is drawn or read from a link, never per mouse move.

import { fit, multiply, project, viewMatrix } from "./camera.js";
import { VIEW_COLUMNS } from "./plot.js";

export function rowsInLasso(emb, lasso, hidden) {
  const [x, y, z] = VIEW_COLUMNS[lasso.view].map((c) => emb[c]);
  if (!x) return [];
  const zs = lasso.view === "view3d" ? z : null;
  const matrix = multiply(viewMatrix(lasso.camera, lasso.aspect), fit(x, y, zs));
  const poly = lasso.polygon;
  const xs = poly.map((p) => p[0]);
  const ys = poly.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const rows = [];
  for (let i = 0; i < emb.count; i++) {
    if (hidden.has(emb.labels[i])) continue;
    const at = project(matrix, x[i], y[i], zs ? zs[i] : 0);
    if (!at || at[0] < x0 || at[0] > x1 || at[1] < y0 || at[1] > y1) continue;
    if (inside(at, poly)) rows.push(i);
  }
  return rows;
}

// Ray casting (the even-odd rule).
function inside([x, y], poly) {
  let hit = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}
