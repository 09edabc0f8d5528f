"""Write an aggregated table by the file's suffix: .csv, .parquet, .tex (LaTeX tabular) or .md (Markdown)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forumkit.errors import UsageError

__all__ = ["SUFFIXES", "write_table", "table_format", "markdown_table"]

SUFFIXES = (".csv", ".parquet", ".tex", ".md")


def _display(frame: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Cells as text for documents: floats rounded, dates as ISO days, missing as empty."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(values.dtype):
            text = values.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_float_dtype(values.dtype):
            text = values.map(lambda v: f"{v:.{digits}f}")
        else:
            text = values.astype(object).map(str)
        out[column] = text.where(values.notna(), "")
    return out


def markdown_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub-flavoured Markdown table (numbers right-aligned), without the ``tabulate`` package."""
    cells = _display(frame, digits)
    numeric = [pd.api.types.is_numeric_dtype(frame[c].dtype) and not pd.api.types.is_bool_dtype(frame[c].dtype)
               for c in frame.columns]

    def row(values) -> str:
        return "| " + " | ".join(str(v).replace("|", "\\|").replace("\n", " ") for v in values) + " |"

    lines = [row(frame.columns), "|" + "|".join("---:" if right else "---" for right in numeric) + "|"]
    lines += [row(values) for values in cells.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def table_format(path: str | Path) -> str:
    """The suffix that decides how :func:`write_table` writes ``path``; UsageError for one it cannot write
    (check it before long work)."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise UsageError(f"cannot write {path}: unknown suffix '{suffix or '(none)'}'",
                         hint=f"end the file name with one of: {', '.join(SUFFIXES)}")
    return suffix


def write_table(frame: pd.DataFrame, path: str | Path, *, digits: int = 3) -> Path:
    """Write ``frame`` in the format its suffix says; returns the path.

    CSV and Parquet keep full precision and types (period_start as a UTC timestamp); LaTeX (a ``tabular``
    through pandas' Styler, special characters escaped) and Markdown round floats to ``digits`` places.
    """
    path = Path(path)
    suffix = table_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")  # never leave a half-written file under the real name
    if suffix == ".csv":
        frame.to_csv(tmp, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(tmp, index=False)
    elif suffix == ".tex":
        cells = _display(frame, digits)
        align = "".join("r" if pd.api.types.is_numeric_dtype(frame[c].dtype) else "l" for c in frame.columns)
        try:
            latex = cells.style.hide(axis="index").format(escape="latex").format_index(escape="latex", axis=1)
        except ImportError as exc:  # pandas' Styler needs jinja2
            raise UsageError(f"cannot write {path}: {exc}".splitlines()[0],
                             hint="install jinja2 (pip install jinja2), or write .csv, .parquet or .md") from exc
        tmp.write_text(latex.to_latex(column_format=align, hrules=True), encoding="utf-8")
    else:
        tmp.write_text(markdown_table(frame, digits), encoding="utf-8")
    tmp.replace(path)
    return path
