"""Code suggestions benchmark: accuracy on real forum excerpts, calibration and coverage, and timings.

1. Zero-shot, category level, on the SANER 2024 replication package's excerpts (../shared/data/saner2024:
   Challenges.csv and Benefits.csv, column Example, "T123:" prefix stripped, category forward-filled; 47 and 22
   items). The shipped codebooks never contain these texts: they are the held-out test set. Methods: the issue's
   baseline, the semantic and lexical halves, the chosen hybrid, the hybrid without the codebooks' keywords, and
   the hybrid with the static embedder. Top-1, top-3, macro-F1 over the categories present.
2. Trained, 5-fold cross-validation (folds stratified by category, seed 0) of the whole pipeline (75/25
   fit/calibration split inside each fold, back-off to the zero-shot prior, temperature, split conformal at 0.9)
   on the same excerpts, and on 420 items of the generated forum's question themes (titles only, labels from
   tests/themed.py). Top-1, top-3, macro-F1, ECE (15 bins), conformal coverage and mean set size.
3. Timings: `forumkit suggest codes` on 100,000 cached items (the cache filled with the static embedder first,
   timed separately) and training on 5,000 coded items, each in its own process; peak memory.

    PYTHONPATH=. .venv/bin/python benchmarks/suggest_codes_benchmark.py [--items 100000] [--train 5000]
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from forumkit.coding.codebook import Code, Codebook, load_codebook  # noqa: E402
from forumkit.coding.suggest.classifier import CodeClassifier, out_of_fold  # noqa: E402
from forumkit.coding.suggest.corpus import Corpus  # noqa: E402
from forumkit.coding.suggest.embed import embed, get_embedder  # noqa: E402
from forumkit.coding.suggest.levels import to_level  # noqa: E402
from forumkit.coding.suggest.zeroshot import ZeroShotScorer  # noqa: E402
from forumkit.store import Store  # noqa: E402
from tests.themed import themed_items  # noqa: E402

SANER = ROOT.parent / "shared" / "data" / "saner2024"
BOOKS = {"hf-challenges": "Challenges.csv", "hf-benefits": "Benefits.csv"}


def excerpts(name: str) -> list[tuple[str, str]]:
    """(text, category name) of each example of the paper's table."""
    path = SANER / BOOKS[name]
    if not path.is_file():
        sys.exit(f"error: {path} is missing; put the SANER 2024 replication package in {SANER}")
    out, category = [], None
    with path.open(encoding="utf-8") as handle:
        for row in list(csv.reader(handle))[1:]:
            category = row[1].strip() or category
            text = row[4].strip() if len(row) > 4 else ""
            if text:
                out.append((re.sub(r"^T\d+\s*:\s*", "", text).strip().strip('"').strip("“”").strip(), category))
    return out


