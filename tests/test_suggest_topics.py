"""`forumkit suggest topics` on the shipped sample forum (300 generated topics with planted themes).

The forum is scraped for real from the fake Discourse server; the topics are fitted with the static embedder
(the default). One CLI run is checked against the planted themes; a second run with the same seed, in another
process with no network and no Hugging Face home, must write the same bytes, and that process reloads the saved
model; shuffled input must not change the topics; the report must show the topics over time (and render in
headless Chromium).

Fitting UMAP compiles its numba kernels once per process (about half a minute on two cores): the CLI runs in
this process (Typer's runner) and the shuffled fit reuses its kernels; only the offline run pays again.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import Crawler
from forumkit.fakes.discourse import FakeDiscourse, load_sample
from forumkit.store import Store

from .browser import headless_chromium
from .conftest import cli

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
FILES = ("topics.csv", "topic_items.csv", "topic_words.csv", "topic_codes.csv", "new_codes.csv", "run.json",
         "topics_by_quarter.csv", "topic_trends.csv")


def forumkit(*args: object) -> subprocess.CompletedProcess:
    """The `forumkit` command, in this process (tests/conftest.py: cli)."""
    return cli(*args)


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> dict[str, Path]:
    """The sample forum scraped into a store (kept pristine as plain.db), then one CLI topic run on a copy."""
    work = tmp_path_factory.mktemp("topics")
    plain = work / "plain.db"
    with FakeDiscourse(load_sample()) as server, Store(plain) as store, \
            DiscourseClient(server.url, rate=0) as client:
        Crawler(client, store).run()
    db = work / "topics.db"
    shutil.copy(plain, db)
    res = forumkit("suggest", "topics", "--db", db, "--codebook", "hf-challenges", "--min-topic-size", "8",
                   "--seed", "0", "--out", work / "a")
    assert res.returncode == 0, res.stderr
    assert "topics" in res.stdout and "outliers" in res.stdout
    return {"plain": plain, "db": db, "a": work / "a", "work": work}


#: The second run and the reload, in a fresh process (its own hash seed) with no network and no Hugging Face home.
OFFLINE = """\
import json, shutil, sys
import pandas as pd
from forumkit.analysis.topictrends import run_topics
from forumkit.coding.codebook import load_codebook, resolve_codebook
from forumkit.coding.suggest.topics import TopicOptions, load_topic_model
from forumkit.store import Store

plain, work, a = sys.argv[1:]
shutil.copy(plain, f"{work}/again.db")
with Store(f"{work}/again.db") as store:
    run_topics(store, [load_codebook(resolve_codebook("hf-challenges"))], f"{work}/b",
               TopicOptions(min_topic_size=8, seed=0))
