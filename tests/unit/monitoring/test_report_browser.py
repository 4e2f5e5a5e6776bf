"""The report renders in a real browser: headless Chromium draws every plot, offline."""

import numpy as np
import pytest
from PIL import Image

from stream_scorer.monitoring.history_read import history_location
from stream_scorer.monitoring.report import PLOTS, write_report
from tests.browser_helpers import chromium, layout, screenshot

WIDTH = 1200
MIN_STDDEV = 20.0
MIN_COLOURED = 0.004
"""Every plot draws coloured marks (lines, bars, a heat map): at least 0.4% of its region
(measured 0.8% to 24%). A broken image shows a grey icon and its alt text: 0.14%."""


@pytest.fixture(scope="module")
def browser():
    path, reason = chromium()
    if path is None:
        pytest.skip(f"headless Chromium is needed to render the report: {reason}")
    return path


def test_every_plot_of_the_report_draws_in_headless_chromium(
    tmp_path, config_file, history, browser
):
    page = tmp_path / "report.html"
    write_report(history_location(config_file), str(page))

    found = layout(browser, page, WIDTH, tmp_path)
    shot = Image.open(screenshot(browser, page, tmp_path / "report.png", WIDTH, found["height"]))
    pixels = np.asarray(shot.convert("RGB"), dtype=float)

    assert list(found["plots"]) == [f"plot-{name}" for name in PLOTS]
    for name, box in found["plots"].items():
        assert box["decoded"], f"{name}: the browser did not decode its image"
        assert box["width"] > 500 and box["height"] > 200, f"{name}: {box}"
        top, left = round(box["y"]), round(box["x"])
        region = pixels[top : top + round(box["height"]), left : left + round(box["width"])]
        coloured = (region.max(axis=2) - region.min(axis=2) > 80).mean()
        assert region.std() > MIN_STDDEV, f"{name}: blank where it stands ({region.std():.1f})"
        assert coloured > MIN_COLOURED, f"{name}: no coloured marks ({coloured:.2%})"
