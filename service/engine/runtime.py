"""Model runtimes: run a folder's encode/decode on float32 NumPy batches.

ONNX Runtime is the default where the manifest lists ONNX artifacts: it imports in 0.3 s
(torch takes 3 s here, most of a start-up budget) and runs these small nets faster per call.
TorchScript (model.pt) is the fallback for folders written before the trainer exported ONNX;
torch is imported only when such a folder is loaded. The torch.export programs (`.pt2`) and
AOTInductor packages (`.aoti.pt2`) run when LATENTLAB_ENGINE names them; they give the same
pixels (tests/test_artifacts.py) but import torch and, on these nets, are no faster than ONNX
Runtime (README, "Artifacts"), so "auto" does not pick them. Which one a version folder
runs is the repository's choice (service/repository/artifacts.py)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

Array = np.ndarray[Any, np.dtype[np.float32]]
EngineChoice = Literal["auto", "onnx", "torch_export", "aoti", "torchscript"]


class Runtime(Protocol):
    kind: str  # "onnx", "torch_export", "aoti" or "torchscript", reported by /models

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


class _TorchPair:
    """One torch callable per verb, run under inference_mode on zero-copy tensor views."""

    kind = ""

    def __init__(self, encoder: Path, decoder: Path, threads: int) -> None:
        import torch  # only engines that run torch artifacts pay for this import

        torch.set_num_threads(threads)
        self._torch = torch
        self._encode, self._decode = self._load(encoder), self._load(decoder)

    def _load(self, path: Path) -> Callable[[Any], Any]:
        raise NotImplementedError

    def encode(self, images: Array) -> Array:
        with self._torch.inference_mode():
            out: Array = self._encode(self._torch.from_numpy(images)).numpy()
            return out

    def decode(self, latents: Array) -> Array:
        with self._torch.inference_mode():
            out: Array = self._decode(self._torch.from_numpy(latents)).numpy()
            return out


class TorchExportRuntime(_TorchPair):
    """encoder.pt2 and decoder.pt2: torch.export programs, run as their GraphModules."""

    kind = "torch_export"

    def _load(self, path: Path) -> Callable[[Any], Any]:
        module: Callable[[Any], Any] = self._torch.export.load(str(path)).module()
        return module


class AotiRuntime(_TorchPair):
    """encoder.aoti.pt2 and decoder.aoti.pt2: AOTInductor-compiled shared libraries (CPU)."""

    kind = "aoti"

    def _load(self, path: Path) -> Callable[[Any], Any]:
        package: Callable[[Any], Any] = self._torch._inductor.aoti_load_package(str(path))
        return package
