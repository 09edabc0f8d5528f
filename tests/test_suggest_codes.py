"""`forumkit suggest codes`: zero-shot and trained suggestions, sets, evidence, determinism, cache, errors.

Small corpora only: MiniLM on a few tens of items (the --texts tests), the shipped static model where a test needs
more items or a scraped forum. Items with known codes come from the generated forum's themes (tests/themed.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forumkit.cli import app
from forumkit.coding.codebook import load_codebook
from forumkit.coding.studio.suggestions import prediction, read_suggestions
from forumkit.coding.suggest.classifier import CodeClassifier, out_of_fold
from forumkit.coding.suggest.codes import COLUMNS
from forumkit.coding.suggest.conformal import (apply_temperature, conformal_threshold, coverage,
                                               expected_calibration_error, fit_temperature, prediction_sets)
from forumkit.coding.suggest.corpus import Corpus
from forumkit.coding.suggest.levels import level_codes, to_level
from forumkit.store import Store

from .conftest import scrape_here
from .themed import themed_items

CH = load_codebook("hf-challenges")
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["suggest", "codes", *args])


def corpus_of(items) -> Corpus:
    return Corpus(tuple(i for i, _, _ in items), tuple(t for _, t, _ in items), tuple(None for _ in items), "test")


def coded_of(items, level: str = "category") -> pd.DataFrame:
    return pd.DataFrame([(i, to_level(CH, c, level) or c) for i, _, c in items], columns=["item_id", "code_id"])


@pytest.fixture
def texts_csv(tmp_path):
    """20 themed items with numeric ids (Label Studio's tasks are keyed by integer item ids)."""
    items = themed_items(2, seed=3)[:20]
    path = tmp_path / "items.csv"
    pd.DataFrame({"id": [str(100 + k) for k in range(len(items))], "body": [t for _, t, _ in items]}).to_csv(
        path, index=False)
    return path


def test_texts_end_to_end_rerun_is_byte_identical_and_embeds_nothing_new(texts_csv, tmp_path):
    cache = tmp_path / "cache.db"
    args = ["--codebook", "hf-challenges", "--codebook", "hf-benefits", "--texts", str(texts_csv), "--id-col", "id",
            "--text-col", "body", "--cache", str(cache), "--seed", "3"]
    first = run(*args, "--out", str(tmp_path / "a.csv"))
    assert first.exit_code == 0, first.output
    with Store(cache) as store:
        cached = store.embedding_count("all-MiniLM-L6-v2")
    assert cached >= 20  # the items and the codebooks' elements
    second = run(*args, "--out", str(tmp_path / "b.csv"))
    assert second.exit_code == 0, second.output
    assert "0 new embeddings" in second.output and "zero-shot" in second.output
    with Store(cache) as store:
        assert store.embedding_count("all-MiniLM-L6-v2") == cached
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()

    table = pd.read_csv(tmp_path / "a.csv")
    assert tuple(table.columns) == COLUMNS
    assert len(table) == 20 * 2 * 3  # top 3 per item and codebook
    assert table["score"].between(0, 1).all() and set(table["rank"]) == {1, 2, 3}
    assert table.groupby(["item_id", "codebook"])["in_set"].any().all()  # never an empty set
    element = r"^(?:name|definition|include note|example \d+|keywords) of (?:CH|BE)\."
    assert table["evidence"].str.contains(element).all()
    assert table["model_version"].nunique() == 1
    # ranked by score within each item and codebook
    for _, group in table.groupby(["item_id", "codebook"]):
        assert list(group["score"]) == sorted(group["score"], reverse=True)
    # the file feeds `studio push --suggestions` (its reader, no server needed)
    books = [load_codebook("hf-challenges"), load_codebook("hf-benefits")]
    suggested = read_suggestions(books, pd.read_csv(tmp_path / "a.csv"), "v1")
    assert sorted(suggested) == list(range(100, 120))
    assert len(prediction(suggested[100], books)["result"]) == 2  # one taxonomy result per codebook


def test_levels_are_consistent_with_the_hierarchy():
    items = themed_items(3, seed=1)
    corpus = corpus_of(items)
    cat = CodeClassifier(["hf-challenges"], level="category", embedder="static").fit(corpus).predict_proba(corpus)
    sub = CodeClassifier(["hf-challenges"], level="subcategory", embedder="static").fit(corpus).predict_proba(corpus)
    assert list(cat.columns) == level_codes(CH, "category")
    assert np.allclose(cat.sum(axis=1), 1) and np.allclose(sub.sum(axis=1), 1)
    for code_id in sub.columns:  # a subcategory never scores above its category; together they make it up
        assert (sub[code_id] <= cat[to_level(CH, code_id, "category")] + 1e-9).all()
    summed = sub.T.groupby(lambda c: to_level(CH, c, "category")).sum().T[cat.columns]
    assert np.allclose(summed.to_numpy(), cat.to_numpy(), atol=1e-6)
    # the code level offers the leaves, each mapped up to its category consistently
    assert all(CH.find(c).is_leaf for c in level_codes(CH, "code"))


def test_trained_beats_zero_shot_with_calibration_and_coverage():
    items = themed_items(8, seed=2, titles_only=True)  # 112 items, titles only: zero-shot is far from perfect
    corpus, coded = corpus_of(items), coded_of(items)
    clf = CodeClassifier(["hf-challenges"], level="category", embedder="static", coverage=0.9, seed=0)
    oof = out_of_fold(clf, corpus, coded, folds=5)
    truth = oof.codes["hf-challenges"]
    columns = list(oof.proba.columns)
    trained_top1 = np.mean([columns.index(c) in truth[str(i)] for i, c in oof.proba.idxmax(axis=1).items()])
    zero = CodeClassifier(["hf-challenges"], level="category", embedder="static").fit(corpus).predict_proba(corpus)
    zero_top1 = np.mean([columns.index(c) in truth[str(i)] for i, c in zero.idxmax(axis=1).items()])
    assert trained_top1 >= zero_top1 + 0.2, (trained_top1, zero_top1)
    assert oof.ece["hf-challenges"] < 0.15
    assert oof.coverage["hf-challenges"] >= 0.8
    # coverage is the share of items whose true code is in their set, counted by hand
    by_hand = np.mean([any(oof.in_set.loc[i].iloc[c] for c in truth[str(i)]) for i in oof.in_set.index])
    assert oof.coverage["hf-challenges"] == pytest.approx(by_hand)
    assert oof.in_set.sum(axis=1).min() >= 1


def test_conformal_sets_match_crepes_and_coverage_holds():
    from crepes import ConformalClassifier

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(600, 6)) * 2
    truth = np.array([rng.choice(6, p=np.exp(row) / np.exp(row).sum()) for row in logits])  # the model is right
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    cal, test = slice(0, 300), slice(300, 600)
    labels = [[int(t)] for t in truth]
    q = conformal_threshold(proba[cal], labels[cal], 0.9)
    n = 300
    assert q == np.sort(1 - proba[np.arange(300), truth[:300]])[int(np.ceil((n + 1) * 0.9)) - 1]
    cc = ConformalClassifier().fit(1 - proba[np.arange(300), truth[:300]])
    theirs = cc.predict_set(1 - proba[test], confidence=0.9, smoothing=False).astype(bool)
    ours = (1 - proba[test]) <= q
    assert (ours == theirs).all()
    sets = prediction_sets(proba[test], q)
    assert sets.sum(axis=1).min() >= 1
    assert coverage(sets, labels[test]) >= 0.85
    # a calibrated model needs no temperature; ECE of a perfectly calibrated model is small
    assert fit_temperature(proba[cal], labels[cal]) == pytest.approx(1.0, abs=0.35)
    assert expected_calibration_error(proba, labels) < 0.08
    assert np.allclose(apply_temperature(proba, 1.0), proba)
    # too small a calibration split cannot promise 0.9: every code is in the set
    assert conformal_threshold(proba[:5], labels[:5], 0.9) == 1.0


