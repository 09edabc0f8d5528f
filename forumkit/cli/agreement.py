"""`forumkit agreement`: inter-rater reliability of a pulled Label Studio project."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from forumkit.errors import UsageError
from .common import app, err, one_line_errors, open_store, out, path_option, shown


def _fmt(value: float) -> str:
    return "—" if value != value else f"{value:.3f}"  # NaN -> dash


@app.command()
@one_line_errors
def agreement(
    db: Path = path_option(Path("forum.db"), "--db", help="The forumkit store, with pulled annotations."),
    project: Optional[int] = typer.Option(None, help="forumkit's project id (see `studio projects`)."),
    boot: int = typer.Option(1000, min=0, help="Bootstrap replicates for the confidence intervals (0 = none)."),
    confidence: float = typer.Option(0.95, help="Confidence level of the intervals, as in `aggregate`."),
    level: Optional[float] = typer.Option(None, "--level", hidden=True, help="Old spelling of --confidence."),
    seed: int = typer.Option(0, help="Seed of the bootstrap."),
    out_dir: Optional[Path] = path_option(None, "--out", help="A folder (made if missing) for the tables "
                                                              "overall.csv, per_code.csv, disagreements.csv, "
                                                              "per_level.csv, per_round.csv and negotiated.csv."),
) -> None:
    """Agreement between coders: percent agreement, Cohen's and Fleiss' kappa, Krippendorff's alpha, MASI alpha.

    Overall and per code, with bootstrap confidence intervals, and the items and codes coders differ on.
    Per codebook, version and level (category, subcategory): Krippendorff's alpha (nominal when every coder
    gave each item one value there, MASI otherwise) and Cohen's kappa for two coders. Per coding round (the
    projects of a round are one coding). Before and after adjudication (negotiated agreement: each coder's
    codes on an adjudicated item replaced by the decision; see docs/adjudication.md).
    Example: forumkit agreement --db hf.db --project 1 --out agreement/
    """
    from forumkit.coding.negotiated import TABLES, breakdown  # pandas, scipy: when needed
    from forumkit.coding.reliability import project_agreement, write_agreement, write_tables

    if level is not None:
        if confidence != 0.95 and confidence != level:
            raise UsageError("--level is the old spelling of --confidence", hint="give only --confidence")
        confidence = level
    with open_store(db) as store:
        report = project_agreement(store, project, n_boot=boot, confidence=confidence, seed=seed)
        parts = breakdown(store, project, n_boot=boot, confidence=confidence, seed=seed)
    table = Table("measure", "value", f"{confidence:.0%} CI", "items", "coders", "note", title="agreement")
    for r in report.overall_.itertuples():
        table.add_row(r.measure, _fmt(r.value), f"{_fmt(r.ci_low)} – {_fmt(r.ci_high)}", str(r.n_items),
                      str(r.n_coders), r.note or "")
    out.print(table)
    per_code = Table("code", "prevalence", "% agreement", "alpha", f"{confidence:.0%} CI", title="per code")
    for r in report.per_code_.itertuples():
        per_code.add_row(r.code, f"{r.prevalence:.2f}", f"{r.percent_agreement:.2f}", _fmt(r.krippendorff_alpha),
                         f"{_fmt(r.ci_low)} – {_fmt(r.ci_high)}")
    out.print(per_code)
    out.print(f"{len(report.disagreements_)} item × code disagreements")
    levels = Table("stage", "group", "codebook", "level", "items", "alpha", "kappa", "same",
                   title="per codebook and level (alpha: nominal or MASI; same: share of items with equal sets)")
    for r in parts.per_level.itertuples():
        levels.add_row(r.stage, r.group, f"{r.codebook} {r.version or ''}".strip(), r.level[:3], str(r.n_items),
                       _fmt(r.alpha) + (f" {r.alpha_metric}" if r.alpha_metric else ""), _fmt(r.kappa),
                       _fmt(r.exact_agreement))
    out.print(levels)
    if parts.per_round["group"].nunique() > 1:
        rounds = Table("group", "measure", "value", f"{confidence:.0%} CI", "items", "coders", title="per round")
        for r in parts.per_round.itertuples():
            rounds.add_row(r.group, r.measure, _fmt(r.value), f"{_fmt(r.ci_low)} – {_fmt(r.ci_high)}", str(r.n_items),
                           str(r.n_coders))
        out.print(rounds)
    if len(parts.negotiated):
        negotiated = Table("group", "measure", "before", "after", "items", "adjudicated",
                           title="before and after adjudication (negotiated agreement)")
        for r in parts.negotiated.itertuples():
            negotiated.add_row(r.group, r.measure, _fmt(r.before), _fmt(r.after), str(r.n_items), str(r.n_adjudicated))
        out.print(negotiated)
    if out_dir is not None:
        write_agreement(report, out_dir)
        write_tables(parts, TABLES, out_dir, what="the agreement tables, e.g. --out agreement/")
        err.print(f"tables written to {shown(out_dir)}")
