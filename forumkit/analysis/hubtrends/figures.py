"""The Hub trends' figures: uploads, documentation shares, and the forum beside the Hub (PNG and SVG)."""

from __future__ import annotations

import math
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn
    from matplotlib.figure import Figure

    from .result import HubTrends

__all__ = ["plot_forum_vs_hub", "write_figures"]


def plot_forum_vs_hub(table: pd.DataFrame, *, title: str = "Hub uploads and forum topics per model type",
                      cols: int = 3) -> "Figure":
    """Small multiples, one panel per model type: Hub models created (left axis, line) and forum topics
    mentioning it (right axis, dashed), with both verdicts in the panel title. Returns a Figure."""
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    types = list(pd.unique(table["model_type"]))
    cols = max(1, min(cols, len(types)))
    nrows = max(1, math.ceil(len(types) / cols))
    fig = Figure(figsize=(3.6 * cols, 2.5 * nrows), layout="constrained")
    axes = fig.subplots(nrows, cols, squeeze=False)  # one window for all: the same x range
    for ax, name in zip(axes.flat, types):
        part = table[table["model_type"] == name].sort_values("period_start")
        ax.plot(part["period_start"], part["hub_models"], color="#1f77b4", lw=1.3, label="Hub models")
        twin = ax.twinx()
        twin.plot(part["period_start"], part["forum_topics"], color="#d62728", lw=1.1, ls="--", label="forum topics")
        ax.set_title(f"{name}\nhub {part['hub_trend'].iloc[0]} · forum {part['forum_trend'].iloc[0]}", fontsize=8)
        for axis, color in ((ax, "#1f77b4"), (twin, "#d62728")):
            axis.set_ylim(bottom=0)
            axis.yaxis.set_major_locator(MaxNLocator(integer=True))
            axis.tick_params(labelsize=7)
            axis.tick_params(axis="y", colors=color)
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=7))
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    for ax in list(axes.flat)[len(types):]:
        ax.set_visible(False)
    fig.suptitle(f"{title} (solid, left: Hub models; dashed, right: forum topics)", fontsize=9)
    return fig


def write_figures(result: "HubTrends", folder: str | PathLike[str], *, top: int = 10) -> dict[str, Path]:
    """The figures as PNG and SVG in ``folder`` (via :mod:`forumkit.analysis.figures`); returns name -> SVG path."""
    from .. import figures

    out, svgs = Path(folder), {}
    uploads = result.uploads
    if len(uploads):
        area = figures.share_area(uploads.rename(columns={"model_type": "name"}),
                                  f"Share of new Hub models per model type and {result.period}")
        area.axes[0].set_ylabel(f"share of the models created that {result.period}")
        svgs["hub_uploads_share"] = figures.save(area, out, "hub_uploads_share")["svg"]
        svgs["hub_uploads"] = figures.save(figures.lines(
            uploads, x="period_start", y="models", series="model_type", ylabel="models created",
            title=f"Hub models created per {result.period} and model type", top=top + 2), out, "hub_uploads")["svg"]
    if len(result.documentation):
        svgs["hub_documentation"] = figures.save(figures.small_multiples(
            result.documentation.rename(columns={"attribute": "name"}),
            f"Share of new Hub models documenting each attribute, per {result.period}"), out,
            "hub_documentation")["svg"]
    if result.forum is not None and len(result.forum):
        svgs["hub_forum_vs_hub"] = figures.save(plot_forum_vs_hub(result.forum), out, "hub_forum_vs_hub")["svg"]
    return svgs
