// The point renderer: every point of a view in one gl.POINTS draw call (regl, vendored), a
// 3-D orbit or a 2-D pan/zoom camera, and picking by an id buffer: the points drawn once
// more with their row number as colour, read back once per camera change, so a mouse move
// only looks up a few pixels. Above SUBSET_ABOVE points a drag draws every k-th point and
// the full set returns when the drag stops.

import { defaultCamera, drag, fit, multiply, project, viewMatrix, zoom } from "./camera.js";

const SUBSET_ABOVE = 300_000; // points drawn in full even while dragging, up to this many
const PICK_RADIUS = 6; // pixels around the pointer that count as pointing at a point

const VERT = `
precision highp float;
attribute vec3 position;
attribute float label;
attribute float selected;
uniform mat4 matrix;
uniform float size;
uniform vec3 colors[16];
uniform float shown[16];
uniform float anySelected;
varying vec4 color;
void main() {
  int k = int(label);
  float on = 0.0;
  vec3 c = vec3(0.5);
  for (int j = 0; j < 16; j++) { if (j == k) { on = shown[j]; c = colors[j]; } }
  gl_Position = on > 0.5 ? matrix * vec4(position, 1.0) : vec4(2.0, 2.0, 2.0, 1.0);
  float dim = anySelected > 0.5 && selected < 0.5 ? 0.25 : 1.0;
  color = vec4(mix(vec3(0.93), c, dim), 1.0);
  gl_PointSize = size * (anySelected > 0.5 && selected > 0.5 ? 1.6 : 1.0);
}`;

const FRAG = `
precision mediump float;
varying vec4 color;
void main() { gl_FragColor = color; }`;

const PICK_VERT = `
precision highp float;
attribute vec3 position;
attribute float label;
attribute vec3 id;
uniform mat4 matrix;
uniform float size;
uniform float shown[16];
varying vec3 vid;
void main() {
  int k = int(label);
  float on = 0.0;
  for (int j = 0; j < 16; j++) { if (j == k) on = shown[j]; }
  gl_Position = on > 0.5 ? matrix * vec4(position, 1.0) : vec4(2.0, 2.0, 2.0, 1.0);
  gl_PointSize = size;
  vid = id;
}`;

const PICK_FRAG = `
precision mediump float;
varying vec3 vid;
void main() { gl_FragColor = vec4(vid, 1.0); }`;

const hexToRgb = (hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16) / 255);

