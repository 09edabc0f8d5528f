"""The reads the analysis stage makes (activity, frequencies, Hub trends)."""

from __future__ import annotations

from .base import Connection


class AnalysisReads(Connection):
    """The reads the analysis stage makes (activity, frequencies, Hub trends)."""
