"""`forumkit suggest audit`: planted label flips in a small coded set come back as issues; confused pairs of codes
from the coders, counted by hand; one-line errors for bad --train tables."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forumkit.cli import app
from forumkit.coding.suggest.audit import coder_confusion, label_issues, model_confusion
from forumkit.fakes.discourse import load_sample

FLIPS = 8


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    """The shipped forum's question topics: id, text (title and the first post's words), planted category."""
    truth = load_sample().ground_truth()
    first = {p["topic_id"]: p["cooked"] for p in truth["posts"].values() if p["post_number"] == 1}
    rows = [(tid, truth["topics"][tid]["title"] + "\n" + re.sub(r"<[^>]+>", " ", first[tid]), row["codes"][0])
            for tid, row in sorted(truth["planted"].items())]
    return pd.DataFrame(rows, columns=["item_id", "text", "code_id"])


@pytest.fixture(scope="module")
def flipped(planted, tmp_path_factory) -> tuple[Path, Path, set[int]]:
    """items.csv (150 items), coded.csv with FLIPS codes changed to another category (seeded), the flipped ids."""
    folder = tmp_path_factory.mktemp("audit")
    items = planted.iloc[:150]
    items[["item_id", "text"]].to_csv(folder / "items.csv", index=False)
    coded = items[["item_id", "code_id"]].copy()
    rng = np.random.default_rng(3)
    codes = sorted(set(coded["code_id"]))
    flips = rng.choice(len(coded), FLIPS, replace=False)
    for i in flips:
        coded.iloc[i, 1] = rng.choice([c for c in codes if c != coded.iloc[i, 1]])
    coded.to_csv(folder / "coded.csv", index=False)
    return folder / "items.csv", folder / "coded.csv", {int(coded.iloc[i, 0]) for i in flips}


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args], terminal_width=200)


def test_audit_finds_the_planted_flips(flipped, tmp_path):
    items, coded, flips = flipped
    res = run("suggest", "audit", "--texts", items, "--id-col", "item_id", "--text-col", "text", "--train", coded,
              "--codebook", "hf-challenges", "--embedder", "static", "--out", tmp_path / "audit.csv")
    assert res.exit_code == 0, res.output
    issues = pd.read_csv(tmp_path / "audit.csv")
    assert list(issues.columns) == ["codebook", "rank", "item_id", "given_code_id", "given_prob", "suggested_code_id",
                                    "suggested_prob", "issue_score"]
    found = set(issues["item_id"].astype(int))
    assert len(found & flips) >= FLIPS - 1, (sorted(flips), issues.head(12))
    top = set(issues["item_id"].head(FLIPS).astype(int))
    assert len(top & flips) >= FLIPS - 2  # the flips rank first
    assert issues["issue_score"].is_monotonic_decreasing and list(issues["rank"]) == list(range(1, len(issues) + 1))
    given = dict(zip(pd.read_csv(coded)["item_id"], pd.read_csv(coded)["code_id"]))
    assert all(given[i] == g for i, g in zip(issues["item_id"], issues["given_code_id"]))
    pairs = pd.read_csv(tmp_path / "audit.pairs.csv")
    assert set(pairs["source"]) == {"model"}  # no coder column: the model's confusions only
    assert set(pairs["codebook"]) == set(issues["codebook"]) == {"hf-challenges"}
    again = run("suggest", "audit", "--texts", items, "--id-col", "item_id", "--text-col", "text", "--train", coded,
                "--embedder", "static", "--out", tmp_path / "again.csv")  # shipped codebook found from the codes
    assert again.exit_code == 0, again.output
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "audit.csv").read_bytes()


def test_coder_pairs_by_hand(tmp_path):
    # item 1: a says A, b says B -> (A, B); item 2: both A -> nothing; item 3: a {A, C}, b {A, B} -> (B, C);
    # item 4: one coder -> not counted; item 5: a B, b A, c A -> (A, B) once for the item
    rows = [(1, "a", "A"), (1, "b", "B"), (2, "a", "A"), (2, "b", "A"), (3, "a", "A"), (3, "a", "C"),
            (3, "b", "A"), (3, "b", "B"), (4, "a", "C"), (5, "a", "B"), (5, "b", "A"), (5, "c", "A")]
    pairs = coder_confusion(pd.DataFrame(rows, columns=["item_id", "coder", "code"]))
    got = {(r.code_a, r.code_b): r.n_items for r in pairs.itertuples()}
    assert got == {("A", "B"): 2, ("B", "C"): 1}
    assert pairs.iloc[0]["code_a"] == "A" and set(pairs["source"]) == {"coders"}
    # share = items with the pair / items (coded by 2+ coders) where either code was given: A or B in 1, 2, 3, 5
    assert pairs.iloc[0]["share"] == pytest.approx(2 / 4)


def test_label_issues_and_model_pairs_on_a_hand_matrix():
    codes = ["A", "B", "C", "D"]  # D is never given: dropped before cleanlab
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 60)
    probs = np.full((60, 4), 0.03)
    probs[np.arange(60), truth] = 0.91
    ids = [f"i{k}" for k in range(60)]
    oof = pd.DataFrame(probs, index=ids, columns=codes)
    labels = [[codes[t]] for t in truth]
    for k in (5, 17, 40):
        labels[k] = [codes[(truth[k] + 1) % 3]]
    issues = label_issues(ids, labels, oof)
    assert list(issues["item_id"]) == ["i5", "i17", "i40"]
    assert list(issues["suggested_code_id"]) == [codes[truth[k]] for k in (5, 17, 40)]
    assert issues["given_prob"].max() < 0.05
    pairs = model_confusion(ids, labels, oof)
    assert pairs["n_items"].sum() == 3 and set(pairs["source"]) == {"model"}
    # several codes on an item: cleanlab's multi-label audit on one-vs-rest probabilities. Items 50-59 have D too,
    # and the model agrees; item 20 was given D that the model finds unlikely
    probs[50:, 3] = 0.9
    multi = [sorted({codes[truth[k]], "D"}) if k >= 50 or k == 20 else list(labels[k]) for k in range(60)]
    issues = label_issues(ids, multi, pd.DataFrame(probs, index=ids, columns=codes))
    assert set(issues["item_id"]) == {"i5", "i17", "i20", "i40"}
    row = issues.set_index("item_id").loc["i20"]
    assert "D" in row["given_code_id"].split("|") and row["given_prob"] == pytest.approx(0.03)


def test_coded_export_with_coders_and_consensus(planted, tmp_path):
    """A table as `export coded` writes it: consensus rows are the given codes, `coders` the coders' own."""
    items = planted.iloc[:40]
    items[["item_id", "text"]].to_csv(tmp_path / "items.csv", index=False)
    rows = []
    for n, (item, code) in enumerate(zip(items["item_id"], items["code_id"])):
        if n % 10 == 0:  # b disagrees on every tenth item, and a (the adjudicator's view) wins
            rows += [(item, code, "a", True), (item, "CH.SPACES" if code != "CH.SPACES" else "CH.API_USAGE", "b",
                                                                                     False)]
        else:
            rows.append((item, code, "a|b", True))
    pd.DataFrame(rows, columns=["item_id", "code_id", "coders", "consensus"]).to_csv(tmp_path / "coded.csv",
                                                                                      index=False)
    res = run("suggest", "audit", "--texts", tmp_path / "items.csv", "--id-col", "item_id", "--text-col", "text",
              "--train", tmp_path / "coded.csv", "--embedder", "static", "--folds", "4", "--out",
              tmp_path / "audit.csv", "--pairs-out", tmp_path / "pairs.csv")
    assert res.exit_code == 0, res.output
    pairs = pd.read_csv(tmp_path / "pairs.csv")
    coders = pairs[pairs["source"] == "coders"]
    assert coders["n_items"].sum() == 4  # items 0, 10, 20, 30
    assert all("CH.SPACES" in (a, b) or "CH.API_USAGE" in (a, b) for a, b in zip(coders["code_a"], coders["code_b"]))
    assert "40 items audited, 40 coded by two or more coders" in " ".join(res.output.split())