export function createRenderer(canvas, palette, handlers) {
  const regl = window.createREGL({ canvas, attributes: { antialias: false, alpha: false } });
  const buffers = { position: regl.buffer({ usage: "static", type: "float" }),
    label: regl.buffer({ type: "float" }), selected: regl.buffer({ type: "uint8" }),
    id: regl.buffer({ type: "uint8" }) };
  const pickFbo = regl.framebuffer({ width: 1, height: 1, depth: true });
  const colors = palette.map(hexToRgb);
  const r = { count: 0, positions: null, is3d: true, model: new Float32Array(16), camera: null,
    shown: new Array(16).fill(1), anySelected: 0, dragging: false, frames: 0, lastFrameMs: 0,
    dirty: true, pickDirty: true, pickPixels: null, markers: {} };
  const uniforms = { matrix: regl.prop("matrix"), size: regl.prop("size"),
    anySelected: regl.prop("anySelected") };
  for (let j = 0; j < 16; j++) {
    uniforms[`colors[${j}]`] = colors[j % colors.length];
    uniforms[`shown[${j}]`] = (_, p) => p.shown[j];
  }
  const attrs = (withId) => {
    const a = { position: (_, p) => ({ buffer: buffers.position, stride: 12 * p.step }),
      label: (_, p) => ({ buffer: buffers.label, stride: 4 * p.step }) };
    if (withId) a.id = { buffer: buffers.id, normalized: true, size: 3 };
    else a.selected = (_, p) => ({ buffer: buffers.selected, stride: p.step });
    return a;
  };
  const drawPoints = regl({ vert: VERT, frag: FRAG, attributes: attrs(false), uniforms,
    count: regl.prop("count"), primitive: "points", depth: { enable: true } });
  const drawIds = regl({ vert: PICK_VERT, frag: PICK_FRAG, attributes: attrs(true), uniforms,
    count: regl.prop("count"), primitive: "points", framebuffer: pickFbo, depth: { enable: true } });

  const aspect = () => canvas.width / Math.max(1, canvas.height);
  const matrix = () => multiply(viewMatrix(r.camera, aspect()), r.model);
  const dpr = () => window.devicePixelRatio || 1;
  const pointSize = () => (r.count > 3000 ? 2.5 : 5) * dpr();
  const props = (full) => {
    const step = !full && r.count > SUBSET_ABOVE ? Math.ceil(r.count / SUBSET_ABOVE) : 1;
    return { matrix: matrix(), size: pointSize(), anySelected: r.anySelected, shown: r.shown,
      count: Math.floor(r.count / step), step };
  };

  function resize() {
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr()));
    const h = Math.max(1, Math.round(canvas.clientHeight * dpr()));
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
      r.dirty = r.pickDirty = true;
    }
  }

  function frame() {
    r.scheduled = false;
    resize();
    if (!r.dirty) return;
    const started = performance.now();
    regl.poll();
    regl.clear({ color: [1, 1, 1, 1], depth: 1 });
    if (r.count) drawPoints(props(!r.dragging));
    r.dirty = false;
    r.frames += 1;
    r.lastFrameMs = performance.now() - started;
    canvas.dataset.frames = String(r.frames);
    placeMarkers();
    handlers.onFrame?.();
  }

  function redraw() {
    r.dirty = true;
    if (!r.scheduled) {
      r.scheduled = true;
      requestAnimationFrame(frame);
    }
  }

  function pickPixels() {
    if (!r.pickDirty && r.pickPixels) return r.pickPixels;
    pickFbo.resize(canvas.width, canvas.height);
    regl.clear({ color: [0, 0, 0, 0], depth: 1, framebuffer: pickFbo });
    if (r.count) drawIds({ ...props(true), size: Math.max(pointSize(), 4 * dpr()) });
    r.pickPixels = regl.read({ framebuffer: pickFbo });
    r.pickDirty = false;
    return r.pickPixels;
  }

  // The row under page-relative client point (x, y), or -1.
  function pick(clientX, clientY) {
    if (!r.count) return -1;
    const box = canvas.getBoundingClientRect();
    const px = Math.round((clientX - box.left) * dpr());
    const py = Math.round((box.bottom - clientY) * dpr()); // the framebuffer's rows go up
    const pixels = pickPixels();
    const rad = Math.round(PICK_RADIUS * dpr());
    let best = -1;
    let bestD = Infinity;
    for (let dy = -rad; dy <= rad; dy++) {
      for (let dx = -rad; dx <= rad; dx++) {
        const x = px + dx;
        const y = py + dy;
        if (x < 0 || y < 0 || x >= canvas.width || y >= canvas.height) continue;
        const o = (y * canvas.width + x) * 4;
        const id = pixels[o] * 65536 + pixels[o + 1] * 256 + pixels[o + 2];
        const d = dx * dx + dy * dy;
        if (id > 0 && d < bestD) [best, bestD] = [id - 1, d];
      }
    }
    return best;
  }

  // Screen position (CSS pixels in the canvas) of data point p = [x, y, z?], or null.
  function toScreen(p) {
    const at = project(matrix(), p[0], p[1], p[2] ?? 0);
    if (!at) return null;
    return [(at[0] + 1) / 2 * canvas.clientWidth, (1 - at[1]) / 2 * canvas.clientHeight];
  }

  function placeMarkers() {
    for (const [name, { el, point }] of Object.entries(r.markers)) {
      const at = point && toScreen(point);
      el.hidden = !at;
      if (at) el.style.transform = `translate(${at[0]}px, ${at[1]}px)`;
    }
  }

  wirePointer(canvas, r, { pick, redraw, handlers });
  return {
    regl,
    // Columns x, y (and z for 3-D) and labels; the camera to start from (or the default).
    setPoints({ x, y, z, labels }, camera = null) {
      const n = labels.length;
      const pos = new Float32Array(n * 3);
      const ids = new Uint8Array(n * 3);
      for (let i = 0; i < n; i++) {
        pos[3 * i] = x[i];
        pos[3 * i + 1] = y[i];
        pos[3 * i + 2] = z ? z[i] : 0;
        const id = i + 1;
        ids[3 * i] = id >> 16;
        ids[3 * i + 1] = (id >> 8) & 255;
        ids[3 * i + 2] = id & 255;
      }
      buffers.position(pos);
      buffers.label(Float32Array.from(labels));
      buffers.id(ids);
      buffers.selected(new Uint8Array(n));
      Object.assign(r, { count: n, positions: pos, labels, is3d: Boolean(z), model: fit(x, y, z),
        anySelected: 0, camera: camera ?? defaultCamera(Boolean(z)), pickDirty: true });
      redraw();
    },
    clear() {
      r.count = 0;
      r.positions = null;
      redraw();
    },
    get count() { return r.count; },
    get camera() { return r.camera; },
    set camera(c) { r.camera = c; r.pickDirty = true; redraw(); },
    get frames() { return r.frames; },
    get lastFrameMs() { return r.lastFrameMs; },
    setShown(labels) { labels.forEach((v, j) => { r.shown[j] = v ? 1 : 0; }); r.pickDirty = true; redraw(); },
    setSelected(rows) {
      const flags = new Uint8Array(r.count);
      for (const i of rows ?? []) flags[i] = 1;
      buffers.selected(flags);
      r.anySelected = rows && rows.length ? 1 : 0;
      redraw();
    },
    aspect,
    toScreen,
    pick,
    // A DOM marker (the drawing, the selection) kept over data point `point` (null hides it).
    setMarker(name, el, point) { r.markers[name] = { el, point }; placeMarkers(); },
    redraw,
  };
}

