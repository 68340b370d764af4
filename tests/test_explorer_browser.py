"""The latent explorer in a real browser: headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium) against a real uvicorn serving the fixture models."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from harness.browser import MISSING, chromium, console_errors, open_page, wait_for
from harness.served import uvicorn_thread
from service.config import Settings

STATIC = Path(__file__).parent.parent / "service" / "static"

# The browser tests; the page-serving tests below them need no browser.
needs_chromium = pytest.mark.skipif(
    bool(MISSING),
    reason=f"Chromium not installed ({', '.join(MISSING)} missing): "
    "apt-get install chromium chromium-driver to run the browser tests",
)

SCREENSHOTS = Path(tempfile.gettempdir())  # a copy of each as latentlab-explorer-*.png, to look at


@pytest.fixture(scope="module")
def server(make_settings: Callable[..., Settings]) -> Iterator[str]:
    """A real uvicorn in a thread, serving the fixture models; yields its base URL."""
    with uvicorn_thread(make_settings()) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


def screenshot(driver: Any, path: Path) -> None:
    driver.save_screenshot(str(path))
    shutil.copyfile(path, SCREENSHOTS / f"latentlab-explorer-{path.name}")


def click_at(driver: Any, x: float, y: float) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    actions = ActionChains(driver)
    actions.w3c_actions.pointer_action.move_to_location(int(x), int(y))
    actions.w3c_actions.pointer_action.pause(0.2)  # plotly finds the point on hover
    actions.w3c_actions.pointer_action.click()
    actions.perform()


# Page coordinates of the first point of the first label, in the 2-D (t-SNE) view.
FIRST_POINT = """
const gd = $('plot'), t = gd.data[0], fl = gd._fullLayout;
const box = gd.getBoundingClientRect();
return [box.left + fl._size.l + fl.xaxis.l2p(t.x[0]), box.top + fl._size.t + fl.yaxis.l2p(t.y[0])];
"""

# Bright pixels in the reconstruction canvas (an expression, for wait_for).
RECON_INK = """(() => {
  const d = $('recon').getContext('2d').getImageData(0, 0, 28, 28).data;
  let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++;
  return n;
})()"""


@pytest.mark.browser
@needs_chromium
def test_page_plots_every_point_without_console_errors(
    server: str, browser: Any, tmp_path: Path
) -> None:
    open_page(browser, server + "/")
    total = httpx.get(server + "/embeddings").json()["total"]
    assert int(browser.find_element("id", "plot").get_attribute("data-points")) == total
    names = browser.execute_script("return [...$('model').options].map(o => o.value)")
    assert names == ["conv32", "mlp3d"]
    assert browser.find_elements("css selector", "#plot .gl-container canvas")  # WebGL 3-D
    screenshot(browser, tmp_path / "explorer.png")
    assert console_errors(browser) == []


@pytest.mark.browser
@needs_chromium
def test_clicking_a_point_decodes_it(server: str, browser: Any, tmp_path: Path) -> None:
    open_page(browser, server + "/?model=conv32")
    wait_for(browser, "$('decoded').complete && $('decoded').naturalWidth === 28")  # prior mean
    before = browser.find_element("id", "decoded").get_attribute("src")
    browser.execute_script(
        "const v = $('view'); v.value = 'tsne2d';v.dispatchEvent(new Event('change'));"
    )
    wait_for(browser, "$('plot').dataset.view === 'tsne2d'")
    x, y = browser.execute_script(FIRST_POINT)
    click_at(browser, x, y)
    wait_for(browser, "$('decoded-caption').textContent.includes('test image #')")
    wait_for(browser, f"(i => i.src !== {before!r} && i.complete && i.naturalWidth === 28)"
                      "($('decoded'))")  # fmt: skip
    screenshot(browser, tmp_path / "clicked.png")
    # D = 32: the sliders move through the PCA box, mapped back to a latent and decoded.
    browser.execute_script("const s = document.querySelector('#sliders input');"
                           "s.value = s.min; s.dispatchEvent(new Event('input'));")  # fmt: skip
    wait_for(browser, "$('decoded-caption').textContent.startsWith('PCA position')")
    assert console_errors(browser) == []


@pytest.mark.browser
@needs_chromium
def test_drawing_updates_the_reconstruction_and_marks_the_plot(
    server: str, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    open_page(browser, server + "/")
    pad = browser.find_element("id", "pad")
    assert browser.execute_script(f"return {RECON_INK}") == 0
    chain = ActionChains(browser).move_to_element_with_offset(pad, 5, -60).click_and_hold()
    for _ in range(12):  # a '1': one stroke down the middle, in small moves (live updates)
        chain = chain.move_by_offset(0, 10).pause(0.02)
    chain.release().perform()
    assert wait_for(browser, f"{RECON_INK} > 10")
    marker = "$('plot').data.find(t => t.meta === 'drawing').x.length"
    assert wait_for(browser, marker) == 1
    assert "MSE" in browser.find_element("id", "recon-caption").text
    screenshot(browser, tmp_path / "drawn.png")
    assert console_errors(browser) == []


@pytest.mark.browser
@needs_chromium
def test_interpolate_and_sample_buttons_show_images(server: str, browser: Any) -> None:
    open_page(browser, server + "/")
    browser.find_element("id", "set-a").click()  # the prior's mean, shown on load
    browser.execute_script("const s = document.querySelector('#sliders input');"
                           "s.value = s.max; s.dispatchEvent(new Event('input'));")  # fmt: skip
    wait_for(browser, "$('decoded-caption').textContent.startsWith('z =')")
    browser.find_element("id", "set-b").click()
    browser.find_element("id", "interpolate").click()
    wait_for(browser, "(i => !i.hidden && i.complete && i.naturalWidth === 280)"
                      "($('strip'))")  # fmt: skip
    browser.find_element("id", "sample").click()
    wait_for(browser, "(i => !i.hidden && i.complete && i.naturalWidth === 6 * 28)"
                      "($('samples'))")  # fmt: skip
    assert console_errors(browser) == []


# How many lines the header's visible children sit on (their vertical centres, >10 px apart).
HEADER_LINES = """const c = [...document.querySelectorAll('header > *')]
  .filter(e => e.offsetParent !== null)
  .map(e => { const r = e.getBoundingClientRect(); return r.top + r.height / 2; })
  .sort((a, b) => a - b);
