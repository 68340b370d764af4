"""Local ports and readiness: what every test, benchmark and script that starts a server needs."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    """Poll `base`/readyz until it answers 200; fail if the server exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the service exited with {server.returncode} before it was ready")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the service at {base} was not ready within {timeout:g} s")
