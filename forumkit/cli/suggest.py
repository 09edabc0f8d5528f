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
