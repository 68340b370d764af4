"""Which runtime serves a version folder: the artifact LATENTLAB_ENGINE names (auto: ONNX
when the manifest lists it, else TorchScript's model.pt), each file checked before loading.
The torch engines need torch, which the default install (and Docker image) leaves out: a
folder that only they could serve is refused with the reason, which /readyz lists."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from service.engine.runtime import (
    AotiRuntime,
    EngineChoice,
    OnnxRuntime,
    Runtime,
    TorchExportRuntime,
    TorchScriptRuntime,
)
from service.repository.manifest import Manifest

_PAIRS: dict[str, tuple[Callable[[Path, Path, int], Runtime], str]] = {
    # engine -> (runtime, the command that writes its files into an existing folder)
    "onnx": (OnnxRuntime, "python -m trainer.onnx_export"),
    "torch_export": (TorchExportRuntime, "python -m trainer.export_program"),
    "aoti": (AotiRuntime, "python -m trainer.export_program"),
}


def load_runtime(
    folder: Path,
    manifest: Manifest,
    choice: EngineChoice,
    threads: int,
    check: Callable[[Path, str], None],
) -> Runtime:
    """The artifact `choice` names (auto: ONNX when the manifest lists it), else model.pt.
    A named engine whose files the manifest does not list is an error, not a fallback.
    `check(path, sha256)` verifies each artifact file before it is loaded."""
    artifacts = manifest.artifacts
    if choice == "auto":
        choice = "onnx" if artifacts is not None and artifacts.onnx is not None else "torchscript"
    if choice != "onnx":
        _need_torch(choice)
    if choice == "torchscript":
        check(folder / "model.pt", manifest.model_sha256)
        return TorchScriptRuntime(folder / "model.pt", threads)
    pair = getattr(artifacts, choice, None)
    runtime, writer = _PAIRS[choice]
    if pair is None:
        raise ValueError(f"no {choice} artifacts (LATENTLAB_ENGINE={choice}); run {writer}")
    encoder, decoder = folder / pair.encode.file, folder / pair.decode.file
    check(encoder, pair.encode.sha256)
    check(decoder, pair.decode.sha256)
    return runtime(encoder, decoder, threads)


def _need_torch(choice: EngineChoice) -> None:
    try:
        import torch  # noqa: F401  (the runtime imports it next anyway)
    except ImportError as exc:
        raise ValueError(
            f"needs torch for the {choice} engine, which this install leaves out: export ONNX "
            "into the folder (python -m trainer.onnx_export), or install the torch group "
            "(uv sync --group torch) or use the Docker target runtime-torch"
        ) from exc
