"""The zoo's networks. Every one speaks the service's verbs on [0, 1] pixels:
encode (B, 1, 28, 28) -> (B, D), decode (B, D) -> (B, 1, 28, 28), forward = decode(encode(x)).
They are written to compile with torch.jit.script."""

from __future__ import annotations

import itertools

import torch
from torch import nn


def _mlp(sizes: list[int], last_act: nn.Module | None) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    if last_act is not None:
        layers.append(last_act)
    return nn.Sequential(*layers)


class MLPAutoencoder(nn.Module):
    """Fully connected AE; `hidden` lists the encoder widths between 784 and the latent."""

    def __init__(self, hidden: list[int], latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        enc = [784, *hidden, latent_dim]
        # The latent layer is linear: a ReLU there kills whole latent dimensions (a 3-D
        # code with one dead unit is a 2-D code), which costs mlp3d about 0.01 of test MSE.
        self.encoder = _mlp(enc, None)
        self.decoder = _mlp(enc[::-1], nn.Sigmoid())

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x.flatten(1))  # (B, 1, 28, 28) -> (B, D)

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z).view(-1, 1, 28, 28)  # (B, D) -> (B, 1, 28, 28)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class ConvAutoencoder(nn.Module):
    """conv32: stride-2 convs to a 32-D code; trains on [-1, 1] with a Tanh output.
    The [-1, 1] scaling lives inside encode/decode so every client speaks [0, 1]."""

    def __init__(self, latent_dim: int = 32) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1),  # (B, 16, 14, 14)
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),  # (B, 32, 7, 7)
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(32 * 7 * 7, latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 32 * 7 * 7),
            nn.ReLU(),
            nn.Unflatten(1, (32, 7, 7)),
            nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1),  # 14x14
            nn.ReLU(),
            nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1),  # 28x28
            nn.Tanh(),
        )

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x * 2.0 - 1.0)  # (B, 1, 28, 28) in [0, 1] -> (B, 32)

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return (self.decoder(z) + 1.0) * 0.5  # (B, 32) -> (B, 1, 28, 28) in [0, 1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def _down(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )


class ConvBNAutoencoder(nn.Module):
    """convbn: the latent is the (32, 7, 7) feature map, flattened to 1568 at the API."""

    def __init__(self) -> None:
        super().__init__()
        self.latent_dim = 32 * 7 * 7
        self.encoder = nn.Sequential(_down(1, 16), _down(16, 32))  # (B, 32, 7, 7)
        self.decoder = nn.Sequential(
            nn.Upsample(scale_factor=2.0, mode="nearest"),  # (B, 32, 14, 14)
            nn.Conv2d(32, 16, 3, padding=1),
            nn.ReLU(),
            nn.Upsample(scale_factor=2.0, mode="nearest"),  # (B, 16, 28, 28)
            nn.Conv2d(16, 1, 3, padding=1),
            nn.Sigmoid(),
        )

    @torch.jit.export
    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)  # (B, 1, 28, 28) -> (B, 32, 7, 7)

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x).flatten(1)  # (B, 1, 28, 28) -> (B, 1568)

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z.view(-1, 32, 7, 7))  # (B, 1568) -> (B, 1, 28, 28)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class VAE(nn.Module):
    """Variational AE (Kingma & Welling, 2014, arXiv:1312.6114) with a N(0, I) prior and a
    Bernoulli decoder. encode returns the posterior mean, so the API stays deterministic."""

    def __init__(self, latent_dim: int = 3) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.body = _mlp([784, 512, 256], nn.ReLU())
        self.mu = nn.Linear(256, latent_dim)
        self.logvar = nn.Linear(256, latent_dim)
        self.decoder = _mlp([latent_dim, 256, 512, 784], nn.Sigmoid())

    @torch.jit.export
    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x.flatten(1))
        return self.mu(h), self.logvar(h)  # (B, D), (B, D)

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.posterior(x)[0]

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z).view(-1, 1, 28, 28)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class ConvVAE(nn.Module):
    """convvae, the zoo's sampler: a convolutional VAE (Kingma & Welling 2014) with a 16-D
    latent and a Bernoulli decoder, the DCGAN-style stride-2 conv stacks of Burgess et al.
    (2018, arXiv:1804.03599). Trained against N(0, I), it is sampled from a prior fitted ex
    post to its aggregate posterior (Ghosh et al. 2020, arXiv:1903.12436, section 4): one
    Gaussian per label, mixed by label frequency (trainer/priors.py)."""

    def __init__(self, latent_dim: int = 16) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 4, stride=2, padding=1),  # (B, 32, 14, 14)
            nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2, padding=1),  # (B, 64, 7, 7)
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, 256),
            nn.ReLU(),
        )
        self.mu = nn.Linear(256, latent_dim)
        self.logvar = nn.Linear(256, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 256),
            nn.ReLU(),
            nn.Linear(256, 64 * 7 * 7),
            nn.ReLU(),
            nn.Unflatten(1, (64, 7, 7)),
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1),  # (B, 32, 14, 14)
            nn.ReLU(),
            nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1),  # (B, 1, 28, 28)
            nn.Sigmoid(),
        )

    @torch.jit.export
    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.mu(h), self.logvar(h)  # (B, D), (B, D)

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.posterior(x)[0]  # (B, 1, 28, 28) -> (B, D): the posterior mean

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (B, D) -> (B, 1, 28, 28): Bernoulli means

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


# The variational members: trained on the negative ELBO, scored by test ELBO.
VAES = (VAE, ConvVAE)


def build(model: str) -> nn.Module:
    """A fresh, untrained network for a zoo name."""
    if model == "mlp3d":
        return MLPAutoencoder([128, 32], 3)
    if model == "mlp32":
        return MLPAutoencoder([256, 128], 32)
    if model == "conv32":
        return ConvAutoencoder(32)
    if model == "convbn":
        return ConvBNAutoencoder()
    if model == "mlp128":
        return MLPAutoencoder([512, 256], 128)
    if model == "vae":
        return VAE(3)
    if model == "convvae":
        return ConvVAE(16)
    raise ValueError(f"no network for {model!r}")


# The latent's natural shape per model; the API always carries it flattened.
LATENT_SHAPES: dict[str, list[int]] = {
    "mlp3d": [3],
    "mlp32": [32],
    "conv32": [32],
    "convbn": [32, 7, 7],
    "mlp128": [128],
    "vae": [3],
    "convvae": [16],
}
