# latentlab: the API image (default, last stage `runtime`) and a training image (target
# `trainer`). Build with BuildKit: `docker compose build`, or `docker buildx build .`
# (add `--target trainer` for the training image). No `# syntax=` line on purpose: the
# Dockerfile frontend built into the engine is used, so nothing has to be pulled for it.
#
# Torch: the API runs on CPU, so by default torch comes from PyTorch's CPU-only wheel index
# (the PyPI torch wheel for Linux pulls in about 3 GB of CUDA libraries), at exactly the
# version uv.lock pins. The build argument TORCH_INDEX_URL chooses another index, e.g.
#   https://download.pytorch.org/whl/cuXYZ   a CUDA build (for the `trainer` target on a GPU)
#   https://pypi.org/simple                  PyPI's build (CUDA on Linux; image ~6 GB, not ~1.4)
# CI (scripts/docker-check.sh) builds this same Dockerfile and docker-compose.yml; where
# download.pytorch.org cannot be reached it passes https://pypi.org/simple, so it still runs
# this same install path with the locked torch, only from the bigger CUDA wheel.
# Every other package is installed at exactly the version and hash uv.lock pins.

FROM python:3.11-slim AS builder
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml uv.lock ./
# Locked main dependencies ([project.dependencies]; no train/dev groups), with hashes, but
# without torch and the CUDA/Triton packages the lock's PyPI torch pulls in on Linux:
# torch comes from TORCH_INDEX_URL below and its other dependencies (sympy, networkx,
# jinja2, ...) are in this locked set.
RUN uv export --frozen --no-dev --no-default-groups --no-emit-project --no-hashes \
        --format requirements-txt -o /tmp/main-nohash.txt \
 && grep -Eo '^torch==[^ ;]+' /tmp/main-nohash.txt > /tmp/torch-spec.txt \
 && grep -Eo '^(torch|triton|nvidia-[a-z0-9-]+|cuda-[a-z0-9-]+)==' /tmp/main-nohash.txt \
      | sed -e 's/==$//' -e 's/^/--no-emit-package=/' \
      | xargs uv export --frozen --no-dev --no-default-groups --no-emit-project \
        --format requirements-txt -o /tmp/main.txt \
 && uv venv /opt/venv
RUN --mount=type=cache,target=/root/.cache/uv \
    uv pip install --require-hashes --no-deps -r /tmp/main.txt

ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN --mount=type=cache,target=/root/.cache/uv \
    uv pip install --index-url "$TORCH_INDEX_URL" -r /tmp/torch-spec.txt \
 && python -c "import torch; print('torch', torch.__version__)"


# The training image: the API's environment plus the `train` group and the trainer code.
# Not used by `runtime`, so BuildKit skips it when building the API.
FROM builder AS trainer-builder
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

FROM python:3.11-slim AS trainer
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


# The API image: the service code, its locked runtime dependencies and the bundled models.
FROM python:3.11-slim AS runtime
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin latentlab
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LATENTLAB_MODEL_DIR=/app/models \
    LATENTLAB_HOST=0.0.0.0 \
    LATENTLAB_PORT=8000
WORKDIR /app
COPY service/ ./service/
COPY models/ ./models/
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('LATENTLAB_PORT', '8000'), timeout=4)"]
CMD ["python", "-m", "service"]
