"""The explorer's split picker (test, train, all; read as Arrow) and label picker, in headless
Chromium against the fixture models (set-up shared with test_explorer_browser.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import test_explorer_browser as shared
from test_explorer_browser import needs_chromium

from harness.browser import console_errors, open_page, wait_for

# The same module-scoped fixtures (a uvicorn on the fixture models, one Chromium), by name.
server, browser = shared.server, shared.browser

pytestmark = [pytest.mark.browser, needs_chromium]


def pick(driver: Any, select_id: str, value: str) -> None:
    driver.execute_script(
        "const s = $(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change'));",
        select_id,
        value,
    )


@pytest.mark.parametrize("split", ["train", "all"])
def test_split_picker_plots_every_point_of_the_split(
    server: str,
    browser: Any,
    split: str,
) -> None:
    open_page(browser, server + "/?model=conv32")
    assert browser.find_element("id", "plot").get_attribute("data-format") == "arrow"
    pick(browser, "split", split)
    wait_for(browser, f"$('status').textContent.includes('{split} points')")
    total = httpx.get(f"{server}/embeddings?model=conv32&split={split}&limit=1").json()["total"]
    assert int(browser.find_element("id", "plot").get_attribute("data-points")) == total
    # No t-SNE for the train split: the 2-D view is offered for the test split only.
    assert browser.execute_script("return $('view').querySelector('[value=tsne2d]').disabled")
    pick(browser, "split", "test")
    wait_for(browser, "$('status').textContent.includes('test points')")
    assert not browser.execute_script("return $('view').querySelector('[value=tsne2d]').disabled")
    assert console_errors(browser) == []


def test_label_picker_samples_the_chosen_label(server: str, browser: Any) -> None:
    open_page(browser, server + "/?model=conv32")
    options = browser.execute_script("return [...$('sample-label').options].map(o => o.text)")
    assert options[:2] == ["any (prior)", "each in turn"] and options[2:] == list("0123456789")
    pick(browser, "sample-label", "7")
    browser.find_element("id", "sample").click()
    wait_for(browser, "(i => !i.hidden && i.complete && i.naturalWidth === 6 * 28)($('samples'))")
    assert console_errors(browser) == []
