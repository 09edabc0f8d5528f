"""Hub models, Hub crawl runs and malformed Hub entries."""

from __future__ import annotations

from .base import Connection


class HubTables(Connection):
    """Hub models, Hub crawl runs and malformed Hub entries."""
