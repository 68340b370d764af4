// Three sliders over a 3-D box, each position a latent to decode: for 3-D latents the box is
// the prior's (the train latents' low/high); for larger ones with a PCA projection in the
// manifest it is the plotted PCA box, mapped back to the latent by z = mean + axes @ v.

let inputs = [];

const range = (column) => column.reduce(
  ([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)], [Infinity, -Infinity]);

// The box and its map to a latent, or null when this model has none.
export function sliderBox(manifest, emb) {
  const { prior, embeddings } = manifest;
  if (emb.view3d_method === "latent" && prior.low && prior.high) {
    return { names: ["z1", "z2", "z3"], low: prior.low, high: prior.high, start: prior.mean,
      toLatent: (v) => v };
  }
  const proj = embeddings.projection;
  if (!proj) return null;
  const bounds = [emb.x, emb.y, emb.z].map(range);
  return {
    names: ["pc1", "pc2", "pc3"], low: bounds.map((b) => b[0]), high: bounds.map((b) => b[1]),
    start: [0, 0, 0], // the PCA view of the latents' mean
    toLatent: (v) => proj.mean.map((m, j) => {
      const [a, b, c] = proj.axes[j];
      return m + a * v[0] + b * v[1] + c * v[2];
    }),
  };
}

export function buildSliders(box, dim, onMove) {
  const root = document.getElementById("sliders");
  inputs = [];
  root.replaceChildren();
  if (!box) {
    root.textContent = `No sliders: this D = ${dim} model has no 3-D box to move in.`;
    root.className = "note";
    return;
  }
  root.className = "";
  const move = () => {
    const v = inputs.map((input) => Number(input.value));
    inputs.forEach((input, k) => { input.nextElementSibling.value = v[k].toFixed(2); });
    onMove(v);
  };
  box.names.forEach((name, k) => {
    const row = document.createElement("label");
    row.className = "slider";
    const label = document.createElement("span");
    label.textContent = name;
    const input = document.createElement("input");
    Object.assign(input, { type: "range", min: box.low[k], max: box.high[k] });
    input.step = String((box.high[k] - box.low[k]) / 400);
    input.value = String(Math.min(box.high[k], Math.max(box.low[k], box.start[k])));
    input.setAttribute("aria-label", `latent ${name}`);
    input.addEventListener("input", move);
    const out = document.createElement("output");
    out.value = Number(input.value).toFixed(2);
    row.append(label, input, out);
    root.append(row);
    inputs.push(input);
  });
}

// Put the sliders on a plotted point's 3-D coordinates, without decoding again.
export function syncSliders(v) {
  if (inputs.length !== 3) return;
  inputs.forEach((input, k) => {
    input.value = String(v[k]);
    input.nextElementSibling.value = Number(input.value).toFixed(2);
  });
}
