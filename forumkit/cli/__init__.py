"""The `forumkit` command: a thin layer over the library.

Each command parses its options, makes one or two library calls and renders
the result with rich. Data goes to stdout, progress and diagnostics to stderr.
Exit codes: 0 ok, 1 a forumkit error (printed as one line), 2 usage, 130 interrupted.
One module per step of a study registers its commands on the root app.
"""

from __future__ import annotations

import logging
import signal
import sys

from forumkit.errors import INTERRUPTED

# Importing a module registers its commands; the order is the help's, the order of a study.
from . import scrape, export, demo, study, fake, codebook, sample, suggest, studio, agreement, adjudicate, aggregate, query, report, appendix, hub  # noqa: F401,I001
from .common import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the `forumkit` command.

    A Ctrl-C ends with exit 130 and one line, wherever it lands: inside a command
    (:func:`~forumkit.cli.common.one_line_errors` turns it into exit 130), in
    Typer's own parsing (which does the same), or on the way out.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except SystemExit as exc:
        if exc.code == 130:
            interrupted()
        raise
    except KeyboardInterrupt:
        interrupted()


def interrupted() -> None:
    """Say that Ctrl-C stopped the command and exit 130; a second Ctrl-C cannot cut this short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    print(INTERRUPTED, file=sys.stderr, flush=True)
    raise SystemExit(130)
