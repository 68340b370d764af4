"""The learned latent prior (`learned_prior` in the manifest, docs/model-format.md): a
flow-matching velocity net in prior.onnx, integrated from Gaussian noise with fixed midpoint
steps in NumPy (the trainer's trainer/flow_prior.py does the same arithmetic in torch).
Unlabelled draws use the net's null label; labelled draws mix the labelled and the null
velocity with classifier-free guidance: v = v_null + w (v_label - v_null)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from service.repository.manifest import LearnedPriorSpec

Array = np.ndarray[Any, np.dtype[np.float32]]
Labels = np.ndarray[Any, np.dtype[np.int64]]


@dataclass(frozen=True)
class LearnedPrior:
    """z = mean + std * x(1), x(0) ~ N(0, I), dx/dt = velocity(x, t, label)."""

    session: Any = field(repr=False)  # onnxruntime.InferenceSession over prior.onnx
    mean: Array  # (D,)
    std: Array  # (D,)
    null_label: int  # the label index that means "no label"
    steps: int  # default midpoint steps
    guidance: float  # default guidance scale for labelled draws
    preferred: bool  # the trainer measured it better than the Gaussian prior

    @classmethod
    def load(cls, path: Path, spec: LearnedPriorSpec, threads: int) -> LearnedPrior:
        return cls(
            session=_session(path, threads),
            mean=np.asarray(spec.mean, np.float32),
            std=np.asarray(spec.std, np.float32),
            null_label=spec.null_label,
            steps=spec.steps,
            guidance=spec.guidance,
            preferred=spec.preferred,
        )

    def velocity(self, x: Array, t: float, labels: Labels) -> Array:
        """One call of the net on the whole batch: (B, D), scalar t, (B,) -> (B, D)."""
        tt = np.full((len(x), 1), t, np.float32)
        out: Array = self.session.run(None, {"x": x, "t": tt, "label": labels})[0]
        return out

    def sample(self, n: int, rng: np.random.Generator, labels: Labels | None = None,
               steps: int | None = None, guidance: float | None = None) -> Array:  # fmt: skip
        """n latents (N, D): unconditional, or one per entry of `labels` (N,)."""
        steps = self.steps if steps is None else steps
        w = self.guidance if guidance is None else guidance
        x = rng.standard_normal((n, self.mean.shape[0]), dtype=np.float32)
        null = np.full(n, self.null_label, np.int64)
        both = None if labels is None else np.concatenate([labels.astype(np.int64), null])

        def v(x: Array, t: float) -> Array:
            if both is None:
                return self.velocity(x, t, null)
            out = self.velocity(np.concatenate([x, x]), t, both)  # one call: labelled + null
            cond, uncond = out[:n], out[n:]
            return uncond + np.float32(w) * (cond - uncond)

        h = 1.0 / steps
        for i in range(steps):
            mid = x + np.float32(0.5 * h) * v(x, i * h)
            x = x + np.float32(h) * v(mid, (i + 0.5) * h)
        z: Array = (x * self.std + self.mean).astype(np.float32)
        return z


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort  # imported with the first model, not with the app

    options = ort.SessionOptions()  # as service/engine/runtime.py: the calling thread only
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
