"""Label Studio projects and tasks as forumkit tracks them."""

from __future__ import annotations

from .base import Connection


class StudioTables(Connection):
    """Label Studio projects and tasks as forumkit tracks them."""
