"""Active learning: the next sample to code is the uncoded items a classifier trained on the coded ones is least
sure of, spread over the embedding space (:mod:`.select`), saved like any sample.

The pool is the design's population (every filter of ``forumkit sample`` applies) less the items of the
``--train`` table. The code classifier (:class:`~.classifier.CodeClassifier`: zero-shot prior, logistic
regression on the embeddings, calibrated) learns the codes of the training items at ``level`` and predicts the
pool; the items' uncertainty and embeddings choose the sample. The design records how: strategy, the training file's name
and sha256, the codebooks (id and version), level, embedder, measure, pool factor, seed and the sizes of the pool
and of the training set, so the choice can be repeated.

Example::

    with Store("hf.db") as store:
        design = SampleDesign("round2", size=50, strategy="uncertainty", seed=7)
        sample = draw_uncertain_sample(store, design, train=Path("coded.csv"),
                                       codebooks=[load_codebook("hf-challenges")])
        save_sample(store, sample)   # then: forumkit studio push --sample round2
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from forumkit.coding.sampling import UNCERTAIN, Sample, SampleDesign, sample_population
from forumkit.errors import UsageError
from .classifier import CodeClassifier
from .corpus import from_store
from .levels import level_codes
from .select import MEASURES, select_diverse, uncertainty
from .trainset import read_training, shipped_codebooks_for

if TYPE_CHECKING:
    from forumkit.coding.codebook import Codebook
    from forumkit.store import Store

__all__ = ["codebook_columns", "draw_uncertain_sample"]


def codebook_columns(columns: Sequence[str], codebooks: Sequence[Codebook], level: str) -> list[list[int]]:
    """The positions in ``columns`` (a probability frame's) of each codebook's codes at ``level``."""
    position = {c: k for k, c in enumerate(columns)}
    return [[position[c] for c in level_codes(cb, level)] for cb in codebooks]


def draw_uncertain_sample(store: Store, design: SampleDesign, *, train: Path, codebooks: Sequence[Codebook] = (),
                          level: str = "category", embedder: str = "minilm", measure: str = "margin",
                          pool_factor: float = 5.0) -> Sample:
    """Choose ``design.size`` uncoded items for the next round of coding (nothing is saved: see ``save_sample``).

    ``codebooks`` default to the shipped codebooks that hold the training table's codes.
    """
    if design.strategy != "uncertainty":
        raise UsageError(f"design '{design.name}' has strategy {design.strategy}, not uncertainty",
                         hint="pass --strategy uncertainty")
    if measure not in MEASURES:
        raise UsageError(f"unknown uncertainty measure '{measure}'", hint=f"use one of: {', '.join(MEASURES)}")
    if pool_factor < 1:
        raise UsageError(f"pool factor {pool_factor} is below 1", hint="use 1 (most uncertain only) or more")
    codebooks = list(codebooks) or shipped_codebooks_for(train)
    forum_id, url, population = sample_population(store, design)
    corpus = from_store(store, unit=design.unit, forum=url)
    training = read_training(train, corpus, codebooks, level)
    coded = set(training.item_ids)
    pool = corpus.subset([i for i in population["item_id"].tolist() if i not in coded])
    n = int(design.size or 0)
    if n > len(pool):
        raise UsageError(f"sample size {n} is larger than the {len(pool)} uncoded {design.unit}s left "
                         f"({design.describe_filters()}; {len(coded)} coded in {train.name})",
                         hint=f"ask for --size {len(pool)} or less, or loosen the filters")
    model = CodeClassifier(codebooks, level=level, embedder=embedder, seed=int(design.seed))
    model.fit(corpus, coded=training.table, store=store)
    probs = model.predict_proba(pool, store=store)
    scores = uncertainty(probs.to_numpy(), measure, groups=codebook_columns(probs.columns, codebooks, level))
    picked = select_diverse(scores, model.embed_corpus(pool, store), n, seed=int(design.seed),
                            pool_factor=pool_factor)
    items = pd.DataFrame({"item_id": np.asarray(pool.item_ids, dtype="int64")[picked], "stratum": UNCERTAIN,
                          "weight": 1.0, "position": np.arange(1, n + 1)})
    active = {"train": train.name, "train_sha256": training.sha256, "coded_items": len(coded),
              "codebooks": [f"{b.id}@{b.version}" for b in codebooks], "level": level, "embedder": embedder,
              "measure": measure, "pool_factor": pool_factor, "pool": len(pool), "model": model.model_version,
              "uncertainty": [round(float(s), 6) for s in scores[picked]]}
    chosen = dataclasses.replace(design, active=active)
    return Sample(chosen, items, {UNCERTAIN: len(pool)}, {UNCERTAIN: n}, None, url, forum_id=forum_id)
