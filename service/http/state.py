"""What one app holds: its settings, its own metrics, and once started its models and engine."""

from __future__ import annotations

from dataclasses import dataclass, field

from service.config import Settings
from service.engine.engine import Engine
from service.images.pool import ImagePool
from service.metrics import Metrics
from service.repository.registry import Registry


@dataclass
class ServiceState:
    settings: Settings
    metrics: Metrics
    registry: Registry | None = None  # set by the lifespan; None before and after
    engine: Engine | None = None  # likewise: its batchers live on the running event loop
    images: ImagePool = field(init=False)  # uploads' own bounded pool (processes start lazily)

    def __post_init__(self) -> None:
        s = self.settings
        self.images = ImagePool(s.image_workers, s.image_queue, s.image_nice, self.metrics)
