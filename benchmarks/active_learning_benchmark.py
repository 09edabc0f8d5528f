"""Benchmark of active learning: how many coded items each strategy needs to reach a macro-F1, on labelled data.

Data: a generated forum (``generate_forum(--topics, seed=--forum-seed)``) whose question topics carry planted
hf-challenges codes (``ground_truth()["planted"]``; the label is the planted category). Two texts per topic:

* ``titles``: the title alone (short, varied templates: the hard setting);
* ``questions``: title and first post (templated paragraphs, code and tracebacks: the easy setting).

Protocol, per text variant and seed: a stratified, seeded split into a pool (coders' to-do list) and a held-out
test set (``--test`` share). Start from ``--start`` random pool items, then rounds of ``--batch`` items chosen
by each strategy until ``--budget`` items are coded; after every round the code classifier
(:class:`forumkit.coding.suggest.classifier.CodeClassifier`, as ``suggest codes --train`` fits it, seeded)
is refit on the coded items and scored on the test set (macro-F1 over the test set's categories, top-1
accuracy). Strategies:

* ``random``: a seeded random batch of the uncoded pool (``forumkit sample``'s default);
* ``uncertainty``: ``forumkit sample --strategy uncertainty`` as shipped: margin uncertainty, then the
  seeded spread-out pick among the 5 x batch most uncertain (:mod:`forumkit.coding.suggest.select`);
* ``uncertainty-top``: the batch most uncertain items, no spread (pool factor 1), to show what the spread adds.

With ``--noise q``, the coders err: a seeded share q of the pool's labels is changed to another category
before the simulation (the test set keeps the true labels), as a check that uncertainty sampling, which seeks
out hard and mislabelled-looking items, still pays off with imperfect coders.

Embeddings are cached in a scratch store (or the store ``--cache`` names, kept between runs), so each text is
embedded once.

Usage: .venv/bin/python benchmarks/active_learning_benchmark.py --topics 1500 --seeds 0 1 2 --embedder minilm
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from forumkit.coding.codebook import load_codebook
from forumkit.coding.suggest.classifier import CodeClassifier
from forumkit.coding.suggest.corpus import Corpus
from forumkit.coding.suggest.embed import embed, get_embedder
from forumkit.coding.suggest.select import select_diverse, uncertainty
from forumkit.fakes.discourse import generate_forum
from forumkit.store import Store

STRATEGIES = ("random", "uncertainty", "uncertainty-top")


def labelled_topics(n_topics: int, seed: int) -> pd.DataFrame:
    """item_id, title, question (title + first post's words), code (planted category) of the question topics."""
    import re

    truth = generate_forum(n_topics, seed=seed).ground_truth()
    first = {p["topic_id"]: p["cooked"] for p in truth["posts"].values() if p["post_number"] == 1}
    rows = []
    for tid, row in sorted(truth["planted"].items()):
        title = truth["topics"][tid]["title"]
        words = " ".join(re.sub(r"<[^>]+>", " ", first.get(tid, "")).split())
        rows.append((str(tid), title, f"{title}\n\n{words}", row["codes"][0]))
    return pd.DataFrame(rows, columns=["item_id", "titles", "questions", "code"])


def macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0))


def simulate(frame: pd.DataFrame, variant: str, strategy: str, seed: int, args: argparse.Namespace,
             store: Store, codebook) -> list[dict]:
    """One learning curve: macro-F1 and accuracy on the test set after each round."""
    from sklearn.model_selection import train_test_split

    pool_idx, test_idx = train_test_split(np.arange(len(frame)), test_size=args.test, stratify=frame["code"],
                                          random_state=seed)
    corpus = Corpus(tuple(frame["item_id"]), tuple(frame[variant]), (None,) * len(frame), variant)
    pool = corpus.subset(frame["item_id"].iloc[pool_idx])
    test = corpus.subset(frame["item_id"].iloc[test_idx])
    code_of = dict(zip(frame["item_id"], frame["code"]))
    truth = np.array([code_of[i] for i in test.item_ids])
    if args.noise:  # the coders' errors, in the pool only
        flip = np.random.Generator(np.random.PCG64(10_000 + seed))
        codes = sorted(set(frame["code"]))
        for item in flip.choice(pool.item_ids, round(args.noise * len(pool)), replace=False):
            code_of[item] = flip.choice([c for c in codes if c != code_of[item]])
    vectors = embed(pool.texts, get_embedder(args.embedder), store)
    rng = np.random.Generator(np.random.PCG64(seed))
    coded = list(rng.choice(len(pool), args.start, replace=False))
    curve = []
    while True:
        table = pd.DataFrame({"item_id": [pool.item_ids[i] for i in coded],
                              "code_id": [code_of[pool.item_ids[i]] for i in coded]})
        model = CodeClassifier([codebook], embedder=args.embedder, seed=seed).fit(corpus, table, store)
        proba = model.predict_proba(test, store)
        predicted = np.array(proba.columns)[proba.to_numpy().argmax(axis=1)]
        curve.append({"variant": variant + (f"+noise{args.noise:g}" if args.noise else ""), "strategy": strategy, "seed": seed, "coded": len(coded),
                      "macro_f1": macro_f1(truth, predicted), "top1": float((predicted == truth).mean())})
        if len(coded) >= args.budget:
            return curve
        left = np.setdiff1d(np.arange(len(pool)), coded)
        batch = min(args.batch, args.budget - len(coded))
        if strategy == "random":
            chosen = list(rng.choice(left, batch, replace=False))
        else:
            uncoded = pool.subset([pool.item_ids[i] for i in left])
            scores = uncertainty(model.predict_proba(uncoded, store).to_numpy())
            picked = select_diverse(scores, vectors[left], batch, seed=seed + len(coded),
                                    pool_factor=5.0 if strategy == "uncertainty" else 1.0)
            chosen = list(left[picked])
        coded += chosen


