"""Commands of the suggestion step: forumkit suggest codes | topics | audit | report.

Each command is a thin call into :mod:`forumkit.coding.suggest`; the models load when a command runs, never
for ``--help``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from forumkit.errors import UsageError
from .common import app, codebook_option, err, one_line_errors, open_store, out, path_option, shown

suggest_app = typer.Typer(help="Suggest codes and topics offline, audit coded data, measure how suggestions fared.",
                          no_args_is_help=True)
app.add_typer(suggest_app, name="suggest")


# -- suggest codes ---------------------------------------------------------------------------------------------
@suggest_app.command("codes")
@one_line_errors
def codes_cmd(
    codebook: list[Path] = codebook_option(..., help="the codes to suggest; repeat for several codebooks."),
    db: Optional[Path] = path_option(None, "--db", help="The forumkit store whose items get suggestions."),
    sample: Optional[str] = typer.Option(None, help="With --db: only the items of this saved sample."),
    unit: str = typer.Option("topic", help="With --db: topic or post."),
    texts: Optional[Path] = path_option(None, "--texts", help="Instead of --db: a CSV/Parquet table of items."),
    id_col: Optional[str] = typer.Option(None, "--id-col", help="With --texts: the column of item ids."),
    text_col: Optional[str] = typer.Option(None, "--text-col", help="With --texts: the column of item texts."),
    train: Optional[Path] = path_option(None, "--train", help="A coded table (item_id, code_id[, coder]) to learn "
                                                              "from; its items' texts come from --db or --texts."),
    level: str = typer.Option("category", help="category, subcategory or code."),
    top: int = typer.Option(3, help="Rows per item and codebook: the top K codes (and the rest of the set)."),
    coverage: float = typer.Option(0.9, help="Target coverage of the prediction sets (in_set)."),
    seed: int = typer.Option(0, min=0, help="Seed of the calibration split and folds: same seed, same file."),
    embedder: str = typer.Option("minilm", help="minilm, static or st:NAME_OR_PATH (offline)."),
    cache: Optional[Path] = path_option(None, "--cache", help="With --texts: the SQLite file that caches the "
                                                              "embeddings (default: FILE.embeddings.db beside it)."),
    out_path: Path = path_option(..., "--out", "-o", help="The one CSV file to write the suggestions to."),
) -> None:
    """Suggest codes for items: zero-shot from the codebook, or learnt from coded items with --train.

    Writes item_id, code_id, codebook, score, rank, in_set, evidence, model_version: a file that
    `forumkit studio push --suggestions` reads. Embeddings are cached, so a second run embeds nothing new.
    Example: forumkit suggest codes --codebook hf-challenges --db hf.db --sample round2 --train coded.csv
    --out suggestions.csv
    """
    from forumkit.coding.suggest.codes import suggest_codes, write_suggestions
    from forumkit.coding.suggest.corpus import from_store, from_table
    from forumkit.coding.suggest.training import read_coded
    from forumkit.store import Store

    if (db is None) == (texts is None):
        raise UsageError("give either --db or --texts", hint="--db STORE for a scraped forum, --texts FILE otherwise")
    if texts is not None and not (id_col and text_col):
        raise UsageError("--texts needs --id-col and --text-col", hint="name the id and text columns of the table")
    if db is not None and cache is not None:
        raise UsageError("--cache is for --texts", hint="with --db the store caches the embeddings itself")
    coded = read_coded(train) if train is not None else None
    corpus = from_table(texts, id_col=id_col, text_col=text_col) if texts is not None else None
    cache = cache or (texts.with_name(texts.name + ".embeddings.db") if texts is not None else None)
    with (open_store(db) if db is not None else Store(cache)) as store:
        if db is not None:
            corpus = from_store(store, unit=unit, sample=sample)
            source = from_store(store, unit=unit) if sample and coded is not None else None
        else:
            source = None
        before = store.embedding_count()
        with err.status("embedding and scoring", spinner="dots"):
            result = suggest_codes(codebook, corpus, store=store, coded=coded, train_corpus=source, level=level,
                                   top=top, coverage=coverage, seed=seed, embedder=embedder)
        embedded = store.embedding_count() - before
        cache_path = store.path
    write_suggestions(result.table, out_path)
    err.print(f"{result.items} items, {result.codes} codes ({level}), {result.mode}; {embedded} new embeddings "
              f"cached in {shown(cache_path)}", highlight=False, soft_wrap=True)
    for book, size in result.set_size.items():
        n = result.coded.get(book, 0)
        if not n:
            err.print(f"{book}: zero-shot; mean set size {size:.2f} (top codes whose scores reach {coverage:g}, "
                      "at most --top; no coverage guarantee without coded items)", highlight=False, soft_wrap=True)
            continue
        dropped = f", {result.dropped[book]} above the level left out" if result.dropped.get(book) else ""
        ece = (f"ECE {result.ece[book]:.3f}, coverage {result.coverage[book]:.3f} (5-fold CV), " if book in result.ece
               else "too few coded items for a 5-fold ECE and coverage, ")
        err.print(f"{book}: trained on {n} coded items{dropped}; {ece}mean set size {size:.2f} at {coverage:g}",
                  highlight=False, soft_wrap=True)
    err.print(f"wrote {len(result.table)} rows to {shown(out_path)}", highlight=False)

# -- suggest report: how the suggestions pushed to Label Studio fared ---------------------------------------------


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


# -- suggest audit: a second look at coded items ---------------------------------------------------------------

@suggest_app.command("audit")
@one_line_errors
def audit(
    train: Path = path_option(..., "--train", help="The coded items (a table as `forumkit export coded` writes it)."),
    out_path: Path = path_option(..., "--out", "-o", help="The one CSV file of the items whose code the model "
                                                          "finds unlikely."),
    codebooks: list[Path] = codebook_option([], help="the codes the items were coded with (repeat for several); "
                                                     "default: the shipped codebooks that hold --train's codes."),
    db: Optional[Path] = path_option(None, "--db", help="Read the items' texts from this store."),
    sample: Optional[str] = typer.Option(None, "--sample", help="With --db: only this saved sample's items."),
    unit: str = typer.Option("topic", "--unit", help="With --db: topic or post."),
    texts: Optional[Path] = path_option(None, "--texts", help="Or read the items from this CSV/Parquet table."),
    id_col: Optional[str] = typer.Option(None, "--id-col", help="With --texts: the item id column."),
    text_col: Optional[str] = typer.Option(None, "--text-col", help="With --texts: the text column."),
    level: str = typer.Option("category", help="Audit codes at this level: category, subcategory or code (the "
                                                  "most specific codes)."),
    embedder: str = typer.Option("minilm", help="Text embedder: minilm, static or st:NAME_OR_PATH."),
    folds: int = typer.Option(5, min=2, help="Cross-validation folds of the out-of-fold probabilities."),
    seed: int = typer.Option(0, min=0, help="Seed of the folds and the classifier: same seed, same file."),
    cache: Optional[Path] = path_option(None, "--cache", help="With --texts: SQLite file caching the embeddings "
                                                              "[default: beside the texts, FILE.embeddings.db]."),
    pairs_out: Optional[Path] = path_option(None, "--pairs-out", help="CSV of the pairs of codes most confused "
                                                                      "[default: OUT with .pairs.csv]."),
) -> None:
    """Items whose human code the model finds unlikely (cleanlab on out-of-fold probabilities), for a second
    look, and the pairs of codes the coders (and the model) confuse most.

    Example: forumkit suggest audit --db hf.db --train coded.csv --codebook hf-challenges --out audit.csv
    """
    from forumkit.coding.codebook import load_codebook
    from forumkit.coding.suggest.audit import audit_codes, write_audit
    from forumkit.coding.suggest.corpus import from_store, from_table
    from forumkit.store import Store

    if (db is None) == (texts is None):
        raise UsageError("say where the items' texts are", hint="pass either --db DB or --texts FILE")
    if texts is not None and not (id_col and text_col):
        raise UsageError("--texts needs --id-col and --text-col", hint="name the id and the text columns")
    if db is not None and cache is not None:
        raise UsageError("--cache is for --texts", hint="with --db the store caches the embeddings itself")
    pairs_path = pairs_out or out_path.with_name(f"{out_path.stem}.pairs.csv")
    books = [load_codebook(c) for c in codebooks]
    corpus = from_table(texts, id_col=id_col, text_col=text_col) if texts is not None else None
    cache = cache or (texts.with_name(texts.name + ".embeddings.db") if texts is not None else None)
    with (open_store(db) if db is not None else Store(cache)) as store:
        items = corpus if corpus is not None else from_store(store, unit=unit, sample=sample)
        found = audit_codes(items, train, books, level=level,
                            embedder=embedder, seed=seed, folds=folds, store=store)
    write_audit(found, out_path, pairs_path)
    table = Table("source", "code a", "code b", "items", title=f"codes confused most ({found.items} items audited, "
                                                               f"{found.multi_coded} coded by two or more coders)")
    for row in found.pairs.groupby("source", sort=True).head(5).itertuples(index=False):
        table.add_row(row.source, row.code_a, row.code_b, str(row.n_items))
    out.print(table)
    err.print(f"{len(found.issues)} of {found.items} items to look at again -> {shown(out_path)}; "
              f"{len(found.pairs)} confused pairs -> {shown(pairs_path)}")


# -- suggest topics -------------------------------------------------------------------------------------------------

#: Topics listed on the terminal (largest first); all of them are in topics.csv.
SHOWN = 25

@suggest_app.command("topics")
@one_line_errors
def topics(
    db: Path = path_option(Path("forum.db"), "--db", help="SQLite store whose topics or posts to model."),
    codebooks: list[Path] = codebook_option([], help="the codes that guide the topics and that topics are mapped to "
                                                     "(repeat for several) [default: hf-challenges]."),
    unit: str = typer.Option("topic", help="What one item is: topic (title and its posts' words) or post."),
    since: Optional[str] = typer.Option(None, help="Only items created on or after this date (YYYY-MM-DD)."),
    until: Optional[str] = typer.Option(None, help="Only items created before this date (YYYY-MM-DD)."),
    min_topic_size: int = typer.Option(10, "--min-topic-size", help="Smallest number of items a topic may have."),
    seed: int = typer.Option(0, min=0, help="Random seed (UMAP): the same seed and store give the same files."),
    embedder: str = typer.Option("static", help="Embedding of the items: static (shipped model2vec, ~100x faster), "
                                                "minilm (all-MiniLM-L6-v2) or st:NAME_OR_PATH."),
    guide: str = typer.Option("seed", help="How the codebook steers the topics: seed (its words), zeroshot (its "
                                           "category names; use with --embedder minilm), both or none."),
    period: str = typer.Option("quarter", help="Period of the topics over time: month, quarter or year (UTC)."),
    new_code_similarity: float = typer.Option(0.30, "--new-code-similarity",
                                              help="A topic whose nearest code is less similar (cosine) is listed "
                                                   "as a candidate new code."),
    forum: Optional[str] = typer.Option(None, help="Forum base URL, when the store holds several."),
    out_dir: Path = path_option(..., "--out", "-o",
                                help="A folder (made if missing) for the tables, figures and the saved model."),
) -> None:
    """Find the topics of a forum with BERTopic, guided by and mapped to the codebook, and their trends.

    Writes topics.csv, topic_items.csv, topic_words.csv, topic_codes.csv, new_codes.csv (topics that match no
    code), topics_by_PERIOD.csv, topic_trends.csv (Mann-Kendall), figures/ and the model (safetensors) to
    --out, and stores the run for the report's "Topics over time". Example:
    forumkit suggest topics --db hf.db --codebook hf-challenges --since 2022-01-01 --seed 1 --out topics/
    """
    from forumkit.analysis.topictrends import run_topics
    from forumkit.coding.codebook import load_codebook, resolve_codebook
    from forumkit.coding.suggest.topics import TopicOptions

    options = TopicOptions(unit=unit, since=since, until=until, min_topic_size=min_topic_size, seed=seed,
                           embedder=embedder, guide=guide, new_code_similarity=new_code_similarity, forum=forum)
    options.check()
    books = [load_codebook(path) for path in codebooks or [resolve_codebook("hf-challenges")]]
    with open_store(db) as store:
        result, trends = run_topics(store, books, out_dir, options, period=period)
    out.print(f"{len(result.items)} {unit}s, {len(result.topics)} topics ({result.model_version}); outliers "
              f"{result.outliers_before:.1%} before reduction, {result.outliers_after:.1%} after", soft_wrap=True)
    largest = result.topics.sort_values(["size", "topic"], ascending=[False, True])
    for row in largest.head(SHOWN).itertuples():
        code = "new code?" if row.new_code else f"{row.code_id} ({row.similarity:.2f})"
        out.print(f"  {row.topic:>4}  {row.size:>6}  {row.name[:48]:<48}  {code}", highlight=False, soft_wrap=True)
    if len(largest) > SHOWN:
        out.print(f"  ... {len(largest) - SHOWN} smaller topics in topics.csv", highlight=False)
    rising = trends.trends[trends.trends["trend"] != "no trend"]
    out.print(f"{len(rising)} topics with a trend per {period} (Mann-Kendall); {len(result.new_codes)} candidate "
              f"new codes -> {shown(out_dir)} (run {result.run_id} in {shown(db)})", soft_wrap=True)
