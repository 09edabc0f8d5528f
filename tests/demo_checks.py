"""What `forumkit demo` must have made, checked against what the shipped snapshot and coding key imply.

tests/test_readme.py calls :func:`check_demo` right after it runs the README's first command as written
(install, then `forumkit demo`), so the demo is tested end to end exactly as a new user runs it. The expected
numbers are computed here from the key (``forumkit/data/demo_coding_key.csv``) and the sample, independently of
forumkit's aggregation: the consensus of two coders is a code both gave (a majority of two), rolled up to its
category; the quarters are the topics' UTC creation quarters; Cohen's kappa is scikit-learn's on the pooled item
x code decisions over the codes anybody applied.
"""

from __future__ import annotations

import csv
import sqlite3
from collections import Counter
from pathlib import Path

import pandas as pd
from sklearn.metrics import cohen_kappa_score

from forumkit.demo.coders import load_coding_key

from .browser import headless_chromium

BOOKS = ("hf-challenges", "hf-benefits")


def _category(code: str) -> str:
    return ".".join(code.split(".")[:2])


def expected_counts(demo: Path) -> Counter:
    """(codebook, category, quarter) -> coded topics, from the key and the sample."""
    key = load_coding_key()
    with open(demo / "sample-demo.csv", encoding="utf-8", newline="") as fh:
        sample = {int(row["item_id"]): row["created_at"] for row in csv.DictReader(fh)}
    counts: Counter = Counter()
    for item, created in sample.items():
        quarter = f"{created[:4]}-Q{(int(created[5:7]) - 1) // 3 + 1}"
        for book in BOOKS:
            agreed = set(key.of(item, "coder1", book)) & set(key.of(item, "coder2", book))
            for category in {_category(code) for code in agreed}:
                counts[book, category, quarter] += 1
    return counts


def expected_kappa(demo: Path) -> float:
    key = load_coding_key()
    with open(demo / "sample-demo.csv", encoding="utf-8", newline="") as fh:
        items = [int(row["item_id"]) for row in csv.DictReader(fh)]
    given = {(item, coder): {c for book in BOOKS for c in key.of(item, coder, book)}
             for item in items for coder in ("coder1", "coder2")}
    codes = sorted(set().union(*given.values()))
    a = [code in given[item, "coder1"] for item in items for code in codes]
    b = [code in given[item, "coder2"] for item in items for code in codes]
    return float(cohen_kappa_score(a, b))


def check_demo(demo: Path) -> None:
    """Every stage left its files, and the coded numbers are the key's."""
    for name in ("sample.db", "posts.parquet", "suggestions.csv", "coded.csv", "coded.parquet", "coded.qdpx",
                 "agreement/overall.csv", "acceptance/per_code.csv", "topics/topics.csv", "report/index.html"):
        assert (demo / name).exists(), f"the demo did not write {name}"
    with sqlite3.connect(demo / "sample.db") as con:
        assert con.execute("SELECT count(*) FROM hub_models").fetchone()[0] > 0, "no Hub models collected"
    found: Counter = Counter()
    for book in BOOKS:
        table = pd.read_csv(demo / "frequencies" / f"{book}-by-quarter.csv")
        for row in table[table["n"] > 0].itertuples():
            found[book, row.code_id, row.period] += int(row.n)
    expected = expected_counts(demo)
    assert found == expected, f"frequencies differ from the key: {sorted((found - expected).items())[:5]} " \
                              f"vs {sorted((expected - found).items())[:5]}"
    overall = pd.read_csv(demo / "agreement" / "overall.csv").set_index("measure")["value"]
    assert abs(overall["cohen_kappa"] - expected_kappa(demo)) < 1e-9
    assert 0.5 < overall["cohen_kappa"] < 0.95, "the key is meant to give good but imperfect agreement"
    check_report(demo / "report", coded=len(pd.read_csv(demo / "sample-demo.csv")), kappa=overall["cohen_kappa"])


SECTIONS = ("HF challenges (codebook hf-challenges, version 1.0)", "HF benefits (codebook hf-benefits, version 1.0)",
            "Agreement", "Suggestion acceptance", "Topics over time", "Forum activity", "Model mentions",
            "Hugging Face Hub", "Provenance")


def check_report(report: Path, *, coded: int, kappa: float) -> None:
    """Every section has data, the key numbers are the ones computed, and Chromium renders it; the full-page
    screenshots are left in report/screenshots/ to look at."""
    html = (report / "index.html").read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f">{section}</h2>" in html, f"the demo's report has no section {section}"
        part = html.split(f">{section}</h2>")[1].split("<h2>")[0]
        assert "class='absent'" not in part, f"the demo's report section {section} has no data"
    assert f"{coded} coded items" in html
    agreement = html.split(">Agreement</h2>")[1].split("<h2>")[0]
    assert f"{kappa:.3f}" in agreement, "the report's Cohen's kappa is not the agreement table's"
    driver = headless_chromium(report / "chromium-profile")
    shots = report / "screenshots"
    shots.mkdir(exist_ok=True)
    try:
        driver.get((report / "index.html").as_uri())
        driver.implicitly_wait(5)
        height = driver.execute_script("return document.body.scrollHeight")
        too_wide = driver.execute_script("return document.body.scrollWidth > document.body.clientWidth")
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        for n, top in enumerate(range(0, height, 4000)):
            driver.set_window_size(1280, 4000)
            driver.execute_script(f"window.scrollTo(0, {top})")
            driver.save_screenshot(str(shots / f"demo-{n:02d}.png"))
        plotted = driver.find_elements("css selector", ".main-svg")
    finally:
        driver.quit()
    assert not errors, errors
    assert not too_wide, "the demo's report is wider than the page"
    assert plotted, "the interactive sunbursts did not render"
