"""`forumkit fake serve`: a fake Discourse forum on loopback, for trying forumkit without a network."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import app, err, one_line_errors, path_option

fake_app = typer.Typer(help="A fake Discourse forum on loopback, for trying forumkit without a network.",
                       no_args_is_help=True)
app.add_typer(fake_app, name="fake")


@fake_app.command("serve")
@one_line_errors
def fake_serve(
    snapshot: Optional[Path] = path_option(None, help="Forum snapshot (.json.gz); default: the shipped sample."),
    port: int = typer.Option(8765, help="Port on 127.0.0.1."),
) -> None:
    """Serve a forum snapshot with the Discourse API on 127.0.0.1 until Ctrl-C.

    Example: forumkit fake serve --port 8765 & forumkit scrape http://127.0.0.1:8765 --db sample.db --rate 0
    """
    import time

    from forumkit.fakes.discourse import FakeDiscourse, FakeForum, load_sample

    forum = FakeForum.load(snapshot) if snapshot is not None else load_sample()
    with FakeDiscourse(forum, port=port) as server:
        err.print(f"serving at {server.url} (Ctrl-C to stop)")
        while True:
            time.sleep(3600)
