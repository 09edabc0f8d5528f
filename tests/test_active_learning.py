"""Active learning: `forumkit sample --strategy uncertainty` picks the uncoded items a classifier is least sure
of, not near-duplicates of each other, the same on every run, and saves them like any sample."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forumkit.cli import app
from forumkit.coding.codebook import load_codebook
from forumkit.coding.sampling import SampleDesign, draw_sample, load_sample, save_sample
from forumkit.coding.suggest.active import draw_uncertain_sample
from forumkit.coding.suggest.classifier import CodeClassifier
from forumkit.coding.suggest.corpus import from_store
from forumkit.coding.suggest.select import select_diverse, uncertainty
from forumkit.coding.suggest.trainset import read_training
from forumkit.errors import UsageError
from forumkit.fakes.discourse import load_sample as load_fake_forum
from forumkit.store import Store

# -- the pick, on hand-made matrices ----------------------------------------------------------------------------

def test_uncertainty_measures_by_hand():
    probs = np.array([[0.5, 0.5, 0.0], [0.9, 0.05, 0.05], [1 / 3, 1 / 3, 1 / 3], [0.0, 0.0, 0.0], [2.0, 0.0, 2.0]])
    assert uncertainty(probs) == pytest.approx([1.0, 0.15, 1.0, 1.0, 1.0])  # rows renormalised; zeros: uniform
    entropy = uncertainty(probs, "entropy")
    assert entropy[0] == pytest.approx(np.log(2) / np.log(3)) and entropy[2] == pytest.approx(1.0)
    assert entropy[1] == pytest.approx(-(0.9 * np.log(0.9) + 0.1 * np.log(0.05)) / np.log(3))
    with pytest.raises(UsageError, match="unknown uncertainty measure"):
        uncertainty(probs, "variance")


def test_uncertainty_is_averaged_over_codebooks():
    # columns 0-1: one codebook (sure of the first row, torn on the second); 2-4: another (torn, then sure)
    probs = np.array([[1.0, 0.0, 0.4, 0.4, 0.2], [0.5, 0.5, 0.0, 0.0, 1.0]])
    assert uncertainty(probs, groups=[[0, 1], [2, 3, 4]]) == pytest.approx([0.5, 0.5])
    assert uncertainty(probs) == pytest.approx([1 - (0.5 - 0.2), 1 - (0.5 - 0.25)])  # one block: a different thing


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_pick_prefers_uncertain_items_and_differs_from_random():
    rng = np.random.default_rng(0)
    vectors = _unit(rng.normal(size=(200, 16)))
    scores = rng.random(200)
    picked = select_diverse(scores, vectors, 10, seed=1)
    assert len(set(picked)) == 10
    assert set(picked) <= set(np.argsort(-scores)[:50])  # among the 5 x 10 most uncertain
    assert picked[0] == int(np.argmax(scores))
    random = rng.choice(200, 10, replace=False)
    assert set(picked) != set(random) and scores[picked].mean() > scores[random].mean() + 0.2


def test_near_duplicates_are_not_all_picked():
    rng = np.random.default_rng(1)
    vectors = _unit(rng.normal(size=(60, 8)))
    vectors[:12] = _unit(vectors[0] + 0.01 * rng.normal(size=(12, 8)))  # twelve near copies of one post ...
    scores = np.linspace(0.5, 0.4, 60)
    scores[:12] = 0.99  # ... that the model is least sure of
    picked = select_diverse(scores, vectors, 8, seed=3)
    assert len(set(picked) & set(range(12))) <= 2
    assert len(set(np.argsort(-scores, kind="stable")[:8]) & set(range(12))) == 8  # uncertainty alone: all copies
    exact = vectors.copy()
    exact[:12] = exact[0]
    assert len(set(select_diverse(scores, exact, 8, seed=3)) & set(range(12))) == 1


def test_the_pick_is_seeded():
    rng = np.random.default_rng(2)
    vectors, scores = _unit(rng.normal(size=(100, 8))), rng.random(100)
    first = select_diverse(scores, vectors, 12, seed=5)
    assert np.array_equal(first, select_diverse(scores, vectors, 12, seed=5))
    assert not np.array_equal(first, select_diverse(scores, vectors, 12, seed=6))
    with pytest.raises(UsageError, match="cannot choose 101 items from 100"):
        select_diverse(scores, vectors, 101)


# -- on a store -------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_db(demo_workdir) -> Path:
    return demo_workdir / "sample.db"


@pytest.fixture
def db(demo_db, tmp_path) -> Path:
    path = tmp_path / "forum.db"
    with sqlite3.connect(demo_db) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    return path


@pytest.fixture(scope="module")
def coded(tmp_path_factory) -> Path:
    """40 question topics of the shipped forum, coded with their planted category."""
    planted = load_fake_forum().ground_truth()["planted"]
    rows = [(tid, row["codes"][0]) for tid, row in sorted(planted.items())][:40]
    path = tmp_path_factory.mktemp("coded") / "coded.csv"
    pd.DataFrame(rows, columns=["item_id", "code_id"]).to_csv(path, index=False)
    return path


CHALLENGES = [load_codebook("hf-challenges")]


def test_uncertainty_sample_is_saved_like_any_sample_and_pushable(db, coded):
    with Store(db) as store:
        design = SampleDesign("round2", size=15, strategy="uncertainty", seed=7)
        chosen = draw_uncertain_sample(store, design, train=coded, codebooks=CHALLENGES, embedder="static")
        save_sample(store, chosen)
        again = draw_uncertain_sample(store, SampleDesign("round2b", size=15, strategy="uncertainty", seed=7),
                                      train=coded, codebooks=CHALLENGES, embedder="static")
        random = draw_sample(store, SampleDesign("random2", size=15, seed=7))
        saved = load_sample(store, "round2")
        _, unit, pushed = store.sample_to_push("round2")  # what `studio push --sample round2` reads
        corpus = from_store(store)
        training = read_training(coded, corpus, CHALLENGES)
        coded_ids = set(training.item_ids)
        pool = corpus.subset([i for i in corpus.item_ids if i not in coded_ids])
        model = CodeClassifier(CHALLENGES, embedder="static", seed=7).fit(corpus, training.table, store)
        probs = model.predict_proba(pool, store)
    picks = list(chosen.items["item_id"])
    assert picks == list(again.items["item_id"])  # deterministic
    assert unit == "topic" and pushed == picks == list(saved.items["item_id"])
    assert not set(picks) & coded_ids
    assert set(picks) != set(random.items["item_id"])
    scores = pd.Series(uncertainty(probs.to_numpy()), index=probs.index)
    drawn = [i for i in random.items["item_id"] if i in scores.index]  # a random draw may hold coded items
    assert scores[picks].mean() > scores[drawn].mean() + 0.1
    assert scores[picks].min() >= scores.quantile(0.5)  # all among the more uncertain half of the pool
    design = saved.design
    assert design.strategy == "uncertainty" and design.seed == 7
    assert design.active["train"] == "coded.csv" and len(design.active["train_sha256"]) == 64
    assert design.active["train_sha256"] == training.sha256 and design.active["coded_items"] == 40
    assert design.active["codebooks"] == ["hf-challenges@1.0"] and design.active["measure"] == "margin"
    assert (saved.items["weight"] == 1.0).all() and list(saved.items["position"]) == list(range(1, 16))


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args], terminal_width=200)


def test_cli_uncertainty_sample_and_its_listing(db, coded, tmp_path):
    res = run("sample", "--db", db, "--name", "round2", "--strategy", "uncertainty", "--train", coded, "--size", "12",
              "--embedder", "static", "--seed", "3", "--out", tmp_path / "round2.csv")
    assert res.exit_code == 0, res.output
    assert "12 of 249 uncoded topics chosen by uncertainty" in " ".join(res.output.split())
    table = pd.read_csv(tmp_path / "round2.csv")
    assert len(table) == 12 and table["url"].str.contains("/t/").all()
    listing = run("samples", "--db", db)
    assert "uncertainty" in listing.output
    plain = run("sample", "--db", db, "--name", "round3", "--size", "12", "--seed", "3")  # random stays the default
    assert plain.exit_code == 0 and "simple random sample" in plain.output


@pytest.mark.parametrize("args, message", [
    (["--strategy", "uncertainty", "--size", "5"], "--strategy uncertainty needs the coded items to learn from"),
    (["--size", "5", "--train", "{coded}"], "--train is for --strategy uncertainty"),
    (["--strategy", "uncertainty", "--train", "{coded}"], "an uncertainty sample needs its size"),
    (["--strategy", "uncertainty", "--train", "{coded}", "--size", "5", "--strata", "period"],
     "an uncertainty sample is not stratified"),
    (["--strategy", "uncertainty", "--train", "{coded}", "--size", "250", "--embedder", "static"],
     "sample size 250 is larger than the 249 uncoded topics left"),
    (["--strategy", "uncertainty", "--train", "{unknown_item}", "--size", "5"], "item(s) the corpus lacks: 99999999"),
    (["--strategy", "uncertainty", "--train", "{unknown_code}", "--size", "5", "--codebook", "hf-challenges"],
     "code id(s) none of the codebooks has: CH.NOPE"),
    (["--strategy", "guess", "--size", "5"], "unknown strategy 'guess'"),
    (["--strategy", "uncertainty", "--train", "{coded}", "--size", "5", "--measure", "variance"],
     "unknown uncertainty measure 'variance'"),
])
def test_cli_errors_are_one_line(db, coded, tmp_path, args, message):
    (tmp_path / "item.csv").write_text("item_id,code_id\n99999999,CH.SPACES\n")
    (tmp_path / "code.csv").write_text(f"item_id,code_id\n{pd.read_csv(coded)['item_id'][0]},CH.NOPE\n")
    values = {"coded": coded, "unknown_item": tmp_path / "item.csv", "unknown_code": tmp_path / "code.csv"}
    res = run("sample", "--db", db, "--name", "r", *[a.format(**values) for a in args])
    assert res.exit_code == 2, res.output
    assert res.output.startswith("error:") and message in " ".join(res.output.split())
    assert "Traceback" not in res.output
    with Store(db) as store:
        assert "r" not in store.saved_sample_names()
