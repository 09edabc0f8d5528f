"""Topics of a forum: a BERTopic model guided by the codebook, deterministic, with few outliers.

:func:`suggest_topics` reads the store's items, embeds them (cached in the store), and :func:`fit_topics`
clusters them:

- **Deterministic.** The items are put in one canonical order (by item id) before fitting, UMAP has a fixed
  ``random_state`` (``seed``) and a PCA start and sees each distinct embedding once (:class:`_DistinctUMAP`),
  HDBSCAN is deterministic given its input, and BERTopic gets a copy of the embeddings (its seeded guidance
  edits the array it is given in place). The same store, options and seed
  give the same topics and byte-identical files whatever order the items came in.
- **Guided.** See :mod:`.topicmap`: seed words of the codes by default, the codes' names as zero-shot topics
  on request (with a semantic embedder).
- **Outliers** (topic -1) are reduced in two documented steps, each keeping weak matches out: an outlier
  joins the topic whose c-TF-IDF words it shares most when that similarity is at least
  ``ctfidf_threshold`` (0.1); the rest join the topic whose embedding is nearest when the cosine is at least
  ``embedding_threshold`` (0.3). Items matching nothing stay outliers. The share before and after is reported
  (the issue's goal: at most 15 % after). Topic words are recomputed after the reduction.
- Each topic gets its nearest codes (:func:`.topicmap.map_topics`); a topic that matches none is a candidate
  new code, listed with its words, size and most typical items.

The run goes into the store (:class:`forumkit.store.topics.TopicTables`) and into ``out_dir`` as CSV tables,
``run.json`` and the BERTopic model saved with safetensors (:func:`load_topic_model` reloads it offline).
The trends of the topics over time are :mod:`forumkit.analysis.topictrends`'s.
"""

from __future__ import annotations

import json
import logging
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from forumkit.errors import UsageError

from .topicmap import GUIDES, code_texts, map_topics, seed_words, zeroshot_labels

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from forumkit.coding.codebook import Codebook
    from forumkit.store import Store

    from .corpus import Corpus
    from .embed import Embedder

__all__ = ["FILES", "TopicOptions", "TopicResult", "fit_topics", "load_topic_model", "suggest_topics", "write_run"]

log = logging.getLogger(__name__)

#: The files a run writes into its folder (besides the saved model in ``model/``).
FILES = ("topics.csv", "topic_items.csv", "topic_words.csv", "topic_codes.csv", "new_codes.csv", "run.json")
MODEL_DIR = "model"


@dataclass(frozen=True)
class TopicOptions:
    """Everything a topic run depends on (stored with the run, written to ``run.json``).

    ``since`` (inclusive) and ``until`` (exclusive) are dates such as 2023-01-31; ``new_code_similarity`` is
    the cosine below which a topic's best code does not count as a match (calibrated on the generated forum,
    where themed topics mostly reach 0.35 to 0.6 and mixed or boilerplate ones stay near 0.3).
    """

    unit: str = "topic"
    since: str | None = None
    until: str | None = None
    min_topic_size: int = 10
    seed: int = 0
    embedder: str = "static"
    mapper: str = "minilm"
    guide: str = "seed"
    top_words: int = 10
    top_codes: int = 3
    representatives: int = 3
    new_code_similarity: float = 0.30
    ctfidf_threshold: float = 0.1
    embedding_threshold: float = 0.3
    forum: str | None = None

    def check(self) -> None:
        """One-line errors for options that cannot work, before anything is read or embedded."""
        from forumkit.dates import iso_date

        if self.unit not in ("topic", "post"):
            raise UsageError(f"unknown unit '{self.unit}'", hint="use topic or post")
        if self.guide not in GUIDES:
            raise UsageError(f"unknown guide '{self.guide}'", hint=f"use one of: {', '.join(GUIDES)}")
        if self.min_topic_size < 2:
            raise UsageError(f"--min-topic-size {self.min_topic_size} is too small", hint="use 2 or more (e.g. 10)")
        since, until = iso_date(self.since, "--since"), iso_date(self.until, "--until")
        if since and until and since >= until:
            raise UsageError(f"--since {self.since} is not before --until {self.until}",
                             hint="give a --since earlier than --until")