model = load_topic_model(a)
words = pd.read_csv(f"{a}/topic_words.csv")
first = [w for w, _ in model.get_topic(0)][:5]
assert first == list(words[words.topic == 0].sort_values("rank").word[:5]), first
topics, _ = model.transform(["CUDA out of memory when fine-tuning bert on a T4, batch size 16"])
print(json.dumps({"topics": [int(t) for t in topics], "n": len(model.get_topic_info())}))
"""


@pytest.fixture(scope="module")
def offline(work) -> dict:
    """Run OFFLINE once: it writes work/b (from again.db) and answers what the reloaded model says."""
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(work["work"] / "no-hf-home"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run([sys.executable, "-c", OFFLINE, str(work["plain"]), str(work["work"]), str(work["a"])],
                         capture_output=True, text=True, timeout=900, env={**os.environ, **env})
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_planted_themes_come_back_as_topics_mapped_to_their_codes(work):
    items = pd.read_csv(work["a"] / "topic_items.csv")
    topics = pd.read_csv(work["a"] / "topics.csv").set_index("topic")
    planted = load_sample().ground_truth()["planted"]
    topic_of = dict(zip(items["item_id"], items["topic"]))
    by_theme: dict[int, list[int]] = collections.defaultdict(list)
    for topic_id, truth in planted.items():
        by_theme[truth["theme"]].append(topic_of[topic_id])
    codes = {truth["theme"]: truth["codes"] for truth in planted.values()}
    big = {theme: got for theme, got in by_theme.items() if len(got) >= 20}
    assert len(big) >= 6, {t: len(g) for t, g in by_theme.items()}
    right = []
    for theme, got in big.items():
        topic, count = collections.Counter(got).most_common(1)[0]
        nearest = topics.loc[topic, "code_id"] if topic != -1 else None
        category = nearest.split(".")[0] + "." + nearest.split(".")[1] if nearest else None
        if count >= 0.6 * len(got) and category == codes[theme][0]:
            right.append(theme)
    assert len(right) >= 0.85 * len(big), (right, sorted(big))
    # most of them to the very subcategory planted
    exact = [t for t in right if topics.loc[collections.Counter(big[t]).most_common(1)[0][0], "code_id"] in codes[t]]
    assert len(exact) >= 0.7 * len(big), exact
    run = json.loads((work["a"] / "run.json").read_text())
    assert run["outliers_after"] <= 0.15 and run["outliers_after"] <= run["outliers_before"]
    assert run["n_items"] == len(items) and run["n_topics"] == len(topics) >= 6


def test_run_is_stored_and_written(work):
    from forumkit.store import Store

    for name in FILES:
        assert (work["a"] / name).stat().st_size > 50, name
    for name in ("topic_shares", "topic_items"):
        assert (work["a"] / "figures" / f"{name}.svg").stat().st_size > 1000
    assert (work["a"] / "model" / "topic_embeddings.safetensors").exists()
    trends = pd.read_csv(work["a"] / "topic_trends.csv")
    assert set(trends["trend"]) <= {"rising", "falling", "no trend"} and len(trends) == len(
        pd.read_csv(work["a"] / "topics.csv"))
    with Store(work["db"]) as store:
        run = store.topic_run()
        assert run is not None and run["unit"] == "topic" and run["seed"] == 0
        assert run["options"]["codebooks"] == ["hf-challenges"]
        stored = pd.DataFrame(store.topic_items(run["id"]), columns=["item_id", "created_at", "topic", "before"])
        assert stored["topic"].tolist() == pd.read_csv(work["a"] / "topic_items.csv")["topic"].tolist()
        assert len(store.topic_codes(run["id"])) == 3 * run["n_topics"]
        assert {r[0] for r in store.topic_words(run["id"])} == set(range(run["n_topics"]))


def test_same_seed_gives_identical_files_and_shuffled_input_changes_nothing(work, offline):
    from forumkit.coding.codebook import load_codebook, resolve_codebook
    from forumkit.coding.suggest.corpus import Corpus, from_store
    from forumkit.coding.suggest.embed import embed, get_embedder
    from forumkit.coding.suggest.topics import TopicOptions, fit_topics

    for name in FILES:  # the offline process's run, from its own copy of the scraped store
        assert (work["a"] / name).read_bytes() == (work["work"] / "b" / name).read_bytes(), name
    for path in sorted((work["a"] / "model").iterdir()):
        assert path.read_bytes() == (work["work"] / "b" / "model" / path.name).read_bytes(), path.name
    book = load_codebook(resolve_codebook("hf-challenges"))
    options = TopicOptions(min_topic_size=8, seed=0)
    with Store(work["work"] / "again.db") as store:
        assert store.topic_run() is not None  # the offline run stored itself there
        corpus = from_store(store)
        embedder = get_embedder("static")
        vectors = embed(corpus.texts, embedder, store)
        perm = np.random.default_rng(3).permutation(len(corpus))
        shuffled = Corpus(tuple(corpus.item_ids[i] for i in perm), tuple(corpus.texts[i] for i in perm),
                          tuple(corpus.dates[i] for i in perm), corpus.source)
        result = fit_topics(shuffled, vectors[perm], [book], options, embedder, store=store)
    first = pd.read_csv(work["a"] / "topic_items.csv").set_index("item_id")["topic"]
    again = result.items.set_index("item_id")["topic"]
    changed = float((first.reindex(again.index) != again).mean())
    assert changed <= 0.01, changed
    assert changed == 0.0  # the canonical order makes input order irrelevant


def test_saved_model_reloads_offline(work, offline):
    topics = pd.read_csv(work["a"] / "topics.csv").set_index("topic")
    assert offline["topics"][0] in topics.index
    assert topics.loc[offline["topics"][0], "code_id"].startswith("CH.MEMORY_AND_PERFORMANCE")


def test_report_shows_topics_over_time_and_renders(work, tmp_path):
    plain = forumkit("report", "--db", str(work["plain"]), "--out", str(tmp_path / "plain"))
    assert plain.returncode == 0, plain.stderr
    plain_page = (tmp_path / "plain" / "index.html").read_text(encoding="utf-8")
    assert "No topic model in the store: run forumkit suggest topics" in plain_page  # says why it is empty
    res = forumkit("report", "--db", str(work["db"]), "--period", "quarter", "--out", str(tmp_path / "report"))
    assert res.returncode == 0, res.stderr
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert ">Topics over time</h2>" in page and "Mann-Kendall trend tests of each topic" in page
    for name in ("topic_shares", "topic_items"):
        assert (tmp_path / "report" / "figures" / f"{name}.png").stat().st_size > 1000
    assert (tmp_path / "report" / "tables" / "topic_trends.csv").exists()
    _render(tmp_path / "report" / "index.html", tmp_path)


def _render(index: Path, tmp_path: Path) -> None:
    """Open the page in headless Chromium: no console errors, the topic figures drawn with a real height."""

    driver = headless_chromium(tmp_path / "profile", height=2400)
    try:
        driver.get(index.as_uri())
        driver.implicitly_wait(5)
        heights = driver.execute_script(
            "return Array.from(document.querySelectorAll('#topics figure svg'))"
            ".map(s => s.getBoundingClientRect().height)")
        rows = driver.find_elements("css selector", "#topics table tr")
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        driver.quit()
    assert not errors, errors
    assert len(heights) == 2 and min(heights) > 50 and len(rows) > 6


def test_one_line_errors(work, tmp_path):
    from forumkit.store import Store

    empty = tmp_path / "empty.db"
    Store(empty).close()
    cases = [
        (["--db", str(empty)], 1, "holds no forum"),
        (["--db", str(work["plain"]), "--since", "2031-01-01"], 2, "no item"),
        (["--db", str(work["plain"]), "--codebook", "no-such-codebook"], 1, "does not exist"),
        (["--db", str(work["plain"]), "--since", "31/01/2023"], 2, "is not a date"),
        (["--db", str(work["plain"]), "--since", "2023-01-01", "--until", "2022-01-01"], 2, "not before"),
        (["--db", str(work["plain"]), "--guide", "magic"], 2, "unknown guide"),
    ]
    for args, status, message in cases:
        res = forumkit("suggest", "topics", *args, "--out", str(tmp_path / "out"))
        assert res.returncode == status, (args, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], (args, res.stderr)
    assert not (tmp_path / "out").exists()


def test_topic_counts_fill_the_calendar_and_test_each_share():
    from forumkit.analysis.topictrends import topic_counts, topic_trends

    dates = [f"2021-{m:02d}-15T10:00:00.000Z" for m in range(1, 13) for _ in range(m)]
    items = pd.DataFrame({"created_at": dates + ["2021-06-01T00:00:00.000Z"] * 5 + [None],
                          "topic": [0] * len(dates) + [-1] * 5 + [1]})
    counts = topic_counts(items, {-1: "outliers", 0: "0_rising", 1: "1_undated"}, "month")
    assert list(counts["period"][:12]) == [f"2021-{m:02d}" for m in range(1, 13)]
    assert set(counts["topic"]) == {0, 1} and len(counts) == 24
    june = counts[(counts["topic"] == 0) & (counts["period"] == "2021-06")].iloc[0]
    assert (june["items"], june["period_items"], june["share"]) == (6, 11, round(6 / 11, 6))
    topics = pd.DataFrame({"topic": [0, 1], "name": ["0_rising", "1_undated"], "size": [78, 1],
                           "share": [0.9, 0.01], "words": ["a b", "c"], "code_id": ["X", None],
                           "similarity": [0.5, 0.1], "new_code": [False, True]})
    trends = topic_trends(items, topics, period="month")
    assert list(trends.trends["series"]) == ["0_rising", "1_undated"]
    assert list(trends.new_codes["topic"]) == [1] and "trend" in trends.new_codes
