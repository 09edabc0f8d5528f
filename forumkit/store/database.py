"""The store: one :class:`Store` object over one SQLite file, composed of one part per stage.

Each part lives in its own module with its SQL (forum, runs, hub, coding, studio, analysis, exports, suggest, topics,
appendix, adjudication, migrations, rounds);
the schema is :mod:`forumkit.store.schema`, documented in docs/schema.md.
"""

from __future__ import annotations

from .adjudication import AdjudicationTables
from .analysis import AnalysisReads
from .appendix import AppendixReads
from .base import utcnow
from .coding import CodingTables
from .exports import ExportReads
from .forum import ForumTables
from .hub import HubTables
from .migrations import MigrationTables
from .rounds import RoundTables
from .runs import RunTables
from .schema import SCHEMA, SCHEMA_VERSION
from .studio import StudioTables
from .suggest import SuggestTables
from .topics import TopicTables

__all__ = ["SCHEMA", "SCHEMA_VERSION", "Store", "utcnow"]


class Store(ForumTables, RunTables, HubTables, CodingTables, StudioTables, SuggestTables, AnalysisReads,
            ExportReads, TopicTables, AppendixReads, AdjudicationTables, MigrationTables, RoundTables):
    """A forumkit SQLite database. Use as a context manager, or call close()."""
