"""The report's HTML page: one self-contained file (figures inlined as SVG, plotly.js inlined once).

A reader can open it from a replication package years later, offline, and see
every figure and table and the exact commands and data versions behind them.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from jinja2 import Environment, select_autoescape

TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif,"Apple Color Emoji","Segoe UI Emoji","Noto Color Emoji";max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
.table{max-width:100%;overflow-x:auto;margin:.4em 0 1em}
table{border-collapse:collapse;font-size:.85em}
th,td{border:1px solid #ddd;padding:.25em .5em;vertical-align:top}th{background:#f3f3f3}
.num{text-align:right}td.num{white-space:nowrap}.text{text-align:left;max-width:26em;overflow-wrap:break-word}.short{white-space:nowrap}
.csv{font-size:.8em;color:#555}.absent{color:#777;font-style:italic}h3{margin-top:1.6em}
figure{margin:1em 0}figure svg{max-width:100%;height:auto}figcaption{color:#555;font-size:.85em}
nav a{margin-right:1em}.note{color:#555;font-size:.9em}code,pre{background:#f6f6f6}pre{padding:.6em;overflow-x:auto}
</style>
{% if plotly_js %}<script>{{ plotly_js | safe }}</script>{% endif %}
</head><body>
<h1>{{ title }}</h1>
<p class="note">{{ subtitle }}</p>
<nav>{% for s in sections if s.level == 2 %}<a href="#{{ s.anchor }}">{{ s.title }}</a>{% endfor %}</nav>
{% for s in sections %}
<section id="{{ s.anchor }}">{% if s.level == 2 %}<h2>{{ s.title }}</h2>{% else %}<h3>{{ s.title }}</h3>{% endif %}
{% if s.intro %}<p>{{ s.intro }}</p>{% endif %}
{% for block in s.blocks %}{{ block | safe }}{% endfor %}
</section>
{% endfor %}
</body></html>
"""


@dataclass
class Section:
    """A titled part of the report: HTML blocks (figures, tables, notes) in order."""

    title: str
    anchor: str
    intro: str = ""
    blocks: list[str] = field(default_factory=list)
    level: int = 2  # 3: a part of the section before it (heading h3, not in the navigation)

    def figure(self, svg_path: Path, caption: str) -> None:
        svg = svg_path.read_text(encoding="utf-8")
        svg = svg[svg.index("<svg"):]  # drop the XML prolog and doctype: inlined in HTML
        self.blocks.append(f"<figure>{svg}<figcaption>{html.escape(caption)} "
                           f"(<a href='figures/{svg_path.stem}.png'>PNG</a>, "
                           f"<a href='figures/{svg_path.name}'>SVG</a>)</figcaption></figure>")

    def table(self, frame: pd.DataFrame, caption: str = "", *, floats: str = "{:.3f}", csv: str | None = None,
              period: str | None = None) -> None:
        """A table a reader can read: numbers rounded, moments as period labels (``2021-Q1``, with ``period``)
        or dates, long text wrapped, in a container that scrolls sideways rather than overflow the page;
        ``csv`` names the full table in tables/ (linked under it)."""
        shown = for_reader(frame, period)
        numeric = {col for col in shown.columns if (pd.api.types.is_numeric_dtype(shown[col])
                   and not pd.api.types.is_bool_dtype(shown[col]))
                   or shown[col].map(lambda v: bool(_NUMBER.fullmatch(str(v)))).all()}
        short = {col for col in shown.columns if shown[col].map(lambda v: len(str(v))).max() <= 14}
        for col in shown.columns:
            if pd.api.types.is_float_dtype(shown[col]):
                shown[col] = shown[col].map(lambda v: "—" if pd.isna(v) else floats.format(v))
        head = f"<p class='note'>{html.escape(caption)}</p>" if caption else ""
        link = (f"<p class='csv'>Full table: <a href='tables/{html.escape(csv)}.csv'>tables/{html.escape(csv)}.csv"
                "</a></p>") if csv else ""
        self.blocks.append(f"{head}<div class='table'>{_html_table(shown, numeric, short)}</div>{link}")

    def absent(self, why: str) -> None:
        """Why a part of the report has nothing to show, and what would give it data."""
        self.blocks.append(f"<p class='absent'>{html.escape(why)}</p>")

    def text(self, paragraph: str) -> None:
        self.blocks.append(f"<p>{html.escape(paragraph)}</p>")

    def raw(self, fragment: str) -> None:
        """Trusted HTML made by forumkit itself (the plotly sunburst, a preformatted block)."""
        self.blocks.append(fragment)


