"""The report opens in a real headless Chromium without console errors, and its figures render."""

from __future__ import annotations

import json
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
from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import Crawler
from forumkit.fakes.discourse import FakeDiscourse, generate_forum
from forumkit.store import Store
from forumkit.store.studio import PulledAnnotation, PulledCode, Snapshot, SuggestedCode

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
CHALLENGES = load_codebook(ROOT / "forumkit" / "codebooks" / "hf-challenges.yaml")
BENEFITS = load_codebook(ROOT / "forumkit" / "codebooks" / "hf-benefits.yaml")
N_ITEMS = 60


def leaves(book) -> list[tuple[str, str, str | None]]:
    """(code id, category name, subcategory name) of each leaf code."""
    return [(code.id, *book.category_of(code.id)) for _, code in book.codes() if code.is_leaf]


def make_study(folder: Path) -> tuple[Path, int]:
    """A store as scrape -> push (with suggestions) -> two coders -> pull leave it, without a server.

    60 topics of a generated forum over 8 quarters (its categories carry 🤗), coded by two coders with two
    codebooks (challenges: one or two codes, one category more frequent as time goes on; benefits: some items),
    coder b departing from coder a on a fifth of the items; the model's suggestions pre-select a's codes
    mostly; a few Hub models of the forum's model types. Returns the store's path and forumkit's project id.
    """
    db = folder / "study.db"
    with FakeDiscourse(generate_forum(n_topics=70, seed=5, months=24)) as server, Store(db) as store, \
            DiscourseClient(server.url, rate=0) as client:
        Crawler(client, store).run()
    with sqlite3.connect(db) as con:
        topics = [r[0] for r in con.execute("SELECT id FROM topics WHERE pinned = 0 ORDER BY created_at")]
    items = topics[:: max(1, len(topics) // N_ITEMS)][:N_ITEMS]
    rng = random.Random(7)
    challenge, benefit = leaves(CHALLENGES), leaves(BENEFITS)
    rising = [leaf for leaf in challenge if leaf[1] == challenge[0][1]]
    with Store(db) as store:
        snapshots = [Snapshot(b.id, b.version, json.dumps(b.to_dict())) for b in (CHALLENGES, BENEFITS)]
        project = store.add_studio_project(url="http://127.0.0.1:9", project_id=5, title="study", forum_id=1,
                                           sample_id=None, unit="topic", codebooks=snapshots)
        annotations, codes, suggested = [], [], []
        for position, item in enumerate(items):
            late = position / len(items)
            truth = [rng.choice(rising) if rng.random() < late else rng.choice(challenge)]
            if rng.random() < 0.3:
                truth.append(rng.choice(challenge))
            if rng.random() < 0.5:
                truth.append(rng.choice(benefit))
            for rank, leaf in enumerate(truth if rng.random() < 0.8 else [rng.choice(challenge)], start=1):
                book = CHALLENGES.id if leaf in challenge else BENEFITS.id
                suggested.append(SuggestedCode(project, item, leaf[0], book, 0.9 - 0.1 * rank, rank, True, None, "v1"))
            for coder_index, coder in enumerate(("a@study.example", "b@study.example")):
                own = list(dict.fromkeys(truth))
                if coder_index and rng.random() < 0.2:
                    own[0] = rng.choice(challenge)
                annotation_id = 2 * position + coder_index + 1
                annotations.append(PulledAnnotation(project, annotation_id, 1000 + position, item, coder, None, 30.0,
                                                    0, None, "2026-01-01T00:00:00.000Z"))
                codes += [PulledCode(project, annotation_id, leaf[0], CHALLENGES.id if leaf in challenge
                                     else BENEFITS.id, leaf[1], leaf[2]) for leaf in dict.fromkeys(own)]
        store.record_studio_suggestions(project, items, suggested)
        store.add_studio_tasks(project, [(item, 1000 + i) for i, item in enumerate(items)])
        store.replace_annotations(project, annotations, codes)
    return db, project


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
    assert forumkit("demo", "--workdir", str(work / "demo"), "-q").returncode == 0
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
