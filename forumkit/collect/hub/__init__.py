"""Hugging Face Hub model metadata: collect ``/api/models`` into the store, resumably, and export it.

:class:`HubClient` fetches listing pages politely (rate limit, 429s, retries),
:func:`parse_model` turns an entry into a :class:`HubModel` with
huggingface_hub's own ``ModelInfo``, and :class:`HubCollector` walks the
listing newest change first into the ``hub_models`` table, committing its
cursor with every page.

>>> from forumkit.store import Store
>>> with Store("hub.db") as store, HubClient(rate=60) as hub:  # doctest: +SKIP
...     result = HubCollector(hub, store, HubOptions(since="2023-01-01T00:00:00.000Z")).run()
...     export_hub_models(store, "parquet", "models.parquet")
"""

from __future__ import annotations

from forumkit.errors import HubBadResponse, HubError, HubRefused, HubUnavailable
from forumkit.store.records import HubRun

from .client import DEFAULT_ENDPOINT, DEFAULT_RATE, HubClient, HubPage, list_models_params, resolve_endpoint
from .collect import WATERMARK_MARGIN, HubCollector, HubOptions, HubProgress, HubResult
from .export import HUB_COLUMNS, export_hub_models
from .records import PLACEHOLDER_CREATED_AT, HubModel, MalformedModel, is_placeholder, parse_model

__all__ = [
    "DEFAULT_ENDPOINT", "DEFAULT_RATE", "HubClient", "HubPage", "list_models_params", "resolve_endpoint",
    "WATERMARK_MARGIN", "HubCollector", "HubOptions", "HubProgress", "HubResult",
    "HubError", "HubUnavailable", "HubBadResponse", "HubRefused",
    "HUB_COLUMNS", "export_hub_models",
    "PLACEHOLDER_CREATED_AT", "HubModel", "MalformedModel", "is_placeholder", "parse_model",
    "HubRun",
]
