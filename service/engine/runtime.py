"""Model runtimes: run a folder's encode/decode on float32 NumPy batches.

ONNX Runtime is the default where the manifest lists ONNX artifacts: it imports in 0.3 s
(torch takes 3 s here, most of a start-up budget) and runs these small nets faster per call.
TorchScript (model.pt) is the fallback for folders written before the trainer exported ONNX;
torch is imported only when such a folder is loaded."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

if TYPE_CHECKING:
    from service.manifest import Manifest

Array = np.ndarray[Any, np.dtype[np.float32]]
EngineChoice = Literal["auto", "onnx", "torchscript"]


class Runtime(Protocol):
    kind: str  # "onnx" or "torchscript", reported by /models

    def encode(self, images: Array) -> Array:
        """(N, 1, 28, 28) in [0, 1] -> (N, D)."""

    def decode(self, latents: Array) -> Array:
        """(N, D) -> (N, 1, 28, 28), unclipped model output."""


class OnnxRuntime:
    """encoder.onnx and decoder.onnx, one ONNX Runtime session each."""

    kind = "onnx"

    def __init__(self, encoder: Path, decoder: Path, threads: int) -> None:
        self._encoder = _session(encoder, threads)
        self._decoder = _session(decoder, threads)
        self._enc_in = self._encoder.get_inputs()[0].name
        self._dec_in = self._decoder.get_inputs()[0].name

    def encode(self, images: Array) -> Array:
        out: Array = self._encoder.run(None, {self._enc_in: images})[0]
        return out

    def decode(self, latents: Array) -> Array:
        out: Array = self._decoder.run(None, {self._dec_in: latents})[0]
        return out


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort  # imported with the first model, not with the app

    options = ort.SessionOptions()
    # One request stream per process and one process per core: parallelism comes from the
    # workers, so every session runs on the calling thread alone, with no spinning pool.
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only; ORT warns about unused initializers
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class TorchScriptRuntime:
    """model.pt through torch.jit, under inference_mode."""

    kind = "torchscript"

    def __init__(self, path: Path, threads: int) -> None:
        import torch  # only folders without ONNX artifacts pay for this import

        torch.set_num_threads(threads)
        with warnings.catch_warnings():
            # TorchScript is the artifact format by contract (docs/model-format.md); torch's
            # deprecation notice would only repeat itself once per model in the server log.
            warnings.filterwarnings("ignore", r".*torch\.jit\.load", FutureWarning)
            module = torch.jit.load(str(path), map_location="cpu")  # type: ignore[no-untyped-call]
        module.eval()
        self._torch, self._module = torch, module

    def encode(self, images: Array) -> Array:
        with self._torch.inference_mode():
            out: Array = self._module.encode(self._torch.from_numpy(images)).numpy()
            return out

    def decode(self, latents: Array) -> Array:
        with self._torch.inference_mode():
            out: Array = self._module.decode(self._torch.from_numpy(latents)).numpy()
            return out


def load_runtime(
    folder: Path,
    manifest: Manifest,
    choice: EngineChoice,
    threads: int,
    check: Callable[[Path, str], None],
) -> Runtime:
    """ONNX when the manifest lists it (unless LATENTLAB_ENGINE=torchscript), else model.pt.
    `check(path, sha256)` verifies each artifact file before it is loaded."""
    onnx = manifest.artifacts.onnx if manifest.artifacts else None
    if choice == "onnx" and onnx is None:
        raise ValueError(
            "no ONNX artifacts (LATENTLAB_ENGINE=onnx); run python -m trainer.onnx_export"
        )
    if onnx is not None and choice != "torchscript":
        encoder, decoder = folder / onnx.encode.file, folder / onnx.decode.file
        check(encoder, onnx.encode.sha256)
        check(decoder, onnx.decode.sha256)
        return OnnxRuntime(encoder, decoder, threads)
    return TorchScriptRuntime(folder / "model.pt", threads)
