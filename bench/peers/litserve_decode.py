"""LitServe serving the same model.pt the way latentlab's /decode does: JSON {"latent": [...]}
in, the same 28x28 PNG bytes out (the PNG is made by the same function as ours).

    uv run --group peers python -m bench.peers.litserve_decode --model models/mlp3d/model.pt \
        --port 8100 [--workers 2] [--api-servers 2] [--max-batch-size 16 --batch-timeout 0.005]
"""

# No `from __future__ import annotations`: LitServe reads decode_request's annotation at run time.

import argparse
import warnings
from typing import Any

import litserve as ls
import numpy as np
import torch
from fastapi import Response

from service.images.codec import to_png


class DecodeAPI(ls.LitAPI):  # type: ignore[misc]
    def __init__(self, model_path: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model_path = model_path

    def setup(self, device: str) -> None:
        torch.set_num_threads(1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            self.model = torch.jit.load(self.model_path, map_location="cpu").eval()

    def decode_request(self, request: dict[str, Any]) -> torch.Tensor:
        return torch.tensor(request["latent"], dtype=torch.float32)

    def batch(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack(inputs)

    def predict(self, z: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            if z.ndim == 1:
                return self.model.decode(z[None])[0]
            return self.model.decode(z)

    def unbatch(self, output: torch.Tensor) -> list[torch.Tensor]:
        return list(output)

    def encode_response(self, image: torch.Tensor) -> Response:
        pixels = np.clip(np.nan_to_num(image.numpy()[0]), 0.0, 1.0)[None]  # (1, 28, 28)
        return Response(to_png(pixels.astype(np.float32)), media_type="image/png")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--port", type=int, default=8100)
    p.add_argument("--workers", type=int, default=1, help="inference workers (per device)")
    p.add_argument("--api-servers", type=int, default=None, help="uvicorn API processes")
    p.add_argument("--max-batch-size", type=int, default=1)
    p.add_argument("--batch-timeout", type=float, default=0.0)
    p.add_argument("--fast-queue", action="store_true", help="ZeroMQ queues instead of mp")
    args = p.parse_args()
    api = DecodeAPI(
        args.model,
        api_path="/decode",
        max_batch_size=args.max_batch_size,
        batch_timeout=args.batch_timeout,
    )
    server = ls.LitServer(
        api, accelerator="cpu", workers_per_device=args.workers, fast_queue=args.fast_queue
    )
    server.run(
        host="127.0.0.1",
        port=args.port,
        num_api_servers=args.api_servers,
        log_level="warning",
        generate_client_file=False,
    )


if __name__ == "__main__":
    main()
