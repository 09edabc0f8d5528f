"""The software a result was made with: forumkit, Python and the packages whose versions change results.

One list, used by the report's provenance section and the methods appendix, so that both name the same software.
"""

from __future__ import annotations

import platform
from importlib import metadata

from forumkit import __version__

__all__ = ["PACKAGES", "versions"]

#: Storage, statistics, figures, the QDA export, Label Studio's client and the suggestion models.
PACKAGES = ("pandas", "numpy", "scipy", "statsmodels", "pymannkendall", "krippendorff", "pyarrow", "matplotlib",
            "plotly", "lxml", "jinja2", "label-studio-sdk", "scikit-learn", "sentence-transformers", "model2vec",
            "bertopic")


def versions() -> list[tuple[str, str]]:
    """(name, version) of forumkit, Python and each of :data:`PACKAGES` that is installed."""
    out = [("forumkit", __version__), ("Python", platform.python_version())]
    for name in PACKAGES:
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    return out
