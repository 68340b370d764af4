"""Headless Chromium for the explorer: Debian's chromium and chromium-driver driven by
Selenium, with the flags this sandboxed, offline machine needs and software WebGL."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
MISSING = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).is_file()]

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # plotly's scatter3d needs WebGL; with no GPU that is SwiftShader, which Chromium now
    # wants named explicitly (else it warns that the automatic fallback is deprecated).
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--window-size=1280,900",
)  # fmt: skip


@contextmanager
def chromium(script_timeout: float = 20.0) -> Iterator[Any]:
    """A Selenium driver on a fresh profile, with the browser console log kept."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    with tempfile.TemporaryDirectory(prefix="latentlab-chromium-") as profile:
        for flag in (*FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        # An explicit chromedriver path: Selenium Manager never downloads anything.
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_script_timeout(script_timeout)
        try:
            yield driver
        finally:
            driver.quit()


def wait_for(driver: Any, script: str, timeout: float = 20.0) -> Any:
    """Poll a JS expression until it is truthy; its value, or an AssertionError that quotes
    the page's status line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(f"return {script};")
        if value:
            return value
        time.sleep(0.1)
    status = driver.execute_script("return document.getElementById('status').textContent;")
    raise AssertionError(f"timed out waiting for `{script}`; page status: {status!r}")


def open_page(driver: Any, url: str, timeout: float = 20.0) -> None:
    """Load the explorer and wait until it says it is ready."""
    driver.get(url)
    wait_for(driver, "document.body.dataset.ready === 'true'", timeout)
    driver.execute_script("window.$ = (id) => document.getElementById(id);")  # for the tests' JS


def console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
