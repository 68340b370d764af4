// Calls to the latentlab API from the page: JSON in and out, PNGs as object URLs, the
// service's one error shape turned into an Error whose message is the service's own.

const KEY_STORE = "latentlab-api-key";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function setApiKey(key) {
  if (key) localStorage.setItem(KEY_STORE, key);
  else localStorage.removeItem(KEY_STORE);
}

async function call(path, { method = "GET", body, type, accept } = {}) {
  const headers = {};
  const key = localStorage.getItem(KEY_STORE);
  if (key) headers["X-API-Key"] = key;
  if (type) headers["Content-Type"] = type;
  if (accept) headers.Accept = accept;
  const r = await fetch(path, { method, body, headers });
  if (!r.ok) {
    const doc = await r.json().catch(() => ({}));
    const err = doc.error || {};
    throw new ApiError(r.status, err.code || "error", err.message || `${r.status} on ${path}`);
  }
  return r;
}

// A GET whose body the caller reads (e.g. as an ArrayBuffer).
export async function fetchFrom(path, accept) {
  return call(path, { accept });
}

export async function getJSON(path) {
  return (await call(path, { accept: "application/json" })).json();
}

export async function postJSON(path, doc) {
  const body = JSON.stringify(doc);
  const r = await call(path, { method: "POST", body, type: "application/json", accept: "application/json" });
  return r.json();
}

// A PNG reply as an object URL, for showImage.
export async function pngURL(path, { method = "GET", doc } = {}) {
  const body = doc === undefined ? undefined : JSON.stringify(doc);
  const type = body === undefined ? undefined : "application/json";
  const r = await call(path, { method, body, type, accept: "image/png" });
  return { url: URL.createObjectURL(await r.blob()), headers: r.headers };
}

// Put an object URL in an <img>, releasing the one it showed before.
export function showImage(img, url) {
  if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
  img.src = url;
  img.hidden = false;
}

// The query naming the model version the page looks at: every model call carries it.
export function modelQuery(model, version) {
  const v = version == null ? "" : `&version=${encodeURIComponent(version)}`;
  return `model=${encodeURIComponent(model)}${v}`;
}

// An image (PNG blob or uploaded file) -> /reconstruct as JSON: latent, view3d, pixels, mse.
// `query` is modelQuery's.
export async function reconstruct(query, blob) {
  const path = `/reconstruct?${query}`;
  const type = blob.type || "application/octet-stream";
  const r = await call(path, { method: "POST", body: blob, type, accept: "application/json" });
  return r.json();
}

// Run `fn` at most once at a time and at most every `ms`; calls made meanwhile collapse
// into one trailing call with the newest arguments, so live updates never pile up.
export function throttled(fn, ms) {
  let busy = false;
  let pending = null;
  const run = async (args) => {
    busy = true;
    const started = performance.now();
    try {
      await fn(...args);
    } finally {
      const wait = Math.max(0, ms - (performance.now() - started));
      setTimeout(() => {
        busy = false;
        if (pending) {
          const next = pending;
          pending = null;
          run(next);
        }
      }, wait);
    }
  };
  return (...args) => {
    if (busy) pending = args;
    else run(args);
  };
}