return 1 + c.slice(1).filter((y, i) => y - c[i] > 10).length;"""


@pytest.mark.browser
@needs_chromium
def test_header_keeps_one_line_at_1280_px(server: str, browser: Any) -> None:
    browser.set_window_size(1280, 900)
    open_page(browser, server + "/")
    assert browser.execute_script(HEADER_LINES) == 1
    # A long status (an error, a slow load) is cut, not wrapped; its whole text is the tooltip.
    long = "loading 70,000 train + test points of convbn (1,568-D), 12.3 MB ... " * 3
    browser.execute_script(
        "$('version-field').hidden = false; $('key-field').hidden = false;"
        "$('status').textContent = arguments[0]; $('status').title = arguments[0];",
        long,
    )
    assert browser.execute_script(HEADER_LINES) == 1
    assert browser.execute_script("return $('status').title") == long
    browser.set_window_size(800, 900)  # below 900 px it wraps instead of cutting
    assert browser.execute_script(HEADER_LINES) > 1
    browser.set_window_size(1280, 900)


def test_page_and_assets_are_served_with_no_external_urls(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    for src in re.findall(r'(?:src|href)="([^"]+)"', r.text):
        assert src.startswith(("/", "data:")), src  # nothing from the internet
        if src.startswith("/static/"):
            assert client.get(src).status_code == 200, src
    for script in STATIC.glob("js/*.js"):
        text = script.read_text()
        assert "http://" not in text and "https://" not in text, script.name
        for module in re.findall(r'from "(\./[^"]+)"', text):
            assert (script.parent / module).is_file(), f"{script.name} imports {module}"
    plotly = client.get("/static/vendor/plotly.min.js")
    assert plotly.status_code == 200 and b"Licensed under the MIT license" in plotly.content[:300]
    assert "/" not in client.get("/openapi.json").json()["paths"]  # the page is not API


def test_static_files_cannot_escape_their_folder(client: TestClient) -> None:
    for path in ("/static/..%2Fmain.py", "/static/%2E%2E/main.py", "/static/../main.py"):
        assert client.get(path).status_code == 404, path


def test_page_is_open_when_an_api_key_guards_the_api(make_client: Callable[..., TestClient]):
    """The page holds no data; it asks for the key (X-API-Key) when the API answers 401."""
    client = make_client(api_key="s3cret")
    assert client.get("/").status_code == 200
    assert client.get("/static/js/app.js").status_code == 200
    assert client.get("/models").status_code == 401
