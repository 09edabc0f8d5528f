"""A fake Hugging Face Hub on loopback, for tests and benchmarks of the Hub collector.

:func:`generate_models` builds realistic model records (as ``/api/models``
serves them with ``full``, ``config`` and ``cardData``), :class:`FakeHub`
serves them over HTTP with the real query, paging (absolute ``Link`` cursor
URLs) and field-selection semantics, and :class:`Fault` injects the failures
a collector meets (429s with ``RateLimit`` headers, 5xx, truncated bodies,
resets, slow answers). huggingface_hub's own ``HfApi.list_models`` reads it.

>>> with FakeHub(generate_models(100, seed=1), page_size=30) as hub:
...     url = hub.url  # the collector's --endpoint, or HF_ENDPOINT
"""

from __future__ import annotations

from .faults import KINDS, Fault
from .generate import PLACEHOLDER, generate_models
from .query import BadQuery, ListingQuery
from .server import FakeHub, RequestRecord
from .truth import expected_row, problem

__all__ = ["FakeHub", "Fault", "KINDS", "RequestRecord", "generate_models", "PLACEHOLDER", "ListingQuery",
           "BadQuery", "expected_row", "problem"]