def test_one_row_per_coder_gives_the_majority_and_the_coders_codes(planted, tmp_path):
    """A table with a `coder` column (export annotations): given codes are the coders' majority, pairs the rest."""
    from forumkit.coding.codebook import load_codebook
    from forumkit.coding.suggest.corpus import from_table
    from forumkit.coding.suggest.trainset import read_training

    planted.iloc[:3][["item_id", "text"]].to_csv(tmp_path / "items.csv", index=False)
    a, b, c = (str(i) for i in planted["item_id"].iloc[:3])
    rows = [(a, "CH.SPACES", "x"), (a, "CH.SPACES", "y"), (a, "CH.API_USAGE", "z"),  # majority: Spaces
            (b, "CH.MODEL_USAGE_AND_UNDERSTANDING.CUSTOMIZING_MODEL", "x"), (b, "CH.API_USAGE", "y"),  # 1 of 2 each: no majority code
            (c, "CH.API_USAGE", "x")]  # one coder: kept
    pd.DataFrame(rows, columns=["item_id", "code_id", "coder"]).to_csv(tmp_path / "coded.csv", index=False)
    corpus = from_table(tmp_path / "items.csv", id_col="item_id", text_col="text")
    training = read_training(tmp_path / "coded.csv", corpus, [load_codebook("hf-challenges")])
    assert training.given["hf-challenges"] == {a: ["CH.SPACES"], c: ["CH.API_USAGE"]}
    assert sorted(training.item_ids) == sorted([a, b, c]) and len(training.sha256) == 64
    pairs = coder_confusion(training.coders)
    assert {(r.code_a, r.code_b): r.n_items for r in pairs.itertuples()} == {  # at category level, one per item
        ("CH.API_USAGE", "CH.SPACES"): 1, ("CH.API_USAGE", "CH.MODEL_USAGE_AND_UNDERSTANDING"): 1}


@pytest.mark.parametrize("table, message", [
    ("item_id,code_id\n999999,CH.SPACES\n", "item(s) the corpus lacks: 999999"),
    ("item_id,code_id\n{first},CH.NO_SUCH_CODE\n", "code id(s) none of the codebooks has: CH.NO_SUCH_CODE"),
    ("item,label\n{first},CH.SPACES\n", "has no column item_id, code_id"),
])
def test_bad_train_tables_are_one_line_errors(planted, tmp_path, table, message):
    planted.iloc[:20][["item_id", "text"]].to_csv(tmp_path / "items.csv", index=False)
    (tmp_path / "coded.csv").write_text(table.format(first=planted["item_id"].iloc[0]))
    res = run("suggest", "audit", "--texts", tmp_path / "items.csv", "--id-col", "item_id", "--text-col", "text",
              "--train", tmp_path / "coded.csv", "--codebook", "hf-challenges", "--out", tmp_path / "a.csv")
    assert res.exit_code == 2, res.output
    assert message in res.output and res.output.startswith("error:")
    assert len(res.output.strip().splitlines()) <= 2 and "Traceback" not in res.output


def test_items_come_from_one_source(tmp_path):
    res = run("suggest", "audit", "--train", tmp_path / "c.csv", "--out", tmp_path / "a.csv")
    assert res.exit_code == 2 and "pass either --db DB or --texts FILE" in res.output
