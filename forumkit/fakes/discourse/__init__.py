"""A fake Discourse forum on loopback, for tests, benchmarks and ``forumkit demo``.

:func:`generate_forum` builds a realistic Hugging Face-like forum in memory
(:class:`FakeForum`), :class:`FakeDiscourse` serves it over HTTP with the JSON
shapes, paging and quirks of the real Discourse API, and :class:`Fault` injects
the failures a scraper meets in the wild (429s, 5xx, truncated bodies, resets).

>>> forum = load_sample()
>>> with FakeDiscourse(forum) as server:
...     url = server.url  # point the scraper here
"""

from __future__ import annotations

from pathlib import Path

from .faults import Fault
from .generate import generate_forum
from .model import FakeForum
from .server import FakeDiscourse, RequestRecord

#: The forum shipped with forumkit (generated with seed 0; see ``python -m forumkit.fakes.discourse``).
SAMPLE_PATH = Path(__file__).resolve().parents[2] / "data" / "sample_forum.json.gz"


def load_sample() -> FakeForum:
    """Load the shipped sample forum (a few hundred topics, 2021-01 to 2023-06)."""
    return FakeForum.load(SAMPLE_PATH)


__all__ = ["FakeForum", "generate_forum", "FakeDiscourse", "Fault", "RequestRecord", "SAMPLE_PATH", "load_sample"]
