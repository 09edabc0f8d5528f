"""Benchmark of `forumkit suggest audit`: how many planted label flips the audit finds, and how many it flags
that were right.

Data: the generated forum's question topics with their planted hf-challenges category (as
benchmarks/active_learning_benchmark.py), text ``titles`` or ``questions``. A seeded share ``--flip`` of the labels
is changed to another category; :func:`forumkit.coding.suggest.audit.audit_codes` (5-fold out-of-fold
probabilities of the code classifier, cleanlab 2.9) then flags items. Reported: flagged, flips found, precision
(flips among flagged), recall (flagged among flips), the flips among the first k flagged, and the seconds.

Usage: .venv/bin/python benchmarks/audit_benchmark.py --topics 1500 --flip 0.05 --seeds 0 1 2 --cache al_cache.db
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from active_learning_benchmark import labelled_topics

from forumkit.coding.codebook import load_codebook
from forumkit.coding.suggest.audit import audit_codes
from forumkit.coding.suggest.corpus import Corpus
from forumkit.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--topics", type=int, default=1500)
    parser.add_argument("--forum-seed", type=int, default=1)
    parser.add_argument("--flip", type=float, default=0.05)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=["titles", "questions"])
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--cache", type=Path, default=None, help="store that keeps the embeddings between runs")
    args = parser.parse_args()

    frame = labelled_topics(args.topics, args.forum_seed)
    codebook = load_codebook("hf-challenges")
    codes = sorted(set(frame["code"]))
    print("variant seed items flips flagged found precision recall flips_in_top_k seconds")
    with tempfile.TemporaryDirectory() as tmp, Store(args.cache or Path(tmp) / "cache.db") as store:
        for variant in args.variants:
            corpus = Corpus(tuple(frame["item_id"]), tuple(frame[variant]), (None,) * len(frame), variant)
            for seed in args.seeds:
                rng = np.random.Generator(np.random.PCG64(seed))
                coded = frame[["item_id", "code"]].rename(columns={"code": "code_id"})
                flips = rng.choice(len(coded), round(args.flip * len(coded)), replace=False)
                for i in flips:
                    coded.iloc[i, 1] = rng.choice([c for c in codes if c != coded.iloc[i, 1]])
                path = Path(tmp) / f"coded-{variant}-{seed}.csv"
                coded.to_csv(path, index=False)
                started = time.perf_counter()
                found = audit_codes(corpus, path, [codebook], embedder=args.embedder, seed=seed, store=store)
                seconds = time.perf_counter() - started
                flipped = {coded.iloc[i, 0] for i in flips}
                flagged = list(found.issues["item_id"])
                hits = len(set(flagged) & flipped)
                top = len(set(flagged[:len(flipped)]) & flipped)
                print(f"{variant} {seed} {len(coded)} {len(flipped)} {len(flagged)} {hits} "
                      f"{hits / max(1, len(flagged)):.2f} {hits / len(flipped):.2f} {top}/{len(flipped)} "
                      f"{seconds:.1f}", flush=True)


if __name__ == "__main__":
    main()
