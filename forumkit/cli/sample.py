"""Commands of the sampling step: sample, samples."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.table import Table

from forumkit.errors import UsageError
from .common import app, codebook_option, err, one_line_errors, open_store, out, path_option, shown

if TYPE_CHECKING:  # sampling needs pandas: imported when a command runs, not for --help
    from forumkit.coding.sampling import Sample


def print_sample(sample: Sample) -> None:
    """The size computation (if any) and the strata: population, sample size, weight; for an uncertainty sample,
    how it was chosen."""
    d = sample.design
    if d.strategy == "uncertainty" and d.active:
        a = d.active
        out.print(f"{sample.n} of {a['pool']} uncoded {d.unit}s chosen by uncertainty ({a['measure']} of the "
                  f"{a['level']} probabilities learnt from {a['coded_items']} coded items in {a['train']}), spread "
                  f"over the {a['embedder']} embeddings; seed {d.seed}", highlight=False, soft_wrap=True)
        return
    if sample.size is not None:
        out.print(f"sample size: {sample.size.explain()}", highlight=False, soft_wrap=True)
    how = "simple random sample" if d.method == "simple" else \
        f"stratified by {d.period if d.strata == 'period' else 'category'}, {d.allocation} allocation"
    table = Table("stratum", "population", "sample", "weight",
                  title=f"{sample.n} of {sample.population_size} {d.unit}s: {how}, seed {d.seed}")
    for row in sample.strata().itertuples(index=False):
        weight = "—" if row.sample_size == 0 else f"{row.weight:.2f}"
        table.add_row(str(row.stratum), str(row.population), str(row.sample_size), weight)
    out.print(table)


@app.command()
@one_line_errors
def sample(
    db: Path = path_option(Path("forum.db"), "--db", help="SQLite store to sample from."),
    name: str = typer.Option(..., "--name", "-n", help="Name to save the sample under, e.g. round1."),
    unit: str = typer.Option("topic", help="What to sample: topic or post (regular, visible posts)."),
    size: Optional[int] = typer.Option(None, "--size", help="Sample size; default: Cochran's formula."),
    confidence: Optional[float] = typer.Option(None, help="Confidence level for Cochran's formula [default: 0.95]."),
    margin: Optional[float] = typer.Option(None, help="Margin of error for Cochran's formula [default: 0.05]."),
    strata: Optional[str] = typer.Option(None, help="Stratify by category (top-level) or period."),
    period: str = typer.Option("quarter", help="Period of --strata period: month, quarter or year (UTC)."),
    allocation: str = typer.Option("proportional", help="Split over strata: proportional or equal."),
    seed: int = typer.Option(42, min=0, help="Random seed: the same seed on the same store gives the same sample."),
    since: Optional[str] = typer.Option(None, help="Only items created on or after this date (YYYY-MM-DD)."),
    until: Optional[str] = typer.Option(None, help="Only items created before this date (YYYY-MM-DD)."),
    categories: list[str] = typer.Option([], "--categories", "-c",
                                         help="Only these categories and their subcategories (slug, name or id; "
                                              "repeat or comma-separate)."),
    min_posts: Optional[int] = typer.Option(None, "--min-posts", help="Only topics with at least this many posts."),
    accepted_only: bool = typer.Option(False, "--accepted-only", help="Only topics with an accepted answer."),
    include_pinned: bool = typer.Option(False, "--include-pinned",
                                        help="Keep pinned topics and the categories' 'About' topics."),
    forum: Optional[str] = typer.Option(None, help="Forum base URL, when the store holds several."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite a saved sample of the same name."),
    out_path: Optional[Path] = path_option(None, "--out", "-o",
                                           help="Also write the items (with title, category, url) to this one "
                                                "CSV file."),
    strategy: str = typer.Option("random", help="random: a random draw; uncertainty: the uncoded items a "
                                                "classifier learnt from --train is least sure of (active "
                                                "learning), spread over the embedding space."),
    train: Optional[Path] = path_option(None, "--train", help="uncertainty: the coded items to learn from "
                                                              "(a table as `forumkit export coded` writes it)."),
    codebooks: list[Path] = codebook_option([], help="uncertainty: the codes to learn (repeat for several); "
                                                     "default: the shipped codebooks that hold --train's codes."),
    level: str = typer.Option("category", help="uncertainty: learn codes at this level: category, subcategory "
                                               "or code (the most specific codes)."),
    embedder: str = typer.Option("minilm", help="uncertainty: text embedder: minilm, static or st:NAME_OR_PATH."),
    measure: str = typer.Option("margin", help="uncertainty: margin (1 - gap between the two likeliest codes) "
                                               "or entropy of the code probabilities."),
    pool_factor: float = typer.Option(5.0, "--pool-factor", help="uncertainty: choose among the N x this many "
                                                                 "most uncertain items, spread out."),
) -> None:
    """Draw a seeded random sample of topics or posts and save it in the store for coding; or, with
    --strategy uncertainty, choose the uncoded items a classifier is least sure of (active learning).

    Example: forumkit sample --db hf.db --name round1 --strata period --period year --seed 7 --out round1.csv

    Example: forumkit sample --db hf.db --name round2 --strategy uncertainty --train coded.csv --size 50
    """
    from forumkit.coding.sampling import SampleDesign, draw_sample, save_sample, write_sample_csv

    if strategy == "uncertainty" and train is None:
        raise UsageError("--strategy uncertainty needs the coded items to learn from",
                         hint="pass --train CODED, e.g. from: forumkit export coded --db DB --out coded.csv")
    if strategy != "uncertainty" and train is not None:
        raise UsageError("--train is for --strategy uncertainty", hint="add --strategy uncertainty, or drop --train")
    if size is not None and (confidence is not None or margin is not None):
        raise UsageError("--size fixes the sample size; --confidence and --margin compute it",
                         hint="pass either --size or --confidence/--margin")
    design = SampleDesign(
        name=name, unit=unit, size=size, confidence=0.95 if confidence is None else confidence,
        margin=0.05 if margin is None else margin, strata=strata, period=period, allocation=allocation, seed=seed,
        since=since, until=until, categories=tuple(c.strip() for item in categories for c in item.split(",")
                                                   if c.strip()),
        min_posts=min_posts, accepted_only=accepted_only, exclude_pinned_and_about=not include_pinned, forum=forum,
        strategy=strategy)
    with open_store(db) as store:
        if train is not None:
            from forumkit.coding.codebook import load_codebook
            from forumkit.coding.suggest.active import draw_uncertain_sample

            drawn = draw_uncertain_sample(store, design, train=train, codebooks=[load_codebook(c) for c in codebooks],
                                          level=level, embedder=embedder, measure=measure, pool_factor=pool_factor)
        else:
            drawn = draw_sample(store, design)
        save_sample(store, drawn, replace=replace)
        print_sample(drawn)
        err.print(f"saved sample '{name}' ({drawn.n} {unit}s) in {shown(db)}")
        if out_path is not None:
            rows = write_sample_csv(store, drawn, out_path)
            err.print(f"{rows} items -> {shown(out_path)}")


@app.command()
@one_line_errors
def samples(
    db: Path = path_option(Path("forum.db"), "--db", help="SQLite store to read."),
    name: Optional[str] = typer.Option(None, "--name", "-n", help="Show this sample's strata instead of the list."),
    out_path: Optional[Path] = path_option(None, "--out", "-o", help="With --name: the one CSV file to write its "
                                                                     "items to."),
) -> None:
    """List the samples saved in a store, or show one and export its items.

    Example: forumkit samples --db hf.db --name round1 --out round1.csv
    """
    from forumkit.coding.sampling import list_samples, load_sample, write_sample_csv

    if out_path is not None and name is None:
        raise UsageError("--out needs --name", hint="say which sample to write, e.g. --name round1")
    with open_store(db) as store:
        if name is not None:
            saved = load_sample(store, name)
            print_sample(saved)
            if out_path is not None:
                rows = write_sample_csv(store, saved, out_path)
                err.print(f"{rows} items -> {shown(out_path)}")
            return
        found = list_samples(store)
        if not found:
            err.print(f"no samples saved in {shown(db)} yet; draw one with: "
                      f"forumkit sample --db {shown(db)} --name round1")
            return
        table = Table("name", "unit", "items", "population", "design", "seed", "saved", title=f"samples in {shown(db)}")
        for s in found:
            table.add_row(s.name, s.unit, str(s.items), str(s.population),
                          s.strategy if s.strategy != "random" else
                          s.method if s.strata is None else f"{s.method} by {s.strata}", str(s.seed),
                          s.created_at[:16].replace("T", " "))
        out.print(table)
