"""The report of a coded study (two codebooks, 60 items, two coders, by quarter) as a reader sees it: one section
per codebook, periods as 2021-Q1, trend tests under the stated rule with Benjamini-Hochberg, figures without
empty boxes for emoji, and the page in headless Chromium (full-page screenshots saved, nothing wider than it)."""

from __future__ import annotations

import json
import os
import random
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from forumkit.coding.codebook import load_codebook
from forumkit.dates import parse_iso, period_label
from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import Crawler
from forumkit.fakes.discourse import FakeDiscourse, generate_forum
from forumkit.store import Store
from forumkit.store.records import HubModel
from forumkit.store.studio import PulledAnnotation, PulledCode, Snapshot, SuggestedCode

from .browser import headless_chromium

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
    with FakeDiscourse(generate_forum(n_topics=140, seed=5, months=24)) as server, Store(db) as store, \
            DiscourseClient(server.url, rate=0) as client:
        Crawler(client, store).run()
    with sqlite3.connect(db) as con:
        topics = con.execute("SELECT id, created_at FROM topics WHERE pinned = 0 ORDER BY created_at").fetchall()
    by_quarter: dict[str, list[int]] = {}
    for topic, created in topics:
        by_quarter.setdefault(period_label(parse_iso(created), "quarter"), []).append(topic)
    per_quarter = -(-N_ITEMS // len(by_quarter))  # a sample stratified by quarter, as `forumkit sample` draws it
    items = sorted(t for ids in by_quarter.values() for t in ids[:per_quarter])[:N_ITEMS]
    rng = random.Random(7)
    challenge, benefit = leaves(CHALLENGES), leaves(BENEFITS)
    categories = list(dict.fromkeys(leaf[1] for leaf in challenge))
    rising = [leaf for leaf in challenge if leaf[1] == categories[0]]
    common = [leaf for leaf in challenge if leaf[1] in categories[1:4]]  # most items: the codes of 3 categories
    kinds = list(dict.fromkeys(leaf[1] for leaf in benefit))
    helps = [leaf for leaf in benefit if leaf[1] in kinds[:2]]
    with Store(db) as store:
        snapshots = [Snapshot(b.id, b.version, json.dumps(b.to_dict())) for b in (CHALLENGES, BENEFITS)]
        project = store.add_studio_project(url="http://127.0.0.1:9", project_id=5, title="study", forum_id=1,
                                           sample_id=None, unit="topic", codebooks=snapshots)
        annotations, codes, suggested = [], [], []
        for position, item in enumerate(items):
            late = position / len(items)
            truth = [rng.choice(rising) if rng.random() < late else rng.choice(common)]
            if rng.random() < 0.4:
                truth.append(rng.choice(common if rng.random() < 0.8 else challenge))
            if rng.random() < 0.7:
                truth.append(rng.choice(helps if rng.random() < 0.85 else benefit))
            truth = list(dict.fromkeys(truth))
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
                          cwd=cwd, env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONWARNINGS": "always"})


def add_hub_models(db: Path) -> None:
    """40 Hub models of the model types the generated forum mentions, created over 2021-2022."""
    rng = random.Random(3)
    models = []
    for i in range(40):
        kind = rng.choice(["bert", "gpt2", "t5", "roberta"])
        created = f"{rng.choice([2021, 2022])}-{rng.randint(1, 12):02d}-10T12:00:00.000Z"
        models.append(HubModel(f"org/{kind}-{i}", "org", created, True, None, None, None, kind, (), (), 0, 0,
                               {"license": "mit"} if i % 2 else None, "mit" if i % 3 else None, (), (), False, False))
    with Store(db) as store:
        store.upsert_hub_models("https://huggingface.co", models)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The study store (a pulled project, two codebooks, two coders, suggestions, Hub models) and
    `forumkit report` of it by quarter, as a researcher runs it."""
    work = tmp_path_factory.mktemp("report")
    db, _ = make_study(work)
    add_hub_models(db)
    res = forumkit("report", "--db", str(db), "--period", "quarter", "--out", str(work / "report"))
    assert res.returncode == 0, res.stderr
    return work / "report", res


@pytest.fixture(scope="module")
def report_dir(built) -> Path:
    return built[0]


def html_of(report_dir: Path) -> str:
    return (report_dir / "index.html").read_text(encoding="utf-8")


def test_each_codebook_has_its_own_section(report_dir):
    html = html_of(report_dir)
    for book in (CHALLENGES, BENEFITS):
        assert f">{book.name} (codebook {book.id}, version {book.version})</h2>" in html
        assert f'id="sunburst-{book.id}"' in html
        counts = pd.read_csv(report_dir / "tables" / f"{book.id}_categories_by_quarter.csv")
        assert set(counts["codebook"]) == {book.id}  # never another codebook's categories in its tables
        # shares of one codebook in one period add up to at most the number of its categories an item can have
        for name in ("shares_heatmap", "shares_small_multiples", "categories"):
            for fmt in ("png", "svg"):
                assert (report_dir / "figures" / f"{book.id}_{name}.{fmt}").stat().st_size > 1000
    assert not (report_dir / "figures" / "shares_area.svg").exists()  # no stacked area of every category
    pairs = pd.read_csv(report_dir / "tables" / "cooccurrence_category.csv")  # both codebooks' categories together
    assert {"hf-challenges", "hf-benefits"} <= set(pairs["codebook_a"]) | set(pairs["codebook_b"])
    for section in ("Co-occurrence", "Agreement", "Suggestion acceptance", "Forum activity", "Model mentions",
                    "Hugging Face Hub", "Provenance"):
        part = html.split(f">{section}</h2>")[1].split("<h2>")[0]
        assert "class='absent'" not in part, section  # each has its data
    topics = html.split(">Topics over time</h2>")[1].split("<h2>")[0]
    assert "class='absent'" in topics and "forumkit suggest topics" in topics  # says why it is empty
    assert "forumkit report --db" in html  # the command that produced it
    assert "src=\"http" not in html  # self-contained: nothing loaded from the network


def test_periods_print_as_labels(report_dir):
    from forumkit.dates import period_label

    html = html_of(report_dir)
    assert re.search(r"<th class='[a-z ]+'>2021-Q1</th>", html) and ">2022-Q4</th>" in html
    assert "00:00:00" not in html.split("</head>")[1].split("Provenance</h2>")[0]  # no timestamp before provenance
    activity = html.split(">Forum activity</h2>")[1].split("<h2>")[0]
    assert re.search(r"<td class='[a-z ]+'>2022-\d\d</td>", activity)  # monthly change points: 2022-06
    assert [period_label(pd.Timestamp(day, tz="UTC"), p) for day, p in (
        ("2021-03-09", "month"), ("2021-03-09", "quarter"), ("2021-03-09", "year"), ("2021-02-01", "week"))] == [
        "2021-03", "2021-Q1", "2021", "2021-W05"]


def test_trend_tests_follow_the_rule_and_are_bh_adjusted(report_dir):
    from scipy.stats import false_discovery_control
    from statsmodels.stats.multitest import multipletests

    from forumkit.analysis.trends import RULE

    html = html_of(report_dir)
    assert RULE.describe() in html  # the rule is stated where the tests are
    for book in (CHALLENGES, BENEFITS):
        trends = pd.read_csv(report_dir / "tables" / f"{book.id}_category_trends.csv")
        rejected = (trends["n"] < RULE.min_periods) | (trends["nonzero"] < RULE.min_nonzero) | (
            trends["items"] < RULE.min_items)
        assert rejected.any() and (~rejected).any()  # the study has both kinds
        assert set(trends.loc[rejected, "trend"]) <= {"too short", "too sparse"}
        assert trends.loc[rejected, "p"].isna().all() and trends.loc[rejected, "p_adj"].isna().all()
        tested = trends[~rejected & trends["p"].notna()]
        assert len(tested) >= 2
        expected = multipletests(tested["p"], method="fdr_bh")[1]
        assert tested["p_adj"].to_numpy() == pytest.approx(expected)
        assert tested["p_adj"].to_numpy() == pytest.approx(false_discovery_control(tested["p"].to_numpy()))
        assert set(tested["trend"]) <= {"rising", "falling", "no trend"}
        assert ((tested["trend"] != "no trend") == (tested["p_adj"] < 0.05)).all()  # decided on the adjusted p
    assert ">too sparse</td>" in html and ">p (BH)</th>" in html


def test_emoji_are_dropped_from_figures_and_kept_in_the_text(built):
    report_dir, res = built
    with sqlite3.connect(report_dir.parent / "study.db") as con:
        names = [name for (name,) in con.execute("SELECT name FROM categories")]
    assert any("🤗" in name for name in names)  # the forum has emoji in its category names
    assert "missing from font" not in res.stderr  # matplotlib warns of every glyph it draws as a box
    svg = (report_dir / "figures" / "cumulative_topics.svg").read_text(encoding="utf-8")
    assert "Transformers" in svg and "🤗" not in svg
    assert "🤗Transformers" in html_of(report_dir)  # the HTML text keeps the name as the forum writes it


def test_report_renders_in_headless_chromium(report_dir, tmp_path):
    """Open the report as a reader does, save full-page screenshots, and check nothing overflows the page."""
    import base64


    driver = headless_chromium(tmp_path / "profile", height=1600)
    shots = report_dir / "screenshots"
    shots.mkdir(exist_ok=True)
    try:
        driver.get((report_dir / "index.html").as_uri())
        driver.implicitly_wait(5)
        plotted = driver.find_elements("css selector", "[id^=sunburst-] .main-svg")
        sizes = driver.execute_script(
            "return Array.from(document.querySelectorAll('figure svg')).map(s => s.getBoundingClientRect().height)")
        widths = driver.execute_script(
            "const b = document.body; return {body: [b.scrollWidth, b.clientWidth], right: b.getBoundingClientRect()"
            ".right, tables: Array.from(document.querySelectorAll('table')).map(t => t.getBoundingClientRect()"
            ".right)}")
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        height = driver.execute_script("return document.documentElement.scrollHeight")
        for index, top in enumerate(range(0, height, 4000)):  # full page, in parts a viewer can open
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"captureBeyondViewport": True, "clip": {
                "x": 0, "y": top, "width": 1280, "height": min(4000, height - top), "scale": 1}})
            (shots / f"report-{index:02d}.png").write_bytes(base64.b64decode(shot["data"]))
    finally:
        driver.quit()
    assert not errors, errors
    assert len(plotted) >= 2, "a codebook's plotly sunburst did not render"
    assert len(sizes) >= 12 and min(sizes) > 50
    assert widths["body"][0] <= widths["body"][1], widths  # nothing wider than the page
    assert max(widths["tables"]) <= widths["right"] + 1, widths  # every table fits (wraps) at 1280 pixels
    assert sum(p.stat().st_size for p in shots.glob("*.png")) > 200_000


def test_category_bars_take_a_share_of_one():
    """A category on every coded item: its Wilson upper bound is 1 up to rounding, never a negative error bar."""
    from forumkit.analysis import figures

    totals = pd.DataFrame({"name": ["Spaces", "API"], "n": [12, 3], "n_items": [12, 12], "share": [1.0, 0.25],
                           "ci_low": [0.7575, 0.0889], "ci_high": [0.9999999999999999, 0.5322]})
    figures.category_bars(totals, "every item")
