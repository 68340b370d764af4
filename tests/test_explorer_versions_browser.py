"""The explorer shows the model version it is looking at (the default from GET /models), offers
the other served versions, and once one is picked passes it as ?version= on every call it
makes. Headless Chromium against a repository where mlp3d serves two versions."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import test_explorer_browser as shared
from test_explorer_browser import needs_chromium

from harness.browser import console_errors, open_page, wait_for
from harness.served import uvicorn_thread
from service.config import Settings

browser = shared.browser  # the same module-scoped Chromium, by name

pytestmark = [pytest.mark.browser, needs_chromium]

# The API routes the page calls for a model; each must carry the picked version.
MODEL_CALLS = ("/embeddings", "/models/", "/decode", "/sample", "/reconstruct", "/interpolate")

# The URLs the page fetched since the resource timings were last cleared.
FETCHED = "return performance.getEntriesByType('resource').map(e => e.name)"


@pytest.fixture(scope="module")
def server(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """mlp3d/1 (the fixture mlp3d, D = 3) and mlp3d/2 (a copy of conv32, D = 32), both served
    (version_policy "all"), beside conv32 as a flat folder (one version)."""
    out = tmp_path_factory.mktemp("versioned")
    shutil.copytree(models_dir / "mlp3d", out / "mlp3d" / "1")
    shutil.copytree(models_dir / "conv32", out / "mlp3d" / "2")
    (out / "mlp3d" / "serving.json").write_text(json.dumps({"version_policy": "all"}))
    shutil.copytree(models_dir / "conv32", out / "conv32")
    settings = Settings(_env_file=None, model_dir=out)  # type: ignore[call-arg]
    with uvicorn_thread(settings) as base:
        yield base


def listed(server: str, name: str) -> dict[str, Any]:
    models = httpx.get(f"{server}/models").json()["models"]
    entry: dict[str, Any] = next(m for m in models if m["name"] == name)
    return entry


def version_picker(driver: Any) -> tuple[str, list[str], bool]:
    return tuple(  # type: ignore[return-value]
        driver.execute_script(
            "const s = $('version'); return [s.value, [...s.options].map(o => o.value), s.disabled]"
        )
    )


def test_the_version_shown_is_the_default_from_models_and_another_can_be_picked(
    server: str, browser: Any
) -> None:
    entry = listed(server, "mlp3d")
    assert (entry["version"], entry["versions"]) == (2, [1, 2])
    open_page(browser, server + "/?model=mlp3d")
    value, options, disabled = version_picker(browser)
    assert value == str(entry["version"]) and not disabled
    assert sorted(map(int, options)) == entry["versions"]
    assert "(default)" in browser.execute_script("return $('version').selectedOptions[0].text")
    status = browser.find_element("id", "status").text
    assert status.startswith(f"mlp3d v{entry['version']}:") and "D = 32" in status
    total = httpx.get(f"{server}/embeddings?model=mlp3d&limit=1").json()["total"]
    assert int(browser.find_element("id", "plot").get_attribute("data-points")) == total

    # Pick version 1: the page reloads it (D = 3), and every model call it makes says so.
    browser.execute_script("performance.clearResourceTimings()")
    browser.execute_script(
        "const s = $('version'); s.value = '1'; s.dispatchEvent(new Event('change'));"
    )
    wait_for(browser, "$('status').textContent.startsWith('mlp3d v1: ')")
    assert "D = 3" in browser.find_element("id", "status").text
    assert browser.execute_script("return document.body.dataset.version") == "1"
    wait_for(browser, "$('decoded').complete && $('decoded').naturalWidth === 28")  # prior mean
    browser.find_element("id", "sample").click()
    wait_for(browser, "(i => !i.hidden && i.complete && i.naturalWidth === 6 * 28)($('samples'))")
    calls = [u for u in browser.execute_script(FETCHED) if any(c in u for c in MODEL_CALLS)]
    assert {c for c in MODEL_CALLS[:4] if any(c in u for u in calls)} == set(MODEL_CALLS[:4])
    assert calls and all("version=1" in u for u in calls), calls
    assert console_errors(browser) == []


def test_version_in_the_address_and_a_single_version_model(server: str, browser: Any) -> None:
    open_page(browser, server + "/?model=mlp3d&version=1")
    assert version_picker(browser)[0] == "1"
    assert browser.find_element("id", "status").text.startswith("mlp3d v1: ")
    # conv32 is a flat folder: one version, shown, and nothing else to pick.
    entry = listed(server, "conv32")
    browser.execute_script(
        "const s = $('model'); s.value = 'conv32'; s.dispatchEvent(new Event('change'));"
    )
    wait_for(browser, "$('status').textContent.startsWith('conv32 v')")
    assert version_picker(browser) == (str(entry["version"]), [str(entry["version"])], True)
    assert console_errors(browser) == []
