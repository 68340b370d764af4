# latentlab: the API image (default, last stage `runtime`: ONNX Runtime, no torch), the
# same API with the torch engines (target `runtime-torch`), and a training image (target
# `trainer`). Build with BuildKit: `docker compose build`, or `docker buildx build .`
# (add `--target runtime-torch` or `--target trainer`). No `# syntax=` line on purpose: the
# Dockerfile frontend built into the engine is used, so nothing has to be pulled for it.
#
# Which API image: `runtime` serves every model folder that has ONNX artifacts (every folder
# the trainer writes) and is about a tenth of the size; pick `runtime-torch` only to serve
# folders that have TorchScript alone (written before ONNX export) or to run
# LATENTLAB_ENGINE=torchscript|torch_export|aoti. docs/deployment.md has the sizes.
#
# Torch (runtime-torch and trainer only): from PyTorch's CPU-only wheel index by default (the
# PyPI torch wheel for Linux pulls in about 3 GB of CUDA libraries), at exactly the version
# uv.lock pins. The build argument TORCH_INDEX_URL chooses another index, e.g.
#   https://download.pytorch.org/whl/cuXYZ   a CUDA build (for the `trainer` target on a GPU)
#   https://pypi.org/simple                  PyPI's build (CUDA on Linux; image ~6 GB)
# Every other package is installed at exactly the version and hash uv.lock pins.

# uv, one static binary, from its PyPI wheel.
FROM python:3.11-slim AS uv
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}" \
 && cp "$(python -c 'import uv; print(uv.find_uv_bin())')" /usr/local/bin/uv

# Debian's own Python 3.11 on debian:bookworm-slim: every image below runs on it. It is
# ~30 MB where python:3.11-slim adds its own build of CPython above the same Debian base.
FROM debian:bookworm-slim AS debian-python
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3.11=3.11.* \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*

FROM debian-python AS builder
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY --from=uv /usr/local/bin/uv /usr/local/bin/uv
ENV UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml uv.lock ./
# The locked runtime dependencies ([project.dependencies]; no groups), with hashes.
RUN uv export --frozen --no-dev --no-default-groups --no-emit-project \
        --format requirements-txt -o /tmp/main.txt \
 && uv venv --python /usr/bin/python3.11 /opt/venv
RUN --mount=type=cache,target=/root/.cache/uv \
    uv pip install --require-hashes --no-deps -r /tmp/main.txt \
 && python -c "import importlib.util as u; assert u.find_spec('torch') is None, 'torch'"


# The runtime dependencies plus the `torch` group: torch from TORCH_INDEX_URL at the locked
# version, its other dependencies (sympy, networkx, jinja2, ...) at their locked hashes.
FROM builder AS builder-torch
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN uv export --frozen --no-dev --only-group torch --no-emit-project --no-hashes \
        --format requirements-txt -o /tmp/torch-nohash.txt \
 && grep -Eo '^torch==[^ ;]+' /tmp/torch-nohash.txt > /tmp/torch-spec.txt \
 && grep -Eo '^(torch|triton|nvidia-[a-z0-9-]+|cuda-[a-z0-9-]+)==' /tmp/torch-nohash.txt \
      | sed -e 's/==$//' -e 's/^/--no-emit-package=/' \
      | xargs uv export --frozen --no-dev --only-group torch --no-emit-project \
        --format requirements-txt -o /tmp/torch-deps.txt
RUN --mount=type=cache,target=/root/.cache/uv \
    uv pip install --require-hashes --no-deps -r /tmp/torch-deps.txt \
 && uv pip install --index-url "$TORCH_INDEX_URL" -r /tmp/torch-spec.txt \
 && python -c "import torch; print('torch', torch.__version__)"


# The training image: the torch environment plus the `train` group and the trainer code.
# Not used by the API targets, so BuildKit skips it when building them.
FROM builder-torch AS trainer-builder
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# The locked `train` group the same way; torchvision from TORCH_INDEX_URL at the locked
# version, which pins the exact torch it was built for (a mismatch fails the build).
RUN --mount=type=cache,target=/root/.cache/uv \
    uv export --frozen --no-dev --only-group train --no-emit-project --no-hashes \
        --format requirements-txt -o /tmp/train-nohash.txt \
 && grep -Eo '^torchvision==[^ ;]+' /tmp/train-nohash.txt > /tmp/torchvision-spec.txt \
 && grep -Eo '^(torch|torchvision|triton|nvidia-[a-z0-9-]+|cuda-[a-z0-9-]+)==' /tmp/train-nohash.txt \
      | sed -e 's/==$//' -e 's/^/--no-emit-package=/' \
      | xargs uv export --frozen --no-dev --only-group train --no-emit-project \
        --format requirements-txt -o /tmp/train.txt \
 && uv pip install --require-hashes --no-deps -r /tmp/train.txt \
 && uv pip install --index-url "$TORCH_INDEX_URL" -r /tmp/torchvision-spec.txt

FROM debian-python AS trainer
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin latentlab
COPY --from=trainer-builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib
WORKDIR /app
COPY trainer/ ./trainer/
USER 10001:10001
# Writes model folders into /app/models and reads (or downloads) datasets under /app/data:
# mount both (docker-compose.yml does).
ENTRYPOINT ["python", "-m", "trainer"]
CMD ["--help"]


# The bundled models without the torch-only artifacts (model.pt, *.pt2: 84 of 147 MB), for
# the default image, which cannot run them. Manifests are unchanged: ONNX is what is served.
FROM debian:bookworm-slim AS models-onnx
COPY models/ /models/
RUN find /models -type f \( -name '*.pt' -o -name '*.pt2' \) -delete


# What both API images share: a non-root user, the settings, the service code.
FROM debian-python AS api-base
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin latentlab
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LATENTLAB_MODEL_DIR=/app/models \
    LATENTLAB_HOST=0.0.0.0 \
    LATENTLAB_PORT=8000
WORKDIR /app
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('LATENTLAB_PORT', '8000'), timeout=4)"]
CMD ["python", "-m", "service"]


# The API with the torch engines and every bundled artifact.
FROM api-base AS runtime-torch
COPY --from=builder-torch /opt/venv /opt/venv
COPY service/ ./service/
COPY models/ ./models/
USER 10001:10001


# The default API image: ONNX Runtime, no torch.
FROM api-base AS runtime
COPY --from=builder /opt/venv /opt/venv
COPY service/ ./service/
COPY --from=models-onnx /models ./models/
USER 10001:10001
