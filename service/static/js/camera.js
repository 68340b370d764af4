// The renderer's two cameras and the 4x4 matrices they need (column-major, as WebGL takes
// them). Points are first fitted into the unit cube around the origin (`fit`); the 3-D camera
// orbits that cube (yaw, pitch, distance), the 2-D one looks straight at it (centre, zoom).

export function multiply(a, b) {
  const out = new Float32Array(16);
  for (let c = 0; c < 4; c++) {
    for (let r = 0; r < 4; r++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[k * 4 + r] * b[c * 4 + k];
      out[c * 4 + r] = s;
    }
  }
  return out;
}

function perspective(fovy, aspect, near, far) {
  const f = 1 / Math.tan(fovy / 2);
  const nf = 1 / (near - far);
  return new Float32Array([f / aspect, 0, 0, 0, 0, f, 0, 0, 0, 0, (far + near) * nf, -1,
    0, 0, 2 * far * near * nf, 0]);
}

function orbitView(yaw, pitch, distance) {
  // The eye on a sphere around the origin, z up; the inverse rotation, then a step back.
  const [cy, sy, cp, sp] = [Math.cos(yaw), Math.sin(yaw), Math.cos(pitch), Math.sin(pitch)];
  const eye = [distance * cp * cy, distance * cp * sy, distance * sp];
  const f = eye.map((v) => -v / distance); // forward
  let s = [f[1] * 1 - f[2] * 0, f[2] * 0 - f[0] * 1, 0]; // forward x up(0,0,1)
  const n = Math.hypot(...s) || 1;
  s = s.map((v) => v / n);
  const u = [s[1] * f[2] - s[2] * f[1], s[2] * f[0] - s[0] * f[2], s[0] * f[1] - s[1] * f[0]];
  const dot = (a) => a[0] * eye[0] + a[1] * eye[1] + a[2] * eye[2];
  return new Float32Array([s[0], u[0], -f[0], 0, s[1], u[1], -f[1], 0, s[2], u[2], -f[2], 0,
    -dot(s), -dot(u), dot(f), 1]);
}

// The model matrix that maps the points' bounding box into [-1, 1] (its largest side).
export function fit(x, y, z) {
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  const cols = [x, y, z];
  for (let k = 0; k < 3; k++) {
    const col = cols[k];
    if (!col) { lo[k] = hi[k] = 0; continue; }
    for (let i = 0; i < col.length; i++) {
      const v = col[i];
      if (v < lo[k]) lo[k] = v;
      if (v > hi[k]) hi[k] = v;
    }
  }
  const span = Math.max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]) || 1;
  const s = 2 / span;
  const c = lo.map((l, k) => (l + hi[k]) / 2);
  return new Float32Array([s, 0, 0, 0, 0, s, 0, 0, 0, 0, s, 0, -c[0] * s, -c[1] * s, -c[2] * s, 1]);
}

export const defaultCamera = (is3d) => (is3d
  ? { kind: "orbit", yaw: 0.8, pitch: 0.5, distance: 3.6 }
  : { kind: "plane", cx: 0, cy: 0, zoom: 1.1 });

// Projection x view for `camera` at canvas `aspect` (width / height).
export function viewMatrix(camera, aspect) {
  if (camera.kind === "orbit") {
    return multiply(perspective(Math.PI / 5, aspect, 0.05, 50),
      orbitView(camera.yaw, camera.pitch, camera.distance));
  }
  const sx = 1 / (camera.zoom * Math.max(aspect, 1e-6));
  const sy = 1 / camera.zoom;
  return new Float32Array([sx, 0, 0, 0, 0, sy, 0, 0, 0, 0, -0.1, 0,
    -camera.cx * sx, -camera.cy * sy, 0, 1]);
}

// Move the camera by a drag of (dx, dy) pixels on a canvas `height` pixels tall.
export function drag(camera, dx, dy, height) {
  if (camera.kind === "orbit") {
    const pitch = Math.max(-1.5, Math.min(1.5, camera.pitch + dy * 0.01));
    return { ...camera, yaw: camera.yaw - dx * 0.01, pitch };
  }
  const per = (2 * camera.zoom) / height;
  return { ...camera, cx: camera.cx - dx * per, cy: camera.cy + dy * per };
}

export function zoom(camera, factor) {
  if (camera.kind === "orbit") {
    return { ...camera, distance: Math.max(0.5, Math.min(20, camera.distance * factor)) };
  }
  return { ...camera, zoom: Math.max(0.01, Math.min(20, camera.zoom * factor)) };
}

// A point through `matrix` (model already applied): [ndcX, ndcY] or null behind the eye.
export function project(matrix, x, y, z) {
  const w = matrix[3] * x + matrix[7] * y + matrix[11] * z + matrix[15];
  if (w <= 1e-6) return null;
  return [(matrix[0] * x + matrix[4] * y + matrix[8] * z + matrix[12]) / w,
    (matrix[1] * x + matrix[5] * y + matrix[9] * z + matrix[13]) / w];
}

// The camera as a short string for the address, and back (null when malformed).
export function cameraToText(c) {
  const r = (v) => Number(v.toFixed(4));
  return c.kind === "orbit" ? `o${r(c.yaw)},${r(c.pitch)},${r(c.distance)}`
    : `p${r(c.cx)},${r(c.cy)},${r(c.zoom)}`;
}

export function cameraFromText(text) {
  const m = /^([op])(-?[\d.e-]+),(-?[\d.e-]+),(-?[\d.e-]+)$/.exec(text || "");
  if (!m) return null;
  const [a, b, c] = [Number(m[2]), Number(m[3]), Number(m[4])];
  if (![a, b, c].every(Number.isFinite)) return null;
  if (m[1] === "o") return { kind: "orbit", yaw: a, pitch: Math.max(-1.5, Math.min(1.5, b)), distance: Math.max(0.5, Math.min(20, c)) };
  return { kind: "plane", cx: a, cy: b, zoom: Math.max(0.01, Math.min(20, c)) };
}
