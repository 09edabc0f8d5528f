"""The store: forumkit's SQLite database, its schema and all of its SQL.

Every other module reads and writes through :class:`Store` methods; the records it keeps
are in :mod:`forumkit.store.records`.
"""

from .database import SCHEMA, SCHEMA_VERSION, Store, utcnow
from .records import Category, CrawlRun, HubModel, ParsedPost, Post, Topic, TopicState, User

__all__ = ["SCHEMA", "SCHEMA_VERSION", "Category", "CrawlRun", "HubModel", "ParsedPost", "Post", "Store", "Topic",
           "TopicState", "User", "utcnow"]
