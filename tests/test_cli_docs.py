"""docs/cli.md, the command-line reference, is generated from the Typer app and kept in sync by this test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from forumkit.cli.docs import REGENERATE, cli_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_cli_doc_is_in_sync():
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == cli_markdown(), \
        f"docs/cli.md is out of date: run `{REGENERATE}` and commit it"


def test_cli_doc_covers_every_command_with_usage_and_defaults():
    doc = cli_markdown()
    for path in ("forumkit scrape", "forumkit sample", "forumkit studio up", "forumkit studio push",
                 "forumkit suggest codes", "forumkit export", "forumkit report", "forumkit hub"):
        assert f"`{path}`\n" in doc and f"Usage: {path} [OPTIONS]" in doc, path
    assert "| `--db <path>` | SQLite store to sample from. [default: forum.db] |" in doc
    assert "| `-n, --name <str>` | Name to save the sample under, e.g. round1. [required] |" in doc
    assert "--token" not in doc  # a hidden option (an old spelling) stays out, as in --help
    assert "```sh\nforumkit studio push --db hf.db --sample round1" in doc  # the help's examples, as shell


def test_cli_doc_does_not_depend_on_the_terminal(tmp_path):
    """A narrow terminal that forces colours, in another folder: the same text, no escape codes."""
    env = {**os.environ, "COLUMNS": "40", "FORCE_COLOR": "1", "TERM": "xterm-256color",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run([sys.executable, "-m", "forumkit.cli.docs"], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout == cli_markdown() and "\x1b" not in res.stdout
