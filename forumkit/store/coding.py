"""Samples, codebook snapshots and coded rows."""

from __future__ import annotations

from .base import Connection


class CodingTables(Connection):
    """Samples, codebook snapshots and coded rows."""