@dataclass
class TopicResult:
    """A fitted run. Tables (pandas), in canonical order:

    - ``items``: item_id, created_at, topic (after outlier reduction; -1 outlier), topic_before;
    - ``topics``: topic, name, size, share, words, representatives (item ids, most typical first), codebook,
      code_id, category_id, similarity (of the best code), new_code (True when no code matches);
    - ``words``: topic, rank, word, weight (c-TF-IDF);
    - ``codes``: topic, rank, codebook, code_id, category_id, similarity, score;
    - ``new_codes``: the rows of ``topics`` that match no code, with ``examples`` (their typical texts).
    """

    items: pd.DataFrame
    topics: pd.DataFrame
    words: pd.DataFrame
    codes: pd.DataFrame
    new_codes: pd.DataFrame
    outliers_before: float
    outliers_after: float
    model_version: str
    options: TopicOptions
    model: Any = field(default=None, repr=False)
    run_id: int | None = None
    out_dir: Path | None = None


@contextmanager
def _quiet() -> Iterator[None]:
    """BERTopic's logger silenced for a call (it resets its own level whenever it picks a backend)."""
    bertopic_log = logging.getLogger("BERTopic")
    was = bertopic_log.disabled
    bertopic_log.disabled = True
    try:
        yield
    finally:
        bertopic_log.disabled = was


def _backend(embedder: Embedder) -> Any:
    """The embedder as a BERTopic backend, so that seed words and zero-shot labels are embedded alike."""
    from bertopic.backend import BaseEmbedder

    class _Backend(BaseEmbedder):
        def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
            return embedder.encode(list(documents))

    return _Backend()


class _DistinctUMAP:
    """UMAP fitted on the distinct embedding rows only; duplicates get their twin's coordinates.

    Forums repeat texts ("Thanks, that worked!"): identical rows add no geometry but cost UMAP time and, as
    ties, made its spectral start fail and fall back to a start that changed between runs. The distinct rows
    come sorted (``np.unique``), so the fit sees the same input whatever the items' order; the start is PCA.
    HDBSCAN then clusters every item, so a text repeated often enough still forms a topic.
    """

    def __init__(self, seed: int) -> None:
        from umap import UMAP

        self.umap = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", init="pca",
                         random_state=seed, low_memory=True)

    def fit_transform(self, X: np.ndarray, y: Any = None) -> np.ndarray:
        import numpy as np

        distinct, back = np.unique(X, axis=0, return_inverse=True)
        log.info("UMAP on %d distinct rows of %d", len(distinct), len(X))
        return self.umap.fit_transform(distinct)[back.reshape(-1)]

    def transform(self, X: np.ndarray) -> np.ndarray:
        return self.umap.transform(X)


def _model(options: TopicOptions, embedder: Embedder, codebooks: Sequence[Codebook], n_items: int) -> Any:
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import CountVectorizer

    guided: dict[str, Any] = {}
    if options.guide in ("seed", "both"):
        guided["seed_topic_list"] = seed_words(codebooks) or None
    if options.guide in ("zeroshot", "both"):
        guided.update(zeroshot_topic_list=zeroshot_labels(codebooks) or None, zeroshot_min_similarity=0.35)
    return BERTopic(
        embedding_model=_backend(embedder),
        umap_model=_DistinctUMAP(options.seed),
        hdbscan_model=HDBSCAN(min_cluster_size=options.min_topic_size, metric="euclidean",
                              cluster_selection_method="eom", prediction_data=False),
        vectorizer_model=CountVectorizer(stop_words="english", min_df=2 if n_items >= 50 else 1,
                                         token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9_\-]+\b"),
        min_topic_size=options.min_topic_size, top_n_words=options.top_words, calculate_probabilities=False,
        verbose=False, **guided)


def _reduce_outliers(model: Any, docs: list[str], topics: list[int], vectors: np.ndarray,
                     options: TopicOptions) -> list[int]:
    """The two steps of the module docstring; each only when outliers are left (BERTopic fails otherwise)."""
    if -1 in topics:
        topics = model.reduce_outliers(docs, topics, strategy="c-tf-idf", threshold=options.ctfidf_threshold)
    if -1 in topics:
        topics = model.reduce_outliers(docs, topics, strategy="embeddings", embeddings=vectors,
                                       threshold=options.embedding_threshold)
    return [int(t) for t in topics]


def _typical(vectors: np.ndarray, members: np.ndarray, count: int) -> list[int]:
    """Positions of the ``count`` members nearest their centroid (ties: earlier position first)."""
    import numpy as np

    centroid = vectors[members].mean(axis=0)
    sims = np.round(vectors[members] @ centroid, 6)
    order = sorted(range(len(members)), key=lambda i: (-sims[i], members[i]))
    return [int(members[i]) for i in order[:count]]