def needed(curves: pd.DataFrame, target: float) -> pd.DataFrame:
    """Per variant, strategy and seed: the fewest coded items at which macro-F1 reached ``target`` (NaN: never)."""
    hit = curves[curves["macro_f1"] >= target].groupby(["variant", "strategy", "seed"])["coded"].min()
    full = curves.groupby(["variant", "strategy", "seed"])["coded"].max() * np.nan
    return hit.combine_first(full).rename(f"items_to_{target:g}").reset_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--topics", type=int, default=1500)
    parser.add_argument("--forum-seed", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=["titles", "questions"])
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES))
    parser.add_argument("--start", type=int, default=10)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--budget", type=int, default=150)
    parser.add_argument("--test", type=float, default=0.3)
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--noise", type=float, default=0.0, help="share of the pool's labels the coders get wrong")
    parser.add_argument("--targets", type=float, nargs="+", default=[0.6, 0.7, 0.8, 0.9])
    parser.add_argument("--out", type=Path, default=None, help="CSV of every curve point")
    parser.add_argument("--cache", type=Path, default=None, help="store that keeps the embeddings between runs")
    args = parser.parse_args()

    frame = labelled_topics(args.topics, args.forum_seed)
    codebook = load_codebook("hf-challenges")
    print(f"{len(frame)} labelled question topics, {frame['code'].nunique()} categories: "
          f"{frame['code'].value_counts().to_dict()}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, Store(args.cache or Path(tmp) / "cache.db") as store:
        started = time.perf_counter()
        for variant in args.variants:
            embed(list(frame[variant]), get_embedder(args.embedder), store)
        print(f"embedded {len(args.variants) * len(frame)} texts with {args.embedder} in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        for variant in args.variants:
            for seed in args.seeds:
                for strategy in args.strategies:
                    started = time.perf_counter()
                    curve = simulate(frame, variant, strategy, seed, args, store, codebook)
                    rows += curve
                    print(f"{variant:9s} seed {seed} {strategy:15s} " + " ".join(
                        f"{p['coded']}:{p['macro_f1']:.2f}" for p in curve) +
                        f"  ({time.perf_counter() - started:.0f} s)", flush=True)
    curves = pd.DataFrame(rows)
    if args.out:
        curves.to_csv(args.out, index=False)
    mean = curves.groupby(["variant", "strategy", "coded"])["macro_f1"].mean().unstack("coded")
    print("\nmean macro-F1 over seeds by coded items:\n" + mean.round(3).to_string())
    table = needed(curves, args.targets[0])
    for target in args.targets[1:]:
        table = table.merge(needed(curves, target), on=["variant", "strategy", "seed"])
    summary = table.groupby(["variant", "strategy"]).agg(
        **{c: (c, lambda s: "/".join("—" if np.isnan(v) else str(int(v)) for v in s))
           for c in table.columns if c.startswith("items_to_")})
    print(f"\ncoded items needed to reach macro-F1 (seeds {' / '.join(map(str, args.seeds))}; — = not within "
          f"{args.budget}):\n" + summary.to_string())
    print(json.dumps({"topics": len(frame), "seeds": args.seeds, "start": args.start, "batch": args.batch,
                      "budget": args.budget, "test": args.test, "embedder": args.embedder,
                      "noise": args.noise, "forum_seed": args.forum_seed}))


if __name__ == "__main__":
    main()
