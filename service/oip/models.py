"""The registry as the protocol sees it: every served model NAME is two OIP models,
NAME-encoder (images -> latents) and NAME-decoder (latents -> images), at the versions the
registry serves (a flat folder is version 1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from service.engine.engine import Engine
from service.errors import ModelNotFound
from service.oip.errors import BadTensor
from service.oip.schemas import ModelMetadata, TensorMetadata
from service.repository.model import ServedModel
from service.repository.registry import Registry

Array = np.ndarray[Any, np.dtype[np.float32]]
Role = Literal["encoder", "decoder"]
ROLES: tuple[Role, ...] = ("encoder", "decoder")
# What Triton calls these backends, so its tools recognise them.
PLATFORMS = {"onnx": "onnxruntime_onnx", "torchscript": "pytorch_libtorch"}
IMAGE = (1, 28, 28)
LATENT_LIMIT = 1e6  # the bound /decode puts on latent values (schemas.LatentValue)


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int, ...]  # one row's shape: the batch dimension comes first, any size
    datatype: str = "FP32"

    def metadata(self) -> TensorMetadata:
        return TensorMetadata(name=self.name, datatype=self.datatype, shape=[-1, *self.shape])


@dataclass(frozen=True)
class OipModel:
    served: ServedModel
    role: Role
    version: str  # the one this request runs
    versions: tuple[str, ...]  # every version that may be asked for by name

    @property
    def name(self) -> str:
        return f"{self.served.name}-{self.role}"

    @property
    def input(self) -> TensorSpec:
        return self._images if self.role == "encoder" else self._latents

    @property
    def output(self) -> TensorSpec:
        return self._latents if self.role == "encoder" else self._images

    @property
    def _images(self) -> TensorSpec:
        return TensorSpec("images", IMAGE)

    @property
    def _latents(self) -> TensorSpec:
        return TensorSpec("latents", (self.served.latent_dim,))

    def metadata(self) -> ModelMetadata:
        return ModelMetadata(
            name=self.name,
            versions=list(self.versions),
            platform=PLATFORMS.get(self.served.runtime.kind, self.served.runtime.kind),
            inputs=[self.input.metadata()],
            outputs=[self.output.metadata()],
        )

    def check(self, x: Array) -> None:
        """The input's values, as /encode and /decode check them (shape and finiteness are
        the codec's)."""
        if self.role == "encoder":
            low, high = float(x.min()), float(x.max())
            if low < 0.0 or high > 1.0:
                raise BadTensor(
                    f"images must be in [0, 1] but range over [{low:g}, {high:g}]; "
                    "divide 8-bit values by 255"
                )
        elif float(np.abs(x).max()) > LATENT_LIMIT:
            raise BadTensor(f"latents must lie within +-{LATENT_LIMIT:g}")

    async def run(self, engine: Engine, x: Array) -> Array:
        """images (N, 1, 28, 28) -> latents (N, D), or latents (N, D) -> images (N, 1, 28, 28),
        through the engine's batcher for this model and verb."""
        if self.role == "encoder":
            return await engine.encode(self.served, x.reshape(-1, 28, 28))
        return (await engine.decode(self.served, x)).reshape(-1, *IMAGE)


def resolve(registry: Registry, name: str, version: str | None) -> OipModel:
    """The OIP model `name` (NAME-encoder or NAME-decoder) at `version`, or at the version
    the verbs default to (the highest served). The one place that maps protocol names and
    versions onto the registry; a version is the number of its folder, as in Triton."""
    base, _, role = name.rpartition("-")
    served_versions = registry.versions.get(base)
    if served_versions is None or role not in ROLES:
        known = ", ".join(oip_names(registry)) or "none are loaded"
        raise ModelNotFound(f"unknown model {name!r}; models: {known}")
    available = {str(number): served for number, served in sorted(served_versions.items())}
    if version is None:
        version = str(max(served_versions))
    elif version not in available:
        raise ModelNotFound(
            f"model {name!r} has no version {version!r} served; versions: {', '.join(available)}"
        )
    kind: Role = "encoder" if role == "encoder" else "decoder"
    return OipModel(available[version], kind, version, tuple(available))


def oip_names(registry: Registry) -> list[str]:
    return [f"{name}-{role}" for name in sorted(registry.versions) for role in ROLES]
