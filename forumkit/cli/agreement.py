"""`forumkit agreement`: inter-rater reliability of a pulled Label Studio project."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .common import app, err, one_line_errors, open_store, out


def _fmt(value: float) -> str:
    return "—" if value != value else f"{value:.3f}"  # NaN -> dash


@app.command()
@one_line_errors
def agreement(
    db: Path = typer.Option(Path("forum.db"), "--db", help="The forumkit store, with pulled annotations."),
    project: Optional[int] = typer.Option(None, help="forumkit's project id (see `studio projects`)."),
    boot: int = typer.Option(1000, min=0, help="Bootstrap replicates for the confidence intervals (0 = none)."),
    level: float = typer.Option(0.95, help="Confidence level of the intervals."),
    seed: int = typer.Option(0, help="Seed of the bootstrap."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Folder for overall.csv, per_code.csv, "
                                                               "disagreements.csv."),
) -> None:
    """Agreement between coders: percent agreement, Cohen's and Fleiss' kappa, Krippendorff's alpha, MASI alpha.

    Overall and per code, with bootstrap confidence intervals, and the items and codes coders differ on.
    Example: forumkit agreement --db hf.db --project 1 --out agreement/
    """
    from forumkit.coding.agreement import Agreement, from_coded  # scipy and pandas are heavy: import them when needed
    from forumkit.coding.coded import annotation_rows

    with open_store(db) as store:
        rows = annotation_rows(store, project)
    if project is None and rows["project"].nunique() > 1:
        rows["item_id"] = rows["project"].astype(str) + ":" + rows["item_id"].astype(str)
    rows = rows[~rows["was_cancelled"]]
    report = Agreement(n_boot=boot, level=level, seed=seed).fit(
        *from_coded(rows.rename(columns={"item_id": "item", "code_id": "code"})))
    table = Table("measure", "value", f"{level:.0%} CI", "items", "coders", "note", title="agreement")
    for r in report.overall_.itertuples():
        table.add_row(r.measure, _fmt(r.value), f"{_fmt(r.ci_low)} – {_fmt(r.ci_high)}", str(r.n_items),
                      str(r.n_coders), r.note or "")
    out.print(table)
    per_code = Table("code", "prevalence", "% agreement", "alpha", f"{level:.0%} CI", title="per code")
    for r in report.per_code_.itertuples():
        per_code.add_row(r.code, f"{r.prevalence:.2f}", f"{r.percent_agreement:.2f}", _fmt(r.krippendorff_alpha),
                         f"{_fmt(r.ci_low)} – {_fmt(r.ci_high)}")
    out.print(per_code)
    out.print(f"{len(report.disagreements_)} item × code disagreements")
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        report.overall_.to_csv(out_dir / "overall.csv", index=False)
        report.per_code_.to_csv(out_dir / "per_code.csv", index=False)
        report.disagreements_.to_csv(out_dir / "disagreements.csv", index=False)
        err.print(f"tables written to {out_dir}")