def metrics(scores: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    from sklearn.metrics import f1_score

    order = np.argsort(-scores, axis=1, kind="stable")
    top1 = float(np.mean(order[:, 0] == truth))
    top3 = float(np.mean([t in order[i, :3] for i, t in enumerate(truth)]))
    return top1, top3, float(f1_score(truth, order[:, 0], labels=np.unique(truth), average="macro", zero_division=0))


def without_keywords(book: Codebook) -> Codebook:
    def strip(code: Code) -> Code:
        return Code(code.id, code.name, code.definition, code.include, code.exclude, code.examples,
                    tuple(strip(c) for c in code.children))
    return Codebook(book.id, book.name, book.version, book.description, book.citation,
                    tuple(strip(c) for c in book.categories))


def zero_shot(store: Store) -> None:
    print("## zero-shot, category level, paper excerpts (no tuning on them)")
    print(f"{'codebook':14} {'method':34} top1  top3  macroF1")
    for name in BOOKS:
        book, rows = load_codebook(name), excerpts(name)
        key = {re.sub(r"\W+", "", c.name.lower()): j for j, c in enumerate(book.categories)}
        truth = np.array([key[re.sub(r"\W+", "", c.lower())] for _, c in rows])
        items = [t for t, _ in rows]
        for label, method, embedder, cb in (("baseline (issue)", "baseline", "minilm", book),
                                            ("semantic: MiniLM elements 1/2max+1/2mean", "semantic", "minilm", book),
                                            ("lexical: BM25 over codebook words", "lexical", "minilm", book),
                                            ("hybrid, no keywords", "hybrid", "minilm", without_keywords(book)),
                                            ("hybrid (chosen)", "hybrid", "minilm", book),
                                            ("hybrid, static embedder", "hybrid", "static", book)):
            model = get_embedder(embedder)

            def encode(texts: list[str], model=model) -> np.ndarray:
                return embed(list(texts), model, store)

            scores = ZeroShotScorer(cb, "category", method).fit(encode).score(encode(items), items)
            print(f"{name:14} {label:34} " + "  ".join(f"{v:.3f}" for v in metrics(scores, truth)))


def cross_validated(title: str, book: str, items: list[tuple[str, str, str]], store: Store) -> None:
    corpus = Corpus(tuple(i for i, _, _ in items), tuple(t for _, t, _ in items), tuple(None for _ in items), title)
    coded = pd.DataFrame([(i, c) for i, _, c in items], columns=["item_id", "code_id"])
    clf = CodeClassifier([book], level="category", embedder="minilm", coverage=0.9, seed=0)
    t0 = time.perf_counter()
    oof = out_of_fold(clf, corpus, coded, folds=5, store=store)
    columns = list(oof.proba.columns)
    truth = np.array([oof.codes[book][str(i)][0] for i in oof.proba.index])
    top1, top3, f1 = metrics(oof.proba.to_numpy(), truth)
    size = oof.in_set.sum(axis=1).mean()
    print(f"{title:44} n={len(items):4d} codes={len(set(truth)):2d}/{len(columns)}  top1 {top1:.3f}  top3 {top3:.3f}  "
          f"macroF1 {f1:.3f}  ECE {oof.ece[book]:.3f}  coverage@0.9 {oof.coverage[book]:.3f}  "
          f"set size {size:.2f}  ({time.perf_counter() - t0:.1f} s)")


def trained(store: Store) -> None:
    print("\n## trained, 5-fold CV (stratified, seed 0), category level, MiniLM")
    for name in BOOKS:
        book = load_codebook(name)
        key = {re.sub(r"\W+", "", c.name.lower()): c.id for c in book.categories}
        rows = excerpts(name)
        items = [(f"x{k}", t, key[re.sub(r"\W+", "", c.lower())]) for k, (t, c) in enumerate(rows)]
        cross_validated(f"{name} paper excerpts", name, items, store)
    book = load_codebook("hf-challenges")
    themed = [(i, t, to_level(book, c, "category")) for i, t, c in themed_items(30, seed=11, titles_only=True)]
    cross_validated("generated forum themes (titles only)", "hf-challenges", themed, store)


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) of the child, and its stderr."""
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - t0
    if res.returncode:
        sys.exit(f"error: {' '.join(cmd[:4])} failed: {res.stderr[-800:]}")
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, res.stderr


def timings(n_items: int, n_train: int) -> None:
    print(f"\n## timings (load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())})")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        items = themed_items(n_items // 14 + 1, seed=5)[:n_items]
        texts = tmp / "items.csv"
        pd.DataFrame({"id": [i for i, _, _ in items], "text": [t for _, t, _ in items]}).to_csv(texts, index=False)
        cache = tmp / "cache.db"
        base = [sys.executable, "-m", "forumkit", "suggest", "codes", "--codebook", "hf-challenges", "--texts",
                str(texts), "--id-col", "id", "--text-col", "text", "--cache", str(cache), "--embedder", "static"]
        wall, rss, _ = timed(base + ["--out", str(tmp / "warm.csv")])
        print(f"fill the cache (static embedder, {n_items:,} items, then suggest): {wall:.1f} s")
        wall, rss, log = timed(base + ["--out", str(tmp / "s.csv")])
        rows = sum(1 for _ in open(tmp / "s.csv")) - 1
        print(f"suggest codes, {n_items:,} cached items, zero-shot, category level, hf-challenges: {wall:.1f} s "
              f"(process start to file written; {rows:,} rows; peak RSS {rss:.0f} MB); goal < 60 s")
        coded = tmp / "coded.csv"
        pd.DataFrame([(i, c) for i, _, c in items[:n_train]], columns=["item_id", "code_id"]).to_csv(coded,
                                                                                                   index=False)
        with Store(cache) as store:
            corpus = Corpus(tuple(i for i, _, _ in items[:n_train]), tuple(t for _, t, _ in items[:n_train]),
                            tuple(None for _ in range(n_train)), "timing")
            frame = pd.read_csv(coded, dtype=str)
            clf = CodeClassifier(["hf-challenges"], level="subcategory", embedder="static", seed=0)
            t0 = time.perf_counter()
            clf.fit(corpus, coded=frame, store=store)
            fit = time.perf_counter() - t0
        print(f"training on {n_train:,} coded items (library fit: split, logistic regression on 256-d static "
              f"embeddings, temperature, conformal; subcategory level, {len(clf.columns_['hf-challenges'])} codes): "
              f"{fit:.1f} s; goal < 30 s")
        wall, rss, log = timed(base + ["--level", "subcategory", "--train", str(coded), "--out", str(tmp / "t.csv")])
        print(f"suggest codes --train ({n_train:,} coded items, + 5-fold CV for ECE/coverage) on {n_items:,} items: "
              f"{wall:.1f} s; peak RSS {rss:.0f} MB")
        print("   " + " | ".join(line.strip() for line in log.splitlines() if line.strip()))
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--train", type=int, default=5_000)
    ap.add_argument("--skip-timings", action="store_true")
    ap.add_argument("--skip-accuracy", action="store_true")
    args = ap.parse_args()
    for name in BOOKS:
        excerpts(name)  # fail early when the data is missing
    if not args.skip_accuracy:
        with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "cache.db") as store:
            zero_shot(store)
            trained(store)
    if not args.skip_timings:
        timings(args.items, args.train)


if __name__ == "__main__":
    main()
