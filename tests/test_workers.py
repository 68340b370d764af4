"""`python -m service` as a user runs it: several worker processes that read as one service,
and a SIGTERM that lets the request in flight finish."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_service_metrics import metric

from harness.ports import free_port
from service.cpus import available_cpus, cgroup_quota

ROOT = Path(__file__).parent.parent


def start(models_dir: Path, tmp_path: Path, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LATENTLAB_")}
    environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    environ |= {"LATENTLAB_MODEL_DIR": str(models_dir), "LATENTLAB_HOST": "127.0.0.1",
                "LATENTLAB_PORT": str(port), "LATENTLAB_LOG_LEVEL": "warning", **env}  # fmt: skip
    with (tmp_path / "service.log").open("wb") as log:  # the child keeps its own handle
        proc = subprocess.Popen([sys.executable, "-m", "service"], cwd=ROOT, env=environ,
                                stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / "service.log").read_text()
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("service not ready in 60 s")


@pytest.fixture
def two_workers(models_dir: Path, tmp_path: Path) -> Iterator[str]:
    proc, base = start(models_dir, tmp_path, LATENTLAB_WORKERS="2")
    yield base
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def readyz_pid(base: str) -> int:
    with httpx.Client() as client:  # a fresh connection: any worker may accept it
        r = client.get(f"{base}/readyz")
    assert r.status_code == 200, r.text
    return int(r.json()["worker"])


def test_two_workers_serve_and_metrics_sum_both(two_workers: str) -> None:
    base = two_workers
    pids: list[int] = []
    while len(set(pids)) < 2 and len(pids) < 400:
        pids.append(readyz_pid(base))
    assert len(set(pids)) == 2, f"only pid {pids[0]} answered {len(pids)} connections"
    for _ in range(6):  # whichever worker answers the scrape, it counts every worker's requests
        with httpx.Client() as client:
            text = client.get(f"{base}/metrics").text
        assert metric(text, "latentlab_requests_total", route="/readyz") >= len(pids)
    with httpx.Client() as client:
        for _ in range(10):
            assert client.post(f"{base}/decode", json={"latent": [0, 0, 0]}).status_code == 200
        text = client.get(f"{base}/metrics").text
    assert metric(text, "latentlab_requests_total", route="/decode", status="200") == 10
    assert "latentlab_models_loaded 2.0" in text.splitlines()


def test_sigterm_lets_the_request_in_flight_finish(models_dir: Path, tmp_path: Path) -> None:
    # The batcher holds a lone request 1 s waiting for company: it is in flight at SIGTERM.
    proc, base = start(models_dir, tmp_path, LATENTLAB_WORKERS="1",
                       LATENTLAB_MAX_BATCH_DELAY_MS="1000")  # fmt: skip
    replies: list[httpx.Response] = []

    def post() -> None:
        replies.append(httpx.post(f"{base}/decode", json={"latent": [1, 2, 3]}, timeout=30))

    sender = threading.Thread(target=post)
    sender.start()
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    sender.join(timeout=30)
    assert proc.wait(timeout=30) == 0
    assert replies and replies[0].status_code == 200
    assert replies[0].content.startswith(b"\x89PNG")
    with pytest.raises(httpx.TransportError):  # and then it is gone
        httpx.get(f"{base}/healthz", timeout=2)


def test_worker_count_follows_the_cgroup_cpu_limit(tmp_path: Path) -> None:
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("150000 100000\n")  # docker run --cpus 1.5
    assert cgroup_quota(cpu_max) == 2
    assert available_cpus(cpu_max) == min(2, len(os.sched_getaffinity(0)))
    cpu_max.write_text("max 100000\n")
    assert cgroup_quota(cpu_max) is None
    assert available_cpus(cpu_max) == len(os.sched_getaffinity(0))
    assert cgroup_quota(tmp_path / "absent") is None


def test_sighup_reloads_the_models(models_dir: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(models_dir / "mlp3d", repo / "mlp3d" / "1")
    proc, base = start(repo, tmp_path, LATENTLAB_WORKERS="1")
    try:
        assert httpx.get(f"{base}/readyz").json()["versions"] == {"mlp3d": [1]}
        shutil.copytree(models_dir / "mlp3d", repo / "mlp3d" / "2")
        proc.send_signal(signal.SIGHUP)  # fresh workers load the repository again
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/readyz").json().get("versions") == {"mlp3d": [2]}:
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("version 2 not served after SIGHUP")
        assert httpx.post(f"{base}/decode", json={"latent": [0, 0, 0]}).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def test_one_worker_with_a_metrics_dir_that_does_not_exist_yet(models_dir: Path, tmp_path: Path):
    metrics = tmp_path / "not-yet" / "metrics"
    proc, base = start(models_dir, tmp_path, LATENTLAB_WORKERS="1",
                       PROMETHEUS_MULTIPROC_DIR=str(metrics))  # fmt: skip
    try:
        assert httpx.post(f"{base}/decode", json={"latent": [0, 0, 0]}).status_code == 200
        text = httpx.get(f"{base}/metrics").text
        assert metric(text, "latentlab_requests_total", route="/decode", status="200") == 1
        assert any(metrics.glob("*.db"))
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
