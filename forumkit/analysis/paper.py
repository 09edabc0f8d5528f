"""Readers and charts for the tables published with Taraghi et al. (SANER 2024).

Taraghi, Dorcelus, Foundjem, Tambon and Khomh, *Deep Learning Model Reuse in the
HuggingFace Community: Challenges, Benefit and Trends* (SANER 2024, arXiv 2401.13177)
ship a replication package with, among others, three tables that this module reads:

``Hub_Model_Types_Over_Time_Created.csv``
    models created on the Hub per month and model type (wide; blank = 0), read by
    :func:`read_model_types`; :func:`monthly_uploads` and :func:`cumulative_share`
    derive the paper's upload chart and its "cumulative ratio" from it.
``card_data_stats_months_created.csv``
    per creation month, models with a model card, all models, and their ratio:
    :func:`read_card_ratio`.
``All_Codes.csv``
    the open codes given to sampled forum topics, with the topic's forum tag:
    :func:`read_open_codes` and :func:`open_codes_by_tag`.

Every reader takes the path of the file (nothing here knows where the package
lies) and raises a one-line :class:`~forumkit.errors.UsageError` that names the
file and what is wrong when its layout is not the published one.

Months are ``pd.Period`` values of monthly frequency (dtype ``period[M]``): the
tables count per calendar month, and a period says so without inventing a day.
``Period.start_time`` (or ``PeriodIndex.to_timestamp()``) gives the month start.

The plot functions draw with matplotlib's object API (no pyplot state, no
``show``): they return a :class:`matplotlib.figure.Figure`, or draw into the
``ax`` they are given and return its figure.

Example::

    >>> types = read_model_types(data / "Hub_Model_Types_Over_Time_Created.csv")   # doctest: +SKIP
    >>> plot_monthly_uploads(monthly_uploads(types, top=8)).savefig("uploads.png")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Mapping

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from .categories import normalize_categories
from forumkit.errors import UsageError

__all__ = [
    "read_model_types", "monthly_uploads", "cumulative_share", "read_card_ratio",
    "read_open_codes", "open_codes_by_tag",
    "plot_monthly_uploads", "plot_card_ratio", "plot_codes_by_tag",
]

log = logging.getLogger(__name__)

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_TOTALS = ["sum", "cumulative sum", "Cumulative ratio"]
_RATIO_TOLERANCE = 1e-9  # the package writes ratios with 10 decimals
_OTHER, _TOTAL = "other", "total"


# ---------------------------------------------------------------- reading helpers

def _bad(path: str | Path, what: str, hint: str) -> UsageError:
    return UsageError(" ".join(f"{Path(path).name}: {what}".split()), hint=hint)


def _read_csv(path: str | Path, hint: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=True)
    except FileNotFoundError as exc:
        raise _bad(path, f"no such file ({path})", hint) from exc
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise _bad(path, f"cannot be read as CSV: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                   hint) from exc


def _counts(path: str | Path, frame: pd.DataFrame, what: str, hint: str) -> pd.DataFrame:
    """Cells as non-negative integers (blank = 0); names the first cell that is not one."""
    stripped = frame.apply(lambda col: col.str.strip())
    numbers = stripped.replace("", "0").apply(pd.to_numeric, errors="coerce")
    bad = numbers.isna() | (numbers < 0) | (numbers % 1 != 0)
    if bad.to_numpy().any():
        row, col = np.argwhere(bad.to_numpy())[0]
        raise _bad(path, f"{what} {frame.index[row]!s}, column {frame.columns[col]!r}: "
                         f"{frame.iat[row, col]!r} is not a count", hint)
    return numbers.astype("int64")


def _as_months(values: pd.Series) -> pd.Series:
    """A month column as period[M] (Timestamps and 'YYYY-MM' strings are converted)."""
    if isinstance(values.dtype, pd.PeriodDtype):
        return values.dt.asfreq("M")
    return pd.to_datetime(values).dt.to_period("M")


def _need(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UsageError(f"{what} lacks the column(s) {', '.join(missing)}",
                         hint="pass the DataFrame that the matching forumkit.analysis.paper function returns")


# ---------------------------------------------------------------- Hub model types

_TYPES_HINT = ("expected the package's Hub_Model_Types_Over_Time_Created.csv: model type, one YYYY-MM column "
               "per month, then 'sum', 'cumulative sum', 'Cumulative ratio'")


def read_model_types(path: str | Path) -> pd.DataFrame:
    """Models created per month and model type, long and tidy.

    Reads ``Hub_Model_Types_Over_Time_Created.csv``: the first column names the
    model type, then one ``YYYY-MM`` column per month (blank = 0), then ``sum``,
    ``cumulative sum`` and ``Cumulative ratio``. The footer (an empty row and a
    ``SUM`` row of column totals) is checked and dropped.

    Returns columns ``month`` (period[M]), ``model_type`` (str), ``models`` (int),
    one row per model type and month *of the file* (zeros included, so the frame
    pivots back to the file's grid), types in the file's row order (largest
    first), months ascending. Months the file leaves out are not invented here:
    :func:`monthly_uploads` completes the calendar.

    Raises UsageError when the layout differs: no month columns, a column out of
    place, a cell that is not a count, a duplicated type, or a row whose month
    cells do not add up to its ``sum`` (or a ``SUM`` row that is not the column totals).
    """
    raw = _read_csv(path, _TYPES_HINT)
    columns = list(raw.columns)
    if len(columns) < 1 + len(_TOTALS) or columns[-3:] != _TOTALS:
        raise _bad(path, f"the last columns are {columns[-3:]}, not {_TOTALS}", _TYPES_HINT)
    if _MONTH.match(str(columns[0])):
        raise _bad(path, f"the first column is the month {columns[0]!r}, not the model type", _TYPES_HINT)
    months = columns[1:-3]
    if not months:
        raise _bad(path, "has no month (YYYY-MM) columns between the model type and 'sum'", _TYPES_HINT)
    odd = [c for c in months if not _MONTH.match(str(c))]
    if odd:
        raise _bad(path, f"column {odd[0]!r} is not a month (YYYY-MM)", _TYPES_HINT)
    if months != sorted(set(months)):
        raise _bad(path, "month columns are repeated or out of order", _TYPES_HINT)

    names = raw[columns[0]].str.strip()
    cells = _counts(path, raw[months].set_axis(names.where(names != "", "(blank)")), "model type", _TYPES_HINT)
    is_sum_row = names.str.casefold() == "sum"
    blank = (names == "") & (cells.sum(axis=1).to_numpy() == 0)
    body = ~(is_sum_row.to_numpy() | blank.to_numpy())
    if (names[body] == "").any():
        raise _bad(path, f"data row {int(np.flatnonzero(body & (names == '').to_numpy())[0]) + 1} has counts "
                         "but no model type", _TYPES_HINT)
    types = names[body]
    if types.duplicated().any():
        raise _bad(path, f"model type {types[types.duplicated()].iloc[0]!r} appears twice", _TYPES_HINT)
    if types.empty:
        raise _bad(path, "has no model type rows", _TYPES_HINT)

    grid = cells[body]
    stated = _counts(path, raw.loc[body, ["sum"]].set_axis(types), "model type", _TYPES_HINT)["sum"]
    row_sums = grid.sum(axis=1)
    off = row_sums.to_numpy() != stated.to_numpy()
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise _bad(path, f"the months of {types.iloc[i]!r} add up to {row_sums.iloc[i]}, "
                         f"its 'sum' column says {stated.iloc[i]}", _TYPES_HINT)
    if is_sum_row.any():
        totals = cells[is_sum_row.to_numpy()].iloc[0]
        if not totals.equals(grid.sum(axis=0)):
            month = next(m for m in months if totals[m] != grid[m].sum())
            raise _bad(path, f"its SUM row gives {totals[month]} models for {month}, "
                             f"the model types add up to {grid[month].sum()}", _TYPES_HINT)

    long = grid.set_axis(types.to_numpy()).rename_axis(index="model_type", columns="month").stack()
    out = long.rename("models").reset_index()
    out["month"] = pd.PeriodIndex(out["month"], freq="M")
    log.debug("read %d model types over %d months from %s", len(types), len(months), path)
    return out[["month", "model_type", "models"]].astype({"model_type": str, "models": "int64"})


def _type_totals(model_types: pd.DataFrame) -> pd.Series:
    """Models per type, largest first; ties keep the order in which types first appear."""
    _need(model_types, ["month", "model_type", "models"], "model_types")
    totals = model_types.groupby("model_type", sort=False)["models"].sum()
    return totals.sort_values(ascending=False, kind="stable").astype("int64")


def monthly_uploads(model_types: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """Models created per month: the ``top`` largest model types, ``other`` and ``total``.

    ``model_types`` is the frame of :func:`read_model_types`. The index (``month``,
    period[M]) runs over every calendar month from the first to the last month of
    the data: months the file skips (2017-10 to 2018-10, for instance) are rows of
    zeros. Columns: the ``top`` types with most models overall, largest first (ties
    keep the input's order), then ``other`` (all remaining types; 0 when none
    remain) and ``total`` (the sum of the row).
    """
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 0:
        raise UsageError(f"top must be a whole number of model types >= 0, not {top!r}",
                         hint="pass e.g. top=10")
    totals = _type_totals(model_types)
    clash = {_OTHER, _TOTAL} & set(totals.index)
    if clash:
        raise UsageError(f"a model type is named {sorted(clash)[0]!r}, which monthly_uploads uses for its own column",
                         hint="rename that model type first")
    if model_types.empty:
        raise UsageError("model_types is empty", hint="read a model-types file with read_model_types first")
    months = _as_months(model_types["month"])
    wide = (model_types.assign(month=months)
            .pivot_table(index="month", columns="model_type", values="models", aggfunc="sum", fill_value=0))
    calendar = pd.period_range(months.min(), months.max(), freq="M", name="month")
    wide = wide.reindex(index=calendar, columns=list(totals.index), fill_value=0)
    chosen = list(totals.index[:top])
    out = wide[chosen].copy()
    out[_OTHER] = wide.drop(columns=chosen).sum(axis=1)
    out[_TOTAL] = wide.sum(axis=1)
    out.columns.name = None
    return out.astype("int64")


def cumulative_share(model_types: pd.DataFrame) -> pd.DataFrame:
    """The paper's "cumulative ratio": how much of all models the largest types cover.

    Types are ordered by their number of models, largest first (ties keep the
    input's order, which for :func:`read_model_types` is the file's). Columns:
    ``model_type``, ``models`` (the type's total, the file's ``sum``),
    ``cumulative_models`` (this type and all larger ones, the file's
    ``cumulative sum``) and ``cumulative_ratio`` (that over all models, the file's
    ``Cumulative ratio``; 1.0 on the last row).
    """
    totals = _type_totals(model_types)
    grand = int(totals.sum())
    if grand == 0:
        raise UsageError("model_types holds no models", hint="read a model-types file with read_model_types first")
    out = totals.rename("models").rename_axis("model_type").reset_index()
    out["cumulative_models"] = out["models"].cumsum().astype("int64")
    out["cumulative_ratio"] = out["cumulative_models"] / grand
    return out


# ---------------------------------------------------------------- model cards

_CARD_HINT = ("expected the package's card_data_stats_months_created.csv: an index column, then month_year "
              "(YYYY-MM), has_card, count, card_ratio")


def read_card_ratio(path: str | Path) -> pd.DataFrame:
    """Models created per month with a model card, and their share.

    Reads ``card_data_stats_months_created.csv`` and returns columns ``month``
    (period[M], ascending), ``has_card`` and ``count`` (int: models created that
    month with card data, and all models created that month) and ``card_ratio``
    (float, the file's value). Raises UsageError when a column is missing, a month
    is malformed or repeated, ``has_card`` exceeds ``count``, or ``card_ratio``
    differs from ``has_card / count`` by more than 1e-9.
    """
    raw = _read_csv(path, _CARD_HINT)
    missing = [c for c in ("month_year", "has_card", "count", "card_ratio") if c not in raw.columns]
    if missing:
        raise _bad(path, f"lacks the column(s) {', '.join(missing)}", _CARD_HINT)
    raw = raw[(raw[["month_year", "has_card", "count", "card_ratio"]] != "").any(axis=1)]
    months = raw["month_year"].str.strip()
    odd = months[~months.str.match(_MONTH)]
    if not odd.empty:
        raise _bad(path, f"month_year {odd.iloc[0]!r} is not a month (YYYY-MM)", _CARD_HINT)
    if months.duplicated().any():
        raise _bad(path, f"month {months[months.duplicated()].iloc[0]} appears twice", _CARD_HINT)
    counts = _counts(path, raw[["has_card", "count"]].set_axis(months), "month", _CARD_HINT)
    ratio = pd.to_numeric(raw["card_ratio"].str.strip(), errors="coerce").set_axis(months)
    if ratio.isna().any():
        raise _bad(path, f"card_ratio of {ratio[ratio.isna()].index[0]} is not a number", _CARD_HINT)
    over = counts["has_card"] > counts["count"]
    if over.any():
        raise _bad(path, f"{over[over].index[0]} has more models with a card than models", _CARD_HINT)
    if (counts["count"] == 0).any():
        raise _bad(path, f"{counts.index[counts['count'] == 0][0]} has count 0", _CARD_HINT)
    expected = counts["has_card"] / counts["count"]
    off = (ratio - expected).abs() > _RATIO_TOLERANCE
    if off.any():
        month = off[off].index[0]
        raise _bad(path, f"card_ratio of {month} is {ratio[month]}, but has_card / count is "
                         f"{expected[month]:.10f}", _CARD_HINT)
    out = pd.DataFrame({"month": pd.PeriodIndex(months, freq="M"), "has_card": counts["has_card"].to_numpy(),
                        "count": counts["count"].to_numpy(), "card_ratio": ratio.to_numpy(dtype=float)})
    return out.sort_values("month", ignore_index=True)


# ---------------------------------------------------------------- open codes

_CODES_HINT = ("expected the package's All_Codes.csv: an index column, then Topic#, Tag, Code "
               "(extra empty columns are ignored)")


def read_open_codes(path: str | Path, renames: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The open codes of ``All_Codes.csv``, one row per code, tags normalised.

    Columns: ``topic`` (int, the forum's topic id), ``raw_tag`` (the tag as
    written), ``tag`` (its canonical spelling by
    :func:`forumkit.analysis.categories.normalize_categories`, after ``renames``) and
    ``code`` (the open code's text). Rows that are entirely empty are dropped; a
    row without a topic id, tag or code raises UsageError.
    """
    raw = _read_csv(path, _CODES_HINT)
    missing = [c for c in ("Topic#", "Tag", "Code") if c not in raw.columns]
    if missing:
        raise _bad(path, f"lacks the column(s) {', '.join(missing)}", _CODES_HINT)
    rows = raw[["Topic#", "Tag", "Code"]].apply(lambda col: col.str.strip())
    rows = rows[(rows != "").any(axis=1)]
    for column in ("Topic#", "Tag", "Code"):
        empty = rows.index[rows[column] == ""]
        if len(empty):
            raise _bad(path, f"data row {int(empty[0]) + 1} has no {column}", _CODES_HINT)
    topics = pd.to_numeric(rows["Topic#"], errors="coerce")
    bad = topics.isna() | (topics % 1 != 0)
    if bad.any():
        row = int(rows.index[bad.to_numpy()][0]) + 1
        raise _bad(path, f"data row {row}: Topic# {rows['Topic#'][bad].iloc[0]!r} is not a topic id", _CODES_HINT)
    return pd.DataFrame({
        "topic": topics.astype("int64").to_numpy(),
        "raw_tag": rows["Tag"].to_numpy(),
        "tag": normalize_categories(rows["Tag"], renames).to_numpy(),
        "code": rows["Code"].to_numpy(),
    })


def open_codes_by_tag(path: str | Path, renames: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Topics and open codes per forum tag, spellings of a tag merged.

    Columns: ``tag`` (canonical spelling), ``topics`` (distinct ``Topic#``),
    ``codes`` (rows, i.e. open codes) and ``spellings`` (tuple of the raw tags
    merged into it, most frequent first); sorted by codes, then topics, largest first.

    On the package's All_Codes.csv (1,183 codes, 455 topics, 29 raw tags → 24)
    :func:`~forumkit.analysis.categories.normalize_categories` merges ``Beginners`` (295) +
    ``beginners`` (85), ``Datasets`` (94) + ``datasets`` (6), ``Community Calls``
    (7) + ``Community calls`` (4), ``Amazon Sagemaker`` (22) + ``Amazon SageMaker``
    (1) and ``Flax/JAX projects`` (7) + ``Flax/JAX Projects`` (7; a tie, so the
    first seen spelling wins). ``Languages at HuggingFace`` (17) and ``Languages at
    Hugging Face`` (1) differ by a space and stay apart unless ``renames`` maps one
    onto the other; ``Transformers/DeepSpeed`` stays apart from ``Transformers``.
    """
    codes = read_open_codes(path, renames)
    grouped = codes.groupby("tag", sort=False)
    out = pd.DataFrame({
        "topics": grouped["topic"].nunique(),
        "codes": grouped.size(),
        "spellings": grouped["raw_tag"].agg(lambda s: tuple(s.value_counts(sort=True).index)),
    }).rename_axis("tag").reset_index()
    out = out.sort_values(["codes", "topics", "tag"], ascending=[False, False, True], ignore_index=True)
    return out.astype({"topics": "int64", "codes": "int64"})


# ---------------------------------------------------------------- charts

def _canvas(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _month_axis(ax: Axes) -> None:
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _color(i: int) -> tuple:
    """tab20's strong colours for the first ten series, then its light ones."""
    return colormaps["tab20"].colors[(2 * i) % 20 if i < 10 else (2 * i + 1) % 20]


def _month_starts(index_or_series) -> pd.DatetimeIndex:
    values = pd.Series(index_or_series)
    return pd.DatetimeIndex(_as_months(values).dt.to_timestamp())


def plot_monthly_uploads(uploads: pd.DataFrame, *, ax: Axes | None = None,
                         title: str = "Models created on the Hugging Face Hub per month, by model type") -> Figure:
    """Stacked area of models created per month: each top model type, then ``other``.

    ``uploads`` is the frame of :func:`monthly_uploads` (its ``total`` column is
    not drawn, being the height of the stack). Draws into ``ax`` when given.
    """
    _need(uploads, [_OTHER], "uploads")
    layers = uploads.drop(columns=[_TOTAL], errors="ignore")
    fig, ax = _canvas(ax, (10, 5))
    x = _month_starts(layers.index)
    types = [c for c in layers.columns if c != _OTHER]
    layers = layers[types + [_OTHER]]  # "other" on top of the stack, in grey
    colors = [_color(i) for i in range(len(types))] + ["#b0b0b0"]
    ax.stackplot(x, layers.T.to_numpy(dtype=float), labels=[str(c) for c in layers.columns], colors=colors,
                 linewidth=0)
    ax.set_title(title)
    ax.set_ylabel("models created per month")
    ax.set_xlabel("month created")
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=8, frameon=False, title="model type", title_fontsize=8,
              reverse=True)
    _month_axis(ax)
    return fig


def plot_card_ratio(card: pd.DataFrame, *, ax: Axes | None = None,
                    title: str = "Share of new Hub models with a model card, per month") -> Figure:
    """Line of the monthly share of models created with a model card; bars of the models created.

    ``card`` is the frame of :func:`read_card_ratio`. The share is on the left
    axis (percent), the number of models created on a secondary right axis.
    Draws into ``ax`` when given (the secondary axis is added to its figure).
    """
    _need(card, ["month", "count", "card_ratio"], "card")
    fig, ax = _canvas(ax, (10, 4.5))
    data = card.sort_values("month")
    x = _month_starts(data["month"])
    counts = ax.twinx()
    counts.bar(x, data["count"], width=24, color="#c9d6e8", label="models created (right axis)")
    counts.set_ylabel("models created per month")
    counts.set_ylim(bottom=0)
    ax.set_zorder(counts.get_zorder() + 1)  # the share's line over the bars
    ax.patch.set_visible(False)
    ax.plot(x, data["card_ratio"], color="#1f4e99", marker="o", markersize=3, lw=1.6,
            label="share with a model card (left axis)")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1)
    ax.set_ylabel("share with a model card")
    ax.set_xlabel("month created")
    ax.set_title(title)
    handles = ax.get_legend_handles_labels()
    more = counts.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], loc="upper center", fontsize=8, frameon=False)
    _month_axis(ax)
    return fig


def plot_codes_by_tag(by_tag: pd.DataFrame, *, top: int | None = None, ax: Axes | None = None,
                      title: str = "Open codes per forum tag (SANER 2024 sample)") -> Figure:
    """Horizontal bars of open codes per forum tag, largest on top, labelled ``codes (topics)``.

    ``by_tag`` is the frame of :func:`open_codes_by_tag`; ``top`` keeps only the
    tags with most codes. Draws into ``ax`` when given.
    """
    _need(by_tag, ["tag", "codes", "topics"], "by_tag")
    data = by_tag.sort_values("codes", ascending=False, kind="stable")
    if top is not None:
        data = data.head(top)
    data = data.iloc[::-1]
    fig, ax = _canvas(ax, (8, max(2.5, 0.3 * len(data) + 1.2)))
    ax.barh(data["tag"].astype(str), data["codes"], color="#4c72b0")
    for y, (codes, topics) in enumerate(zip(data["codes"], data["topics"])):
        ax.text(codes, y, f" {codes} ({topics})", va="center", fontsize=7)
    ax.margins(x=0.15)
    ax.set_xlabel("open codes (in brackets: topics)")
    ax.set_ylabel("forum tag")
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title(title)
    return fig
