"""Hub trends written to a folder: what `forumkit hub trends` computes and writes.

:func:`forumkit.analysis.hubtrends.hub_trends` computes the tables; :func:`write_hub_trends` computes them for
a store and writes every table (CSV) and figure (PNG, SVG) into one folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from forumkit.analysis.hubtrends import HubTrends, hub_trends, write_figures, write_tables
from forumkit.errors import UsageError
from forumkit.store import Store

__all__ = ["HubTrendsFiles", "write_hub_trends"]


@dataclass(frozen=True)
class HubTrendsFiles:
    """The computed trends and the files written: table name -> CSV, figure name -> SVG (a PNG beside each)."""

    result: HubTrends
    tables: dict[str, Path]
    figures: dict[str, Path]


def write_hub_trends(store: Store, folder: str | PathLike[str], *, period: str = "month", top: int = 10,
                     endpoint: str | None = None, mapping: str | PathLike[str] | None = None) -> HubTrendsFiles:
    """Hub trends of the store's models (``endpoint``'s, when it holds several Hubs), written into ``folder``.

    ``top`` model types are shown on their own (the rest add up to 'other'); ``mapping`` is a CSV of
    pattern,family (default: the shipped one). Example: ``write_hub_trends(store, "hub-trends/").tables``
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file", hint="give a folder for the tables and figures, e.g. --out hub/")
    result = hub_trends(store, period=period, top=top, endpoint=endpoint.rstrip("/") if endpoint else None,
                        mapping=mapping)
    return HubTrendsFiles(result, write_tables(result, folder), write_figures(result, folder, top=top))
