"""Static figures (matplotlib), each saved as PNG and SVG: shared by the report and the Hub trends.

Every function takes a tidy DataFrame with the columns its docstring names and
returns a matplotlib Figure; :func:`save` writes it in both formats. The
interactive taxonomy sunburst is plotly's (see :mod:`forumkit.analysis.report.page`).
"""

from __future__ import annotations

import math
import unicodedata
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in CI

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

PALETTE = plt.get_cmap("tab20").colors


def save(fig: Figure, folder: Path, name: str) -> dict[str, Path]:
    """Write ``name``.png and ``name``.svg; returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {fmt: folder / f"{name}.{fmt}" for fmt in ("png", "svg")}
    fig.savefig(paths["png"], dpi=130, bbox_inches="tight")
    fig.savefig(paths["svg"], bbox_inches="tight")
    plt.close(fig)
    return paths


def label(text: object) -> str:
    """A name without emoji (matplotlib's default font has none: "🤗Transformers" -> "Transformers")."""
    return "".join(ch for ch in str(text) if unicodedata.category(ch) != "So").strip()


def _dates(ax) -> None:
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=8))
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))


def category_bars(totals: pd.DataFrame, title: str) -> Figure:
    """Horizontal bars of items per category with Wilson intervals (columns name, n, n_items, ci_low, ci_high)."""
    data = totals.sort_values("n")
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.32 * len(data) + 1)))
    # clipped at 0: for a share of 0 or 1 the Wilson bound equals it up to rounding, which may fall below it
    low = ((data["share"] - data["ci_low"]) * data["n_items"]).clip(lower=0)
    high = ((data["ci_high"] - data["share"]) * data["n_items"]).clip(lower=0)
    ax.barh([label(n) for n in data["name"]], data["n"], color=PALETTE[0], xerr=[low, high], capsize=2, ecolor="#555")
    ax.set_xlabel("coded items (bars: 95% Wilson interval)")
    ax.set_title(title)
    for y, (n, share) in enumerate(zip(data["n"], data["share"])):
        ax.text(n, y, f"  {n} ({share:.0%})", va="center", fontsize=8)
    ax.margins(x=0.2)
    return fig


def share_area(counts: pd.DataFrame, title: str) -> Figure:
    """Stacked area of each category's share of coded items per period (period_start, name, share)."""
    wide = counts.pivot_table(index="period_start", columns="name", values="share", aggfunc="sum").fillna(0)
    wide = wide[wide.sum().sort_values(ascending=False).index]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.stackplot(wide.index, wide.T.to_numpy(), labels=[label(c) for c in wide.columns], colors=PALETTE[: len(wide.columns)])
    ax.set_ylabel("share of coded items (codes can overlap)")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7, frameon=False)
    _dates(ax)
    return fig


def small_multiples(counts: pd.DataFrame, title: str, *, value: str = "share", band: bool = True) -> Figure:
    """One panel per series: value over time with its interval (name, period_start, value, ci_low, ci_high)."""
    names = list(counts.groupby("name")["n" if "n" in counts else value].sum().sort_values(ascending=False).index)
    cols = min(4, max(1, len(names)))
    rows = max(1, math.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.3 * rows), sharex=True, squeeze=False)
    for ax, name in zip(axes.flat, names):
        part = counts[counts["name"] == name].sort_values("period_start")
        ax.plot(part["period_start"], part[value], color=PALETTE[0], lw=1.2)
        if band and "ci_low" in part:
            ax.fill_between(part["period_start"], part["ci_low"], part["ci_high"], color=PALETTE[1], alpha=0.5)
        ax.set_title(label(name), fontsize=8)
        ax.tick_params(labelsize=7)
        _dates(ax)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def lines(frame: pd.DataFrame, *, x: str, y: str, series: str, title: str, ylabel: str, top: int = 8) -> Figure:
    """One line per series (e.g. cumulative topics per category, topics mentioning each model)."""
    order = frame.groupby(series)[y].max().sort_values(ascending=False).index[:top]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for i, name in enumerate(order):
        part = frame[frame[series] == name].sort_values(x)
        ax.plot(part[x], part[y], label=label(name), color=PALETTE[i % len(PALETTE)], lw=1.4)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7, frameon=False)
    _dates(ax)
    return fig


def histogram(frame: pd.DataFrame, *, x: str, y: str, title: str, xlabel: str, ylabel: str) -> Figure:
    """Bars of a distribution already counted (e.g. posts per topic)."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.bar(frame[x], frame[y], color=PALETTE[0])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return fig


def taxonomy_rings(totals_sub: pd.DataFrame, title: str) -> Figure:
    """A static sunburst: categories inside, their subcategories outside (category, name, n)."""
    inner = totals_sub.groupby("category", sort=False)["n"].sum().sort_values(ascending=False)
    fig, ax = plt.subplots(figsize=(7, 7))
    colors = {cat: PALETTE[(2 * i) % len(PALETTE)] for i, cat in enumerate(inner.index)}
    ax.pie(inner.to_numpy(), radius=0.65, colors=[colors[c] for c in inner.index], labels=None,
           wedgeprops={"width": 0.35, "edgecolor": "white"})
    outer = totals_sub.set_index("category").loc[inner.index].reset_index()
    ax.pie(outer["n"].to_numpy(), radius=1.0, colors=[colors[c] for c in outer["category"]],
           wedgeprops={"width": 0.35, "edgecolor": "white", "alpha": 0.75})
    ax.legend([plt.Rectangle((0, 0), 1, 1, color=colors[c]) for c in inner.index],
              [f"{label(c)} ({n})" for c, n in inner.items()], loc="center left", bbox_to_anchor=(1.0, 0.5),
              fontsize=7, frameon=False)
    ax.set_title(title)
    return fig
