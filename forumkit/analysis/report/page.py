"""The report's HTML page: one self-contained file (figures inlined as SVG, plotly.js inlined once).

A reader can open it from a replication package years later, offline, and see
every figure and table and the exact commands and data versions behind them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from jinja2 import Environment, select_autoescape

TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.85em;margin:.8em 0}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}
figure{margin:1em 0}figure svg{max-width:100%;height:auto}figcaption{color:#555;font-size:.85em}
nav a{margin-right:1em}.note{color:#555;font-size:.9em}code,pre{background:#f6f6f6}pre{padding:.6em;overflow-x:auto}
</style>
{% if plotly_js %}<script>{{ plotly_js | safe }}</script>{% endif %}
</head><body>
<h1>{{ title }}</h1>
<p class="note">{{ subtitle }}</p>
<nav>{% for s in sections %}<a href="#{{ s.anchor }}">{{ s.title }}</a>{% endfor %}</nav>
{% for s in sections %}
<section id="{{ s.anchor }}"><h2>{{ s.title }}</h2>
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

    def figure(self, svg_path: Path, caption: str) -> None:
        svg = svg_path.read_text(encoding="utf-8")
        svg = svg[svg.index("<svg"):]  # drop the XML prolog and doctype: inlined in HTML
        self.blocks.append(f"<figure>{svg}<figcaption>{html.escape(caption)} "
                           f"(<a href='figures/{svg_path.stem}.png'>PNG</a>, "
                           f"<a href='figures/{svg_path.name}'>SVG</a>)</figcaption></figure>")

    def table(self, frame: pd.DataFrame, caption: str = "", *, floats: str = "{:.3f}") -> None:
        shown = frame.copy()
        for col in shown.columns:
            if pd.api.types.is_float_dtype(shown[col]):
                shown[col] = shown[col].map(lambda v: "—" if pd.isna(v) else floats.format(v))
        head = f"<p class='note'>{html.escape(caption)}</p>" if caption else ""
        self.blocks.append(head + shown.to_html(index=False, border=0, escape=True, na_rep="—"))

    def text(self, paragraph: str) -> None:
        self.blocks.append(f"<p>{html.escape(paragraph)}</p>")

    def raw(self, fragment: str) -> None:
        """Trusted HTML made by forumkit itself (the plotly sunburst, a preformatted block)."""
        self.blocks.append(fragment)


def render(title: str, subtitle: str, sections: list[Section], *, plotly_js: str = "") -> str:
    env = Environment(autoescape=select_autoescape(default=True))
    return env.from_string(TEMPLATE).render(title=title, subtitle=subtitle, sections=sections,
                                            plotly_js=plotly_js)


def sunburst_div(frame: pd.DataFrame, title: str) -> str:
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
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id="taxonomy-sunburst")
