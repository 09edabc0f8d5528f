"""A real Label Studio server for the tests, started once per test session.

The label-studio virtual environment is the project's own (`.venv-studio` at the repository root,
created by forumkit on first use). A template data directory is migrated once (about a minute on
two cores) and each session copies it, with its login.json.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from forumkit.coding.studio import server as studio_server

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-studio"


@pytest.fixture(scope="session")
def studio_template(tmp_path_factory) -> Path:
    """A migrated Label Studio data directory (its login.json beside it)."""
    base = tmp_path_factory.mktemp("studio-template")
    info = studio_server.start(base, venv=VENV)
    studio_server.stop(base)
    assert info.url
    return base / "data"


def copy_template(template: Path, workdir: Path) -> None:
    """Make ``workdir`` a work folder whose server starts in seconds (migrated data, its login)."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(template, workdir / "data")
    shutil.copy(template.parent / "login.json", workdir / "login.json")


@pytest.fixture(scope="session")
def studio(studio_template, tmp_path_factory):
    """A running server shared by the session's tests (each test makes its own projects)."""
    workdir = tmp_path_factory.mktemp("studio")
    info = studio_server.start(workdir, venv=VENV, template=studio_template)
    yield info
    studio_server.stop(workdir)