def fit_topics(corpus: Corpus, vectors: np.ndarray, codebooks: Sequence[Codebook], options: TopicOptions,
               embedder: Embedder, *, mapper: Embedder | None = None, store: Store | None = None) -> TopicResult:
    """Topics of ``corpus`` (whose rows of ``vectors`` are its items' embeddings by ``embedder``).

    ``mapper`` embeds topics and codes for the mapping (default: the embedder named by ``options.mapper``);
    ``store`` caches those embeddings.
    """
    import bertopic
    import numpy as np
    import pandas as pd

    from .embed import get_embedder

    n = len(corpus)
    if n < max(2 * options.min_topic_size, 20):
        raise UsageError(f"{n} items are too few for topics of at least {options.min_topic_size} items",
                         hint="widen --since/--until, or lower --min-topic-size")
    order = sorted(range(n), key=lambda i: corpus.item_ids[i])  # canonical: input order cannot matter
    ids = [corpus.item_ids[i] for i in order]
    dates = [corpus.dates[i] for i in order]
    docs = [corpus.texts[i] for i in order]
    emb = np.ascontiguousarray(vectors[order], dtype=np.float32)
    model = _model(options, embedder, codebooks, n)
    started = time.perf_counter()
    with _quiet():
        before = [int(t) for t in model.fit_transform(docs, embeddings=emb.copy())[0]]
    log.info("BERTopic fitted %d items in %.1f s", n, time.perf_counter() - started)
    if set(before) == {-1}:
        raise UsageError(f"no topic of at least {options.min_topic_size} items was found among {n} items",
                         hint="lower --min-topic-size, or model more items")
    after = _reduce_outliers(model, docs, list(before), emb, options)
    labels = np.asarray(after)
    log.info("outliers reduced from %d to %d items", before.count(-1), after.count(-1))
    if after != before:
        with _quiet():  # BERTopic warns that custom topics come last: they do
            model.update_topics(docs, topics=after, top_n_words=options.top_words,
                                vectorizer_model=model.vectorizer_model)
        # update_topics embeds topics from their words; the centroids of their items match new items better
        model.topic_embeddings_ = np.vstack([emb[labels == k].mean(axis=0) for k in sorted(set(after))])
    topic_ids = sorted(set(after) - {-1})
    words_rows, descriptions, documents, topic_rows, examples = [], [], [], [], []
    for k in topic_ids:
        pairs = [(w, float(s)) for w, s in (model.get_topic(k) or []) if w][:options.top_words]
        words_rows += [(k, rank, w, round(s, 6)) for rank, (w, s) in enumerate(pairs, 1)]
        members = np.flatnonzero(labels == k)
        typical = _typical(emb, members, options.representatives)
        descriptions.append(" ".join(w for w, _ in pairs))
        documents.append(" ".join(docs[i] for i in members))
        name = model.topic_labels_.get(k) or f"{k}_" + "_".join(w for w, _ in pairs[:4])
        topic_rows.append({"topic": k, "name": name, "size": len(members), "share": round(len(members) / n, 6),
                           "words": " ".join(w for w, _ in pairs), "representatives": " ".join(
                               str(ids[i]) for i in typical)})
        examples.append(" | ".join(" ".join(docs[i].split())[:200] for i in typical))
    started = time.perf_counter()
    codes = map_topics(descriptions, documents, code_texts(codebooks), mapper or get_embedder(options.mapper),
                       store, top=options.top_codes)
    codes["topic"] = [topic_ids[k] for k in codes["topic"]]
    log.info("%d topics mapped to codes in %.1f s", len(topic_ids), time.perf_counter() - started)
    best = codes[codes["rank"] == 1].set_index("topic")
    topics = pd.DataFrame(topic_rows, columns=["topic", "name", "size", "share", "words", "representatives"])
    for column in ("codebook", "code_id", "category_id", "similarity"):
        topics[column] = topics["topic"].map(best[column])
    topics["new_code"] = ~(topics["similarity"] >= options.new_code_similarity)
    new_codes = topics[topics["new_code"]].assign(examples=[e for e, new in zip(examples, topics["new_code"])
                                                            if new]).drop(columns="new_code")
    outliers_before = round(float(np.mean(np.asarray(before) == -1)), 6)
    outliers_after = round(float(np.mean(labels == -1)), 6)
    version = (f"bertopic-{bertopic.__version__}/{embedder.name}/guide-{options.guide}/"
               f"min-{options.min_topic_size}/seed-{options.seed}")
    items = pd.DataFrame({"item_id": ids, "created_at": dates, "topic": after, "topic_before": before})
    return TopicResult(items, topics, pd.DataFrame(words_rows, columns=["topic", "rank", "word", "weight"]), codes,
                       new_codes.reset_index(drop=True), outliers_before, outliers_after, version, options, model)


