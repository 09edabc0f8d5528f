"""`python -m forumkit` and the `forumkit` command: the command line, Ctrl-C-safe from the first import.

Importing the commands (typer, rich, httpx, pandas, pyarrow) takes a noticeable
moment; a Ctrl-C in it ends like one anywhere else: exit 130 and the one-line
message, no traceback. Only the standard library and :mod:`forumkit.errors` are
imported before the guard.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from forumkit.errors import INTERRUPTED

#: Tests only: a file to create, then a pause, inside the guarded start-up, so that a test can
#: deliver Ctrl-C during it for certain (start-up is otherwise too short to hit reliably).
STARTUP_PAUSE_ENV = "FORUMKIT_TEST_STARTUP_PAUSE"


def main() -> None:
    """Import the command line and run it; a Ctrl-C during the imports exits 130 with the one-line message."""
    try:
        _pause_for_tests()
        from forumkit.cli import main as cli_main
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print(INTERRUPTED, file=sys.stderr, flush=True)
        raise SystemExit(130) from None
    cli_main()


def _pause_for_tests() -> None:
    marker = os.environ.get(STARTUP_PAUSE_ENV)
    if marker:
        Path(marker).touch()
        time.sleep(30)


if __name__ == "__main__":
    main()
