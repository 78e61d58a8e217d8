"""The HTML report in headless Chromium: charts drawn, record text shown as text.

Needs Debian's ``chromium`` (``/usr/bin/chromium``). The test skips only when it
is absent, and fails instead when ``CI`` is set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

from itilmigrate.compliance_checks.reports import write_reports
from tests.compliance_checks.test_reports import SCRIPT, make_report

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
# matplotlib's default first colour (#1f77b4), which the report's charts draw with.
CHART_BLUE = np.array([0x1F, 0x77, 0xB4]) / 255.0


def _chromium() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed, and CI is set: install 'chromium'.")
        pytest.skip("chromium is not installed (Debian package 'chromium').")
    return found


def _run(chromium: str, profile: Path, *args: str) -> str:
    completed = subprocess.run(  # noqa: S603 - fixed executable and flags
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return completed.stdout


@pytest.mark.slow
def test_report_in_chromium_draws_charts_and_shows_script_as_text(tmp_path):
    chromium = _chromium()
    html = write_reports(make_report(), tmp_path / "out", ["html"])["html"]
    url = html.resolve().as_uri()
    shot = tmp_path / "shot.png"

    _run(
        chromium,
        tmp_path / "p1",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        url,
    )
    dom = _run(chromium, tmp_path / "p2", "--dump-dom", url)

    assert "&lt;script&gt;document.body.dataset.pwned = 1&lt;/script&gt;" in dom
    assert SCRIPT not in dom
    assert "data-pwned" not in dom
    assert dom.count('class="chart"') == 6
    pixels = image.imread(shot)[:, :, :3]
    assert pixels.shape == (2000, 1280, 3)
    assert float(pixels.std()) > 0.05
    blue = np.all(np.abs(pixels - CHART_BLUE) < 0.04, axis=2)
    assert int(blue.sum()) > 2000
