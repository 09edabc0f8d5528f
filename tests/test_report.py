"""The report opens in a real headless Chromium without console errors, and its figures render."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from forumkit.coding.codebook import load_codebook

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def forumkit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "forumkit", *args], capture_output=True, text=True, timeout=600,
                          cwd=cwd, env={**os.environ, "PYTHONUNBUFFERED": "1"})


@pytest.fixture(scope="module")
def chromium() -> tuple[str, str]:
    """Debian's chromium and chromedriver, which .ci/setup installs (the README's test command runs it first)."""
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver):
        missing = " and ".join(name for name, path in (("chromium", browser), ("chromedriver", driver)) if not path)
        pytest.fail(f"{missing} not found on PATH: run .ci/setup (as root it installs Debian's chromium and "
                    "chromium-driver with apt-get)", pytrace=False)
    return browser, driver


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory) -> Path:
    """The demo store, a coded table for 120 of its topics, and the report of both."""
    work = tmp_path_factory.mktemp("report")
    assert forumkit("demo", "--workdir", str(work / "demo"), "-q", "--stop-after", "sample").returncode == 0
    db = work / "demo" / "sample.db"
    book = load_codebook(ROOT / "forumkit" / "codebooks" / "hf-challenges.yaml")
    codes = [code.id for _, code in book.codes()]
    with sqlite3.connect(db) as con:
        topics = con.execute("SELECT id, created_at FROM topics WHERE pinned = 0 ORDER BY id LIMIT 120").fetchall()
    rng = random.Random(1)
    rows = [(tid, code, created) for tid, created in topics for code in rng.sample(codes, rng.randint(1, 2))]
    coded = work / "coded.csv"
    pd.DataFrame(rows, columns=["topic", "code", "date"]).to_csv(coded, index=False)
    res = forumkit("report", "--db", str(db), "--coded", str(coded), "--item-col", "topic", "--code-col", "code",
                   "--date-col", "date", "--codebook", str(ROOT / "forumkit" / "codebooks" / "hf-challenges.yaml"),
                   "--period", "quarter", "--out", str(work / "report"))
    assert res.returncode == 0, res.stderr
    return work / "report"


def test_report_files(report_dir):
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    for section in ("Taxonomy", "Over time", "Forum activity", "Model mentions", "Provenance"):
        assert f">{section}</h2>" in html
    assert "forumkit report --db" in html or "-m forumkit report" in html  # the command that produced it
    for name in ("categories", "taxonomy", "shares_area", "cumulative_topics", "model_mentions"):
        for fmt in ("png", "svg"):
            assert (report_dir / "figures" / f"{name}.{fmt}").stat().st_size > 1000
    trends = pd.read_csv(report_dir / "tables" / "category_trends.csv")
    assert set(trends["trend"]) <= {"rising", "falling", "no trend"}
    assert "src=\"http" not in html  # self-contained: nothing loaded from the network


def test_report_renders_in_headless_chromium(report_dir, chromium, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = chromium
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2400"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        driver.get((report_dir / "index.html").as_uri())
        driver.implicitly_wait(5)
        plotted = driver.find_elements("css selector", "#taxonomy-sunburst .main-svg")
        figures = driver.find_elements("css selector", "figure svg")
        sizes = driver.execute_script(
            "return Array.from(document.querySelectorAll('figure svg')).map(s => s.getBoundingClientRect().height)")
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        shot = report_dir / "screenshot.png"
        driver.save_screenshot(str(shot))
    finally:
        driver.quit()
    assert not errors, errors
    assert plotted, "the plotly sunburst did not render"
    assert len(figures) >= 8 and min(sizes) > 50
    assert shot.stat().st_size > 20_000


def test_category_bars_take_a_share_of_one():
    """A category on every coded item: its Wilson upper bound is 1 up to rounding, never a negative error bar."""
    from forumkit.analysis import figures

    totals = pd.DataFrame({"name": ["Spaces", "API"], "n": [12, 3], "n_items": [12, 12], "share": [1.0, 0.25],
                           "ci_low": [0.7575, 0.0889], "ci_high": [0.9999999999999999, 0.5322]})
    figures.category_bars(totals, "every item")