@pytest.fixture
def scraped(server, tmp_path):
    db = tmp_path / "forum.db"
    res = scrape_here(server.url, db)
    assert res.returncode == 0, res.stderr
    return db


def test_db_zero_shot_then_trained_on_a_sample(scraped, tmp_path):
    with Store(scraped) as store:
        topic_ids = [row[0] for row in store.corpus_rows(next(iter(dict(store.forums()))), "topic")]
    assert len(topic_ids) > 40
    out = tmp_path / "zs.csv"
    res = run("--codebook", "hf-challenges", "--db", str(scraped), "--embedder", "static", "--out", str(out))
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out)
    assert set(table["item_id"]) == set(topic_ids) and (table["rank"] <= 3).all()
    read_suggestions([CH], table, "v")  # accepted by studio push's reader

    # three coders on 40 topics: the majority decides; the third coder's odd codes are outvoted
    codes = level_codes(CH, "category")
    rows = []
    for k, topic in enumerate(topic_ids[:40]):
        code = codes[k % 4]
        rows += [(topic, code, "ana"), (topic, code, "ben"), (topic, codes[5], "cem")]
    coded = tmp_path / "coded.csv"
    pd.DataFrame(rows, columns=["item_id", "code_id", "coder"]).to_csv(coded, index=False)
    args = ["--codebook", "hf-challenges", "--db", str(scraped), "--embedder", "static", "--train", str(coded),
            "--seed", "5"]
    res = run(*args, "--out", str(tmp_path / "t1.csv"))
    assert res.exit_code == 0, res.output
    assert "trained on 40 coded items" in res.output and "ECE" in res.output and "coverage" in res.output
    again = run(*args, "--out", str(tmp_path / "t2.csv"))
    assert again.exit_code == 0 and "0 new embeddings" in again.output
    assert (tmp_path / "t1.csv").read_bytes() == (tmp_path / "t2.csv").read_bytes()
    trained = pd.read_csv(tmp_path / "t1.csv")
    assert trained["model_version"].iloc[0].startswith("forumkit-suggest/hybrid/static-minilm-256/") and \
        "/lr-" in trained["model_version"].iloc[0]
    learnt = trained[trained["code_id"].isin(codes[:4])]
    assert learnt["evidence"].str.startswith("nearest coded: ").all()
    assert not trained.loc[trained["rank"] == 1, "code_id"].eq(codes[5]).any()  # the outvoted code is not learnt
    # round 2: suggestions for a new sample, learnt from the items coded before (outside the sample)
    drawn = runner.invoke(app, ["sample", "--db", str(scraped), "--name", "round2", "--size", "15", "--seed", "1"])
    assert drawn.exit_code == 0, drawn.output
    res = run(*args, "--sample", "round2", "--out", str(tmp_path / "r2.csv"))
    assert res.exit_code == 0, res.output
    assert pd.read_csv(tmp_path / "r2.csv")["item_id"].nunique() == 15 and "trained on 40 coded items" in res.output
    learnt_share = trained.loc[trained["rank"] == 1, "code_id"].isin(codes[:4]).mean()
    assert learnt_share > table.loc[table["rank"] == 1, "code_id"].isin(codes[:4]).mean() and learnt_share > 0.6


