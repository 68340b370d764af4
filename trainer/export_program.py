"""torch.export artifacts beside model.pt, TorchScript's successor upstream:

- `encoder.pt2` / `decoder.pt2`: `torch.export` programs (torch.export.save), batch dim dynamic;
  the service runs them with `torch.export.load(...).module()`.
- `encoder.aoti.pt2` / `decoder.aoti.pt2`: the same programs compiled ahead of time by
  AOTInductor into a CPU shared library (needs a C++ compiler; about 20-40 s per verb on 2
  cores, so the trainer writes them only when `TrainConfig.aoti` / `--aoti` is on). The
  library is machine code for this OS and CPU family and for this torch version.

Each file is reloaded and checked against the eager model (rtol 1e-4, atol 1e-5, as ONNX).

    python -m trainer.export_program models            # add them to every folder of a repository
    python -m trainer.export_program models/mlp3d      # or to one folder
    python -m trainer.export_program models --no-aoti  # the .pt2 programs only
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import platform
import shutil
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.export import Dim, ExportedProgram
from torch.export.graph_signature import InputKind

from trainer.export import sha256, write_manifest
from trainer.nets import build
from trainer.onnx_export import VERBS, _Verb

log = logging.getLogger(__name__)

FILES = {
    "torch_export": {"encode": "encoder.pt2", "decode": "decoder.pt2"},
    "aoti": {"encode": "encoder.aoti.pt2", "decode": "decoder.aoti.pt2"},
}
RTOL, ATOL = 1e-4, 1e-5
# No -g1 line tables in the shared library: they double its size and serve only debuggers.
# On x86-64, AVX2 code (x86-64-v3) instead of -march=native, so a committed package runs on
# any x86-64 machine from the last decade, not only on the CPU that compiled it.
AOTI_CONFIG: dict[str, Any] = {"aot_inductor.enable_line_tables": False}
if platform.machine() in ("x86_64", "AMD64"):
    AOTI_CONFIG |= {"cpp.march": "x86-64-v3", "cpp.simdlen": 256}


def save_programs(model: nn.Module, folder: Path, latent_dim: int, aoti: bool) -> dict[str, Any]:
    """Write the torch.export programs (and with `aoti`, where a C++ compiler is present, the
    AOTInductor packages), check each against eager; the manifest's artifact entries."""
    eager = copy.deepcopy(model).cpu().eval().requires_grad_(False)
    probes = {"encode": torch.rand(5, 1, 28, 28), "decode": torch.randn(5, latent_dim)}
    programs = {verb: _export(eager, verb, probes[verb]) for verb in VERBS}
    entries: dict[str, Any] = {"torch_export": {"torch_version": torch.__version__}}
    for verb, program in programs.items():
        path = folder / FILES["torch_export"][verb]
        torch.export.save(program, str(path))
        _check(torch.export.load(str(path)).module(), path, eager, verb, probes[verb])
        entries["torch_export"][verb] = _entry(path, verb)
    if aoti and compiler() is None:
        log.warning("%s: no C++ compiler (c++, g++ or $CXX) found; no AOTInductor packages", folder)
    elif aoti:
        entries["aoti"] = {"torch_version": torch.__version__, "device": "cpu"}
        for verb, program in programs.items():
            path = folder / FILES["aoti"][verb]
            path.unlink(missing_ok=True)  # the packager appends to an existing archive
            torch._inductor.aoti_compile_and_package(
                program, package_path=str(path), inductor_configs=AOTI_CONFIG
            )
            _check(torch._inductor.aoti_load_package(str(path)), path, eager, verb, probes[verb])
            entries["aoti"][verb] = _entry(path, verb)
    return entries


def compiler() -> str | None:
    """The C++ compiler AOTInductor would call, or None."""
    return next(
        (c for c in (os.environ.get("CXX"), "c++", "g++", "clang++") if c and shutil.which(c)),
        None,
    )


def _export(eager: nn.Module, verb: str, probe: torch.Tensor) -> ExportedProgram:
    """One verb as an ExportedProgram with a dynamic batch dim, holding only the weights that
    verb uses (the whole model's would double every file): export, blank what the graph never
    reads, export again."""
    batch = Dim("batch", min=1, max=1 << 16)
    program = torch.export.export(_Verb(eager, verb).eval(), (probe[:2],),
                                  dynamic_shapes=({0: batch},))  # fmt: skip
    readers = {n.name: len(n.users) for n in program.graph.nodes if n.op == "placeholder"}
    unused = [
        spec.target
        for spec in program.graph_signature.input_specs
        if spec.kind in (InputKind.PARAMETER, InputKind.BUFFER)
        and spec.target is not None
        and readers.get(spec.arg.name, 1) == 0
    ]
    if not unused:
        return program
    slim = copy.deepcopy(eager)
    for target in unused:
        owner, _, name = target.removeprefix("model.").rpartition(".")
        module = slim.get_submodule(owner)
        blank = torch.empty(0)
        if name in module._parameters:
            module._parameters[name] = nn.Parameter(blank, requires_grad=False)
        else:
            module._buffers[name] = blank
    return torch.export.export(_Verb(slim, verb).eval(), (probe[:2],),
                               dynamic_shapes=({0: batch},))  # fmt: skip


def _check(run: Any, path: Path, eager: nn.Module, verb: str, probe: torch.Tensor) -> None:
    """The reloaded artifact gives what the eager model gives, at batch 1 and 5."""
    for batch in (probe[:1], probe):
        with torch.inference_mode():
            want, got = getattr(eager, verb)(batch), run(batch)
        if got.shape != want.shape or not torch.allclose(got, want, rtol=RTOL, atol=ATOL):
            err = (got - want).abs().max().item() if got.shape == want.shape else got.shape
            raise RuntimeError(f"{path.name} ({verb}) differs from eager in {path.parent}: {err}")


def _entry(path: Path, verb: str) -> dict[str, str]:
    in_name, out_name = VERBS[verb]
    return {"file": path.name, "sha256": sha256(path), "input": in_name, "output": out_name}


def add_to_folder(folder: Path, aoti: bool) -> list[str]:
    """Rebuild the eager net from model.pt's weights, write the programs, add them to the
    manifest's `artifacts` (re-read just before writing: other tools edit manifests too)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load is deprecated upstream
        scripted = torch.jit.load(str(folder / "model.pt"), map_location="cpu")
    eager = build(manifest["model"])
    eager.load_state_dict(scripted.state_dict())
    entries = save_programs(eager, folder, manifest["latent_dim"], aoti)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["artifacts"] = {**manifest.get("artifacts", {}), **entries}
    write_manifest(folder / "manifest.json", manifest)
    return [e["file"] for kind in entries.values() for e in kind.values() if isinstance(e, dict)]


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m trainer.export_program", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("paths", nargs="+", type=Path, help="model folders, or repositories of them")
    p.add_argument("--no-aoti", action="store_true", help="skip the AOTInductor packages")
    args = p.parse_args(argv)
    for path in args.paths:
        folders = (
            [path]
            if (path / "manifest.json").is_file()
            else sorted(f for f in path.iterdir() if (f / "manifest.json").is_file())
        )
        for folder in folders:
            files = add_to_folder(folder, aoti=not args.no_aoti)
            log.info("%s: %s written and checked", folder, ", ".join(files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