#: A cell that reads as a number: 12, 0.25, 25%, 1.2e-05, "·" or "—" (right-aligned like numbers).
_NUMBER = re.compile(r"[-+]?(\d[\d,]*(\.\d+)?(e[-+]?\d+)?%?|·|—|nan|None)")


def _html_table(frame: pd.DataFrame, numeric: set[str], short: set[str]) -> str:
    """The table as HTML: numeric columns right-aligned, text left-aligned and wrapped unless short (CSS)."""
    def cell(tag: str, value: object, col: str) -> str:
        shown = "—" if pd.api.types.is_scalar(value) and pd.isna(value) else str(value)
        kind = "num" if col in numeric else ("text short" if col in short and tag == "td" else "text")
        return f"<{tag} class='{kind}'>{html.escape(shown)}</{tag}>"

    head = "".join(cell("th", col, col) for col in frame.columns)
    rows = ["<tr>" + "".join(cell("td", v, col) for v, col in zip(row, frame.columns)) + "</tr>"
            for row in frame.itertuples(index=False)]
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def for_reader(frame: pd.DataFrame, period: str | None = None) -> pd.DataFrame:
    """The table with every moment as a reader wants it: the period's label (``2021-Q1``,
    :func:`forumkit.dates.period_labels`) when ``period`` is given, else the date (``2021-03-09``)."""
    from forumkit.dates import period_labels

    out = frame.copy()
    for col in out.columns:
        values = out[col]
        moments = pd.api.types.is_datetime64_any_dtype(values) or (
            values.dtype == object and values.map(lambda v: isinstance(v, pd.Timestamp)).any())
        if not moments:
            continue
        stamps = pd.to_datetime(values, utc=True)
        out[col] = period_labels(stamps, period) if period else stamps.dt.strftime("%Y-%m-%d").where(stamps.notna())
    return out


def render(title: str, subtitle: str, sections: list[Section], *, plotly_js: str = "") -> str:
    env = Environment(autoescape=select_autoescape(default=True))
    return env.from_string(TEMPLATE).render(title=title, subtitle=subtitle, sections=sections,
                                            plotly_js=plotly_js)


def sunburst_div(frame: pd.DataFrame, title: str, *, div_id: str = "taxonomy-sunburst") -> str:
    """The interactive taxonomy sunburst (plotly): categories inside, subcategories outside.

    ``frame`` has columns category, name, n (name == category for codes applied at category level).
    """
    import plotly.graph_objects as go

    labels, parents, values, ids = [], [], [], []
    for category, part in frame.groupby("category", sort=False):
        total = int(part.loc[part["name"] == category, "n"].sum())  # "remainder": children add themselves
        ids.append(f"c:{category}")
        labels.append(str(category))
        parents.append("")
        values.append(total)
        for row in part.itertuples():
            if row.name == category:
                continue
            ids.append(f"s:{category}:{row.name}")
            labels.append(str(row.name))
            parents.append(f"c:{category}")
            values.append(int(row.n))
    fig = go.Figure(go.Sunburst(ids=ids, labels=labels, parents=parents, values=values, branchvalues="remainder",
                                hovertemplate="%{label}: %{value} code applications<extra></extra>"))
    fig.update_layout(title=title, margin={"t": 40, "l": 0, "r": 0, "b": 0}, height=560)
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id)
