"""The codebooks that ship inside the package, and the one rule that turns a `--codebook` value into a file.

The YAML files live in ``forumkit/codebooks/`` (package data), so an installed forumkit finds them without a
checkout: ``--codebook hf-challenges`` names a shipped codebook, anything else is a path.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["SUFFIX", "shipped_codebooks", "resolve_codebook"]

SUFFIX = ".yaml"


def shipped_codebooks() -> dict[str, Path]:
    """The shipped codebooks by name (the file name without ``.yaml``), sorted by name.

    Package data is read through importlib.resources; forumkit installs as plain files (never zipped), so
    each entry is a real path that any YAML reader can open.
    """
    folder = resources.files("forumkit") / "codebooks"
    found = {entry.name[: -len(SUFFIX)]: Path(str(entry)) for entry in folder.iterdir()
             if entry.name.endswith(SUFFIX) and entry.is_file()}
    return dict(sorted(found.items()))


def resolve_codebook(ref: str | Path) -> Path:
    """The codebook file that a `--codebook` value means: an existing file, else a shipped codebook's name.

    A value that is neither comes back unchanged, so that reading it gives the usual "does not exist" error.
    A file of the same name in the working folder wins over the shipped codebook, as a path always does.
    Example: ``resolve_codebook("hf-challenges").name == "hf-challenges.yaml"``
    """
    path = Path(ref)
    if path.is_file():
        return path
    name = str(ref)
    if name.endswith(SUFFIX):
        name = name[: -len(SUFFIX)]
    shipped = shipped_codebooks()
    return shipped[name] if name in shipped else path