// Drag to orbit (3-D) or pan (2-D), wheel to zoom, click to pick, hover to point; with the
// lasso on (or Shift held), a drag draws a lasso instead.
function wirePointer(canvas, r, { pick, redraw, handlers }) {
  let down = null;
  let hoverQueued = null;
  canvas.addEventListener("pointerdown", (e) => {
    canvas.setPointerCapture(e.pointerId);
    const lasso = handlers.lassoOn() || e.shiftKey;
    down = { x: e.clientX, y: e.clientY, lastX: e.clientX, lastY: e.clientY, moved: false, lasso,
      path: lasso ? [[e.clientX, e.clientY]] : null };
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!down) {
      if (!hoverQueued) requestAnimationFrame(() => {
        const ev = hoverQueued;
        hoverQueued = null;
        handlers.onHover(pick(ev.clientX, ev.clientY), ev.clientX, ev.clientY);
      });
      hoverQueued = { clientX: e.clientX, clientY: e.clientY };
      return;
    }
    const [dx, dy] = [e.clientX - down.lastX, e.clientY - down.lastY];
    if (Math.abs(e.clientX - down.x) + Math.abs(e.clientY - down.y) > 3) down.moved = true;
    down.lastX = e.clientX;
    down.lastY = e.clientY;
    if (down.lasso) {
      down.path.push([e.clientX, e.clientY]);
      handlers.onLassoPath(down.path);
      return;
    }
    if (!down.moved) return;
    r.dragging = true;
    r.camera = drag(r.camera, dx, dy, canvas.clientHeight);
    r.pickDirty = true;
    handlers.onHover(-1);
    redraw();
  });
  const end = (e) => {
    if (!down) return;
    const was = down;
    down = null;
    if (was.lasso) {
      handlers.onLasso(was.moved && was.path.length > 2 ? was.path : null);
      return;
    }
    if (r.dragging) {
      r.dragging = false;
      redraw(); // the full set again
      handlers.onCamera(r.camera);
    } else if (!was.moved && e.type === "pointerup") {
      handlers.onClick(pick(e.clientX, e.clientY));
    }
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("pointerleave", () => { if (!down) handlers.onHover(-1); });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    r.camera = zoom(r.camera, Math.exp(e.deltaY * 0.001));
    r.pickDirty = true;
    redraw();
    handlers.onCamera(r.camera);
  }, { passive: false });
}
