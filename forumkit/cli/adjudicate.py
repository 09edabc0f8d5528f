"""`forumkit adjudicate`: settle coders' disagreements in Label Studio and bring the decisions back."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import app, one_line_errors, open_store, out, path_option
from .studio import TOKEN, URL, WORKDIR, _connect


@app.command()
@one_line_errors
def adjudicate(
    db: Path = path_option(Path("forum.db"), "--db", help="The forumkit store, with the project's pulled annotations."),
    project: int = typer.Option(..., help="forumkit's id of the coded project (see `studio projects`)."),
    adjudicator: Optional[str] = typer.Option(None, help="E-mail of the adjudicator's Label Studio account: only "
                                                         "their decisions count (default: whoever annotates the "
                                                         "queue; remembered once given)."),
    url: Optional[str] = URL,
    workdir: Path = WORKDIR,
    token: Optional[str] = TOKEN,
) -> None:
    """Queue the items whose coders differ on any code as an adjudication project in Label Studio, and read
    the decisions made there back as the consensus of those items.

    Each task shows the item and each coder's codes and memo side by side, with the project's codebooks to
    choose the item's codes and a reason field. Run the command again after adjudicating: it stores every
    decision (codes, who, when, why) and queues items that became disputed since. `export coded` then gives
    those items the decided codes (consensus_rule "adjudicated"), and `agreement` reports before and after.
    Example: forumkit adjudicate --db hf.db --project 1 --adjudicator lead@lab.org
    """
    from forumkit.coding.adjudicate import adjudicate as run  # label-studio-sdk: when needed

    with open_store(db) as store:
        result = run(store, _connect(url, token, workdir), project, adjudicator=adjudicator)
    made = "created" if result.created else "updated"
    out.print(f"adjudication project {made}: {result.project_url}", highlight=False, soft_wrap=True)
    out.print(f"{result.disputed} disputed item(s); {result.added} added to the queue, {result.queued} in it; "
              f"{result.decided} decided", highlight=False)
    if result.ignored:
        out.print(f"{result.ignored} annotation(s) of the queue by others than the adjudicator ignored",
                  highlight=False)
    if result.decided < result.queued:
        out.print("adjudicate the rest in Label Studio, then run this command again to bring the decisions back",
                  highlight=False)
