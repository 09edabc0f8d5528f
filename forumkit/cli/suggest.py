"""Commands of the suggestion step: forumkit suggest codes | topics | audit | report.

Each command is a thin call into :mod:`forumkit.coding.suggest`; the models load when a command runs, never
for ``--help``.
"""

from __future__ import annotations

import typer

from .common import app

suggest_app = typer.Typer(help="Suggest codes and topics offline, audit coded data, measure how suggestions fared.",
                          no_args_is_help=True)
app.add_typer(suggest_app, name="suggest")


# -- suggest report: how the suggestions pushed to Label Studio fared (imports kept in this block) ----------------

from pathlib import Path  # noqa: E402
from typing import Optional  # noqa: E402

from .common import err, one_line_errors, open_store, out, path_option, shown  # noqa: E402


def _share(value: float) -> str:
    return "—" if value != value else f"{value:.2f}"  # NaN -> dash


@suggest_app.command("report")
@one_line_errors
def report_cmd(
    db: Path = path_option(Path("forum.db"), "--db", help="The forumkit store, with the project pulled."),
    project: Optional[int] = typer.Option(None, help="forumkit's project id (see `studio projects`)."),
    out_dir: Optional[Path] = path_option(None, "--out", help="A folder (made if missing) for the tables "
                                                              "summary.csv, per_code.csv and agreement.csv."),
) -> None:
    """How the suggestions fared: per code, how often coders kept a pre-selected code, precision and recall of
    the pre-selection against each coder and against the consensus, and the model's agreement with each coder
    next to the coders' agreement with each other (Cohen's kappa, Krippendorff's alpha).

    Reads what `studio push --suggestions` recorded and what `studio pull` brought back.
    Example: forumkit suggest report --db hf.db --project 1 --out suggestion-report/
    """
    from rich.table import Table

    from forumkit.coding.suggest.acceptance import suggestion_report, write_report  # pandas: when needed

    with open_store(db) as store:
        report = suggestion_report(store, project)
    s = report.summary.iloc[0]
    out.print(f"project {s['project']}: {s['items_compared']} of {s['items_suggested']} suggested items coded "
              f"({s['annotations']} annotations by {s['coders']} coders); model {s['model_versions']}",
              highlight=False, soft_wrap=True)
    codes = Table("code", "pre-selected", "kept", "acceptance", "recall (coders)", "precision (consensus)",
                  "recall (consensus)", title="suggestions per code")
    for r in report.per_code.itertuples():
        codes.add_row(r.code_id if r.code_id == "ALL" else f"{r.code} ({r.code_id})", str(r.offered),
                      str(r.accepted), _share(r.acceptance), _share(r.recall_coders), _share(r.precision_consensus),
                      _share(r.recall_consensus))
    out.print(codes)
    pairs = Table("coder", "with", "items", "Cohen's kappa", "Krippendorff's alpha", "% agreement",
                  title="agreement over all codes (the model as a coder)")
    for r in report.agreement[report.agreement["code_id"] == "ALL"].itertuples():
        pairs.add_row(r.coder_a, r.coder_b, str(r.n_items), _share(r.cohen_kappa), _share(r.krippendorff_alpha),
                      _share(r.percent_agreement))
    out.print(pairs)
    if out_dir is not None:
        write_report(report, out_dir)
        err.print(f"tables written to {shown(out_dir)}")
