"""Commands of the suggestion step: forumkit suggest codes | topics | audit | report.

Each command is a thin call into :mod:`forumkit.coding.suggest`; the models load when a command runs, never
for ``--help``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import app, codebook_option, one_line_errors, open_store, out, path_option, shown

suggest_app = typer.Typer(help="Suggest codes and topics offline, audit coded data, measure how suggestions fared.",
                          no_args_is_help=True)
app.add_typer(suggest_app, name="suggest")


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
