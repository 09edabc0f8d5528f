"""The report's figures of one codebook's shares over time, drawn on period labels (``2021-Q1``), not dates.

A heatmap of shares (category x period, categories by frequency) reads where a stacked area of twenty
categories cannot; the small multiples give each category's share with its interval, on a shared y axis
so that panels compare. Both take :class:`~forumkit.analysis.aggregate.Aggregator`'s ``counts_`` of one
codebook (columns period, period_start, name, n, n_items, share, ci_low, ci_high). Names go through
:func:`forumkit.analysis.figures.label` (no emoji: matplotlib's fonts have none).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from forumkit.analysis.figures import PALETTE, label

__all__ = ["share_heatmap", "share_multiples", "by_frequency"]


def by_frequency(counts: pd.DataFrame) -> list[str]:
    """Category names, most coded first (ties by name): the order of every table and figure of a codebook."""
    totals = counts.groupby("name")["n"].sum().reset_index().sort_values(["n", "name"], ascending=[False, True])
    return totals["name"].tolist()


def _periods(counts: pd.DataFrame) -> list[str]:
    return counts.sort_values("period_start")["period"].drop_duplicates().tolist()


def _ticks(ax, periods: list[str], *, every: int | None = None) -> None:
    step = every or max(1, math.ceil(len(periods) / 12))
    ax.set_xticks(range(0, len(periods), step))
    ax.set_xticklabels(periods[::step], rotation=45, ha="right", fontsize=7)


def share_heatmap(counts: pd.DataFrame, title: str) -> Figure:
    """Category x period heatmap of shares, categories by frequency, each cell's share printed in it."""
    import matplotlib.pyplot as plt

    names, periods = by_frequency(counts), _periods(counts)
    wide = counts.pivot_table(index="name", columns="period", values="share", aggfunc="sum").reindex(
        index=names, columns=periods).fillna(0.0)
    items = counts.drop_duplicates("period").set_index("period")["n_items"].reindex(periods).fillna(0).astype(int)
    fig, ax = plt.subplots(figsize=(min(14, 2.5 + 0.62 * len(periods)), 1.2 + 0.34 * len(names)))
    top = max(float(wide.to_numpy().max()), 0.05)
    image = ax.imshow(wide.to_numpy(), aspect="auto", cmap="Blues", vmin=0, vmax=top)
    if len(periods) <= 24:
        for (row, col), share in np.ndenumerate(wide.to_numpy()):
            ax.text(col, row, f"{share:.0%}" if share else "·", ha="center", va="center", fontsize=6.5,
                    color="white" if share > 0.6 * top else "#333")
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels([label(n) for n in names], fontsize=8)
    ax.set_xticks(range(len(periods)))
    ax.set_xticklabels([f"{p}\n(n={n})" for p, n in zip(periods, items)] if len(periods) <= 16 else periods,
                       rotation=0 if len(periods) <= 8 else 45, ha="center" if len(periods) <= 8 else "right",
                       fontsize=7)
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01).set_label("share of coded items", fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def share_multiples(counts: pd.DataFrame, title: str, *, cols: int = 4) -> Figure:
    """One panel per category (by frequency) of its share per period with its interval, shared axes."""
    import matplotlib.pyplot as plt

    names, periods = by_frequency(counts), _periods(counts)
    position = {p: i for i, p in enumerate(periods)}
    cols = min(cols, max(1, len(names)))
    rows = max(1, math.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.1 * cols, 2.1 * rows + 0.6), sharex=True, sharey=True,
                             squeeze=False)
    for ax, name in zip(axes.flat, names):
        part = counts[counts["name"] == name].sort_values("period_start")
        x = part["period"].map(position).to_numpy()
        ax.fill_between(x, part["ci_low"], part["ci_high"], color=PALETTE[1], alpha=0.5, lw=0)
        ax.plot(x, part["share"], color=PALETTE[0], lw=1.3, marker="o", ms=2.5)
        ax.set_title(f"{label(name)} (n={int(part['n'].sum())})", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(axis="y", color="#eee")
        _ticks(ax, periods, every=max(1, math.ceil(len(periods) / 6)))
    for index, ax in enumerate(axes.flat):
        if index >= len(names):
            ax.set_visible(False)
        elif index + cols >= len(names):  # nothing drawn below it: its own period labels
            ax.xaxis.set_tick_params(labelbottom=True)
    for ax in axes[:, 0]:
        ax.set_ylabel("share", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
