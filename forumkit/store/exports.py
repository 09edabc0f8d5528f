"""Batched reads of whole tables for the exports."""

from __future__ import annotations

from .base import Connection


class ExportReads(Connection):
    """Batched reads of whole tables for the exports."""
