"""Codebooks: hierarchical code trees in YAML, checked with line numbers, imported from spreadsheets,
and turned into Label Studio labeling configs.

Example::

    from forumkit.coding.codebook import label_config, load_codebook, resolve_codebook
    challenges = load_codebook(resolve_codebook("hf-challenges"))
    xml = label_config([challenges], unit="topic")
    challenges.by_path(["CH.SPACES"]).name            # 'Spaces'
"""

from .diff import CodebookDiff, diff
from .importer import default_prefix, import_codebook
from .labelconfig import MEMO_NAME, OBJECT_NAME, UNITS, label_config, taxonomy_name
from .mapping import CodeMap, MapError, check_map, checked_map, load_map, parse_map
from .model import TABLE_COLUMNS, Code, Codebook, CodebookError, load_codebook, slug
from .shipped import resolve_codebook, shipped_codebooks
from .validate import Problem, validate_codebook

__all__ = [
    "Code", "Codebook", "CodebookError", "Problem", "TABLE_COLUMNS", "UNITS", "OBJECT_NAME", "MEMO_NAME",
    "load_codebook", "validate_codebook", "import_codebook", "default_prefix", "label_config", "taxonomy_name",
    "slug", "resolve_codebook", "shipped_codebooks", "CodebookDiff", "diff", "CodeMap", "MapError", "check_map",
    "checked_map", "load_map", "parse_map",
]