def _in_window(corpus: Corpus, since: str | None, until: str | None) -> Corpus:
    from forumkit.dates import iso_date

    lo, hi = iso_date(since, "--since"), iso_date(until, "--until")
    if lo is None and hi is None:
        return corpus
    keep = [item for item, date in zip(corpus.item_ids, corpus.dates)
            if date is not None and (lo is None or date >= lo) and (hi is None or date < hi)]
    if not keep:
        raise UsageError(f"no item of {corpus.source} was created in the window given by --since/--until",
                         hint="widen the dates")
    return corpus.subset(keep)


def write_run(result: TopicResult, out: Path) -> None:
    """The run's tables, run.json (no timestamps: the same run gives the same bytes) and the model."""
    out.mkdir(parents=True, exist_ok=True)
    for frame, name in ((result.topics, "topics"), (result.items, "topic_items"), (result.words, "topic_words"),
                        (result.codes, "topic_codes"), (result.new_codes, "new_codes")):
        frame.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
    info = {"model_version": result.model_version, "options": asdict(result.options),
            "n_items": len(result.items), "n_topics": len(result.topics),
            "outliers_before": result.outliers_before, "outliers_after": result.outliers_after,
            "model": MODEL_DIR}
    (out / "run.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    with _quiet():  # BERTopic warns that no embedding model is saved: load_topic_model attaches ours
        result.model.save(str(out / MODEL_DIR), serialization="safetensors", save_ctfidf=True,
                          save_embedding_model=False)


def suggest_topics(store: Store, codebooks: Sequence[Codebook], out_dir: str | Path,
                   options: TopicOptions = TopicOptions(), *,
                   progress: Callable[[int, int], None] | None = None) -> TopicResult:
    """Model the topics of the store's items, map them to ``codebooks``, store the run and write ``out_dir``.

    Example: ``suggest_topics(store, [load_codebook(resolve_codebook("hf-challenges"))], "topics/")``
    """
    from forumkit.coding.sampling.draw import forum_of

    from .corpus import from_store
    from .embed import embed, get_embedder

    options.check()
    corpus = _in_window(from_store(store, unit=options.unit, forum=options.forum), options.since, options.until)
    embedder = get_embedder(options.embedder)
    vectors = embed(corpus.texts, embedder, store, progress=progress)
    result = fit_topics(corpus, vectors, codebooks, options, embedder, store=store)
    out = Path(out_dir)
    write_run(result, out)
    run = {"forum_id": forum_of(store, options.forum)[0], "unit": options.unit,
           "model_version": result.model_version, "embedder": embedder.name, "seed": options.seed,
           "options": {**asdict(options), "codebooks": [b.id for b in codebooks]},
           "n_items": len(result.items), "n_topics": len(result.topics), "outliers_before": result.outliers_before,
           "outliers_after": result.outliers_after, "out_dir": str(out)}
    result.run_id = store.save_topic_run(
        run, result.items.itertuples(index=False, name=None), result.words.itertuples(index=False, name=None),
        result.codes.itertuples(index=False, name=None))
    result.out_dir = out
    return result


def load_topic_model(out_dir: str | Path) -> Any:
    """The BERTopic model a run saved in ``out_dir``, with its embedder attached; needs no network."""
    from .embed import get_embedder

    info_path = Path(out_dir) / "run.json"
    if not info_path.exists():
        raise UsageError(f"{out_dir} holds no topic run (no run.json)", hint="give the --out folder of a topics run")
    info = json.loads(info_path.read_text(encoding="utf-8"))
    from bertopic import BERTopic  # a local folder: BERTopic.load reads its files, no Hub

    embedder = get_embedder(info["options"]["embedder"])
    return BERTopic.load(str(Path(out_dir) / info["model"]), embedding_model=_backend(embedder))
