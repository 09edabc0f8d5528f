"""The suggestion stage's tables: the embedding cache and the texts that suggestions read.

Embeddings are cached by (model, sha256 of the text), so that a second ``suggest`` run over the same items
embeds nothing, and an edited post (new text, new hash) is embedded again.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from .base import Connection

_CHUNK = 500
#: Posts that a coder reads: regular (not moderator actions), visible, not withdrawn, not removed.
_READABLE = "p.post_type = 1 AND p.hidden = 0 AND p.user_deleted = 0 AND p.removed_at IS NULL"


class SuggestTables(Connection):
    """Embedding cache and corpus reads for :mod:`forumkit.coding.suggest`."""

    def cached_embeddings(self, model: str, hashes: Sequence[str]) -> dict[str, tuple[int, bytes]]:
        """text hash -> (dim, float32 bytes) for the hashes cached under ``model``."""
        out: dict[str, tuple[int, bytes]] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for text_hash, dim, vector in self.db.execute(
                    f"SELECT text_hash, dim, vector FROM embeddings WHERE model = ? AND text_hash IN ({marks})",
                    (model, *chunk)):
                out[text_hash] = (dim, vector)
        return out

    def cache_embeddings(self, model: str, rows: Iterable[tuple[str, int, bytes]]) -> None:
        """Keep (text hash, dim, float32 bytes) rows under ``model``; a hash already kept is left as it is."""
        with self.transaction():
            self.db.executemany("INSERT OR IGNORE INTO embeddings (model, text_hash, dim, vector) VALUES (?, ?, ?, ?)",
                                ((model, h, d, v) for h, d, v in rows))

    def embedding_count(self, model: str | None = None) -> int:
        """How many embeddings the cache holds (of one model, or of all)."""
        if model is None:
            return self.db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM embeddings WHERE model = ?", (model,)).fetchone()[0]

    def corpus_rows(self, forum_id: int, unit: str, item_ids: Sequence[int] | None = None) -> list[tuple]:
        """(item_id, created_at, title, post texts in order) of live topics or readable posts, by item id.

        A topic's texts are its readable posts' own words (no code, no quotes), first post first; a post's are
        its own text alone. ``item_ids`` None means every live item of the forum.
        """
        if unit == "topic":
            topics = self.db.execute(
                "SELECT id, created_at, title FROM topics WHERE forum_id = ? AND removed_at IS NULL ORDER BY id",
                (forum_id,)).fetchall()
            texts: dict[int, list[str]] = {}
            for topic_id, text in self.db.execute(
                    f"SELECT p.topic_id, p.text FROM posts p WHERE p.forum_id = ? AND {_READABLE}"
                    " ORDER BY p.topic_id, p.post_number", (forum_id,)):
                texts.setdefault(topic_id, []).append(text)
            rows = [(tid, created, title, texts.get(tid, [])) for tid, created, title in topics]
        else:
            rows = [(pid, created, title, [text]) for pid, created, title, text in self.db.execute(
                "SELECT p.id, p.created_at, t.title, p.text FROM posts p JOIN topics t ON t.forum_id = p.forum_id"
                f" AND t.id = p.topic_id WHERE p.forum_id = ? AND {_READABLE} ORDER BY p.id", (forum_id,))]
        if item_ids is not None:
            wanted = set(item_ids)
            rows = [r for r in rows if r[0] in wanted]
        return rows
