// The drawing pad (mouse, pen or touch: pointer events) and painting 28x28 pixel arrays.

const INK = 22; // stroke width on the 280 px pad: about 2 px of a 28 px digit, like MNIST's

export function setupPad(canvas, onChange) {
  const ctx = canvas.getContext("2d");
  let last = null;
  let inked = false;

  const clear = () => {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    inked = false;
  };
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return [
      ((event.clientX - box.left) * canvas.width) / box.width,
      ((event.clientY - box.top) * canvas.height) / box.height,
    ];
  };
  const stroke = (from, to) => {
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = INK;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    if (from[0] === to[0] && from[1] === to[1]) {
      // A tap: Chromium draws nothing for a zero-length line, round cap or not, so the pad
      // would send a blank image (a 422 no_digit); a dot is what the user meant.
      ctx.fillStyle = "#fff";
      ctx.arc(from[0], from[1], INK / 2, 0, 2 * Math.PI);
      ctx.fill();
    } else {
      ctx.moveTo(...from);
      ctx.lineTo(...to);
      ctx.stroke();
    }
    inked = true;
  };

  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    last = at(event);
    stroke(last, last);
    onChange();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!last) return;
    const point = at(event);
    stroke(last, point);
    last = point;
    onChange();
  });
  const end = () => {
    if (last) onChange();
    last = null;
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  clear();
  return {
    clear,
    hasInk: () => inked,
    blob: () => new Promise((resolve) => canvas.toBlob(resolve, "image/png")),
  };
}

// (28, 28) floats in [0, 1] -> the canvas's pixels (CSS scales it up, pixelated).
export function paintPixels(canvas, pixels) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(28, 28);
  pixels.forEach((row, y) => row.forEach((value, x) => {
    const v = Math.round(Math.min(1, Math.max(0, value)) * 255);
    image.data.set([v, v, v, 255], (y * 28 + x) * 4);
  }));
  ctx.putImageData(image, 0, 0);
}

// Show the 28x28 the model saw (after centring) on the pad, so drawing can go on from it.
export function showOnPad(pad, pixels) {
  const small = document.createElement("canvas");
  small.width = small.height = 28;
  paintPixels(small, pixels);
  const ctx = pad.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, pad.width, pad.height);
}
