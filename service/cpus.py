"""How many CPUs this process may really use: its affinity mask, capped by the cgroup v2
CPU quota (`docker run --cpus`, a Kubernetes CPU limit), which os.cpu_count() ignores."""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def available_cpus(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    quota = cgroup_quota(cpu_max)
    return max(1, min(cpus or 1, quota or cpus or 1))


def cgroup_quota(cpu_max: Path = CGROUP_CPU_MAX) -> int | None:
    """ceil(quota / period) from cgroup v2's `cpu.max` ("200000 100000"); None when unlimited."""
    try:
        quota, period = cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    return max(1, math.ceil(int(quota) / int(period)))