@pytest.mark.parametrize("case", ["unknown codebook", "unknown item", "unknown code", "empty corpus",
                                  "empty texts", "no source"])
def test_bad_input_gets_one_line_errors(case, tmp_path, texts_csv):
    texts = ["--texts", str(texts_csv), "--id-col", "id", "--text-col", "body", "--embedder", "static"]
    books = ["--codebook", "hf-challenges"]
    coded = tmp_path / "coded.csv"
    if case == "unknown codebook":
        args, code, words = ["--codebook", "no-such-book", *texts], 1, "no-such-book"
    elif case == "unknown item":
        pd.DataFrame({"item_id": ["100", "999"], "code_id": ["CH.SPACES", "CH.SPACES"]}).to_csv(coded, index=False)
        args, code, words = [*books, *texts, "--train", str(coded)], 2, "999"
    elif case == "unknown code":
        pd.DataFrame({"item_id": ["100"], "code_id": ["CH.NOPE"]}).to_csv(coded, index=False)
        args, code, words = [*books, *texts, "--train", str(coded)], 2, "CH.NOPE"
    elif case == "empty corpus":
        empty = tmp_path / "empty.csv"
        empty.write_text("id,body\n")
        args, code, words = [*books, "--texts", str(empty), "--id-col", "id", "--text-col", "body"], 2, "no items"
    elif case == "empty texts":
        blank = tmp_path / "blank.csv"
        pd.DataFrame({"id": ["1", "2"], "body": ["", "  "]}).to_csv(blank, index=False)
        args, code, words = [*books, "--texts", str(blank), "--id-col", "id", "--text-col", "body"], 2, "empty"
    else:
        args, code, words = books, 2, "--db or --texts"
    res = run(*args, "--out", str(tmp_path / "out.csv"))
    assert res.exit_code == code, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], res.output
    assert "Traceback" not in res.output and not (tmp_path / "out.csv").exists()


def test_embedding_leaves_the_hub_client_of_the_process_online(monkeypatch):
    """Models load from local files only, without HF_HUB_OFFLINE: setting it would also turn off, for the
    rest of the process, the Hub client that `forumkit hub` uses (a notebook that does both, the test suite)."""
    import os

    from forumkit.coding.suggest.embed import get_embedder

    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    assert get_embedder("static").encode(["a post about CUDA memory"]).shape == (1, 256)
    assert get_embedder("minilm").encode(["a post about CUDA memory"]).shape == (1, 384)
    assert "HF_HUB_OFFLINE" not in os.environ and "TRANSFORMERS_OFFLINE" not in os.environ
