"""`forumkit appendix`: a methods section and a replication folder, written from the store."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import app, err, one_line_errors, open_store, out, path_option, shown


@app.command()
@one_line_errors
def appendix(
    db: Path = path_option(Path("forum.db"), "--db", help="The forumkit store: the crawl, the sample and the pulled "
                                                          "project."),
    project: Optional[int] = typer.Option(None, help="forumkit's project id (see `studio projects`; default: the "
                                                     "only one)."),
    boot: int = typer.Option(1000, min=0, help="Bootstrap replicates of the agreement intervals (0 = none)."),
    confidence: float = typer.Option(0.95, help="Confidence level of the agreement intervals."),
    seed: int = typer.Option(0, help="Seed of the agreement bootstrap."),
    out_dir: Path = path_option(Path("appendix"), "--out", help="A folder (made if missing) for methods.md, "
                                                                "methods.tex, data/, codebooks/ and manifest.json."),
) -> None:
    """Write the methods section (Markdown and LaTeX) and a replication folder from what the store records.

    The crawl (runs, requests, what was left out and why), the sampling design and seed, the codebook versions,
    coders and rounds, agreement with the reason for each statistic, the suggestions' acceptance, the software
    versions and the commands; beside it the coded dataset (CSV, Parquet), the REFI-QDA project, the codebooks
    as stored, and manifest.json with every file's sha256. Example:
    forumkit appendix --db hf.db --project 1 --out appendix/
    """
    from forumkit.analysis.appendix import write_appendix  # pandas, jinja2: when needed

    with open_store(db) as store:
        result = write_appendix(store, out_dir, project, n_boot=boot, confidence=confidence, seed=seed)
    out.print(f"methods section -> {shown(out_dir / 'methods.md')}, {shown(out_dir / 'methods.tex')}")
    err.print(f"{len(result.files)} files listed with their sha256 in {shown(out_dir / 'manifest.json')}")
