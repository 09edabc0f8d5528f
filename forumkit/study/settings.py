"""The one table of a study's settings: each ``forumkit.toml`` key, its type, what `forumkit init` writes, and
which option of which command it feeds.

A command's option takes its default from the setting that feeds it (a flag on the command line still wins).
Keys not written in the file leave each command's own default in force, with two derived exceptions, both
ids that one step makes and the next one reads, so that nobody types them again:

* ``[studio] project`` absent: the project that ``studio push`` last recorded in the store for the study's
  sample (``[sample] name``); none pushed yet: the command's own rule (the only project of the store).
* ``[studio] suggestions = true``: ``studio push`` lists the suggestions file (``[suggest] out``) once
  ``forumkit suggest codes`` has written it.

A feed with ``unless`` flags is dropped when one of those flags is on the command line: the flag picks
another source (``--texts`` instead of the store, ``--items`` instead of the sample).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Feed", "Setting", "SETTINGS", "SECTIONS", "FILE_NAME"]

#: The file that makes a folder a study.
FILE_NAME = "forumkit.toml"


@dataclass(frozen=True)
class Feed:
    """One option a setting feeds: the command as typed (``studio push``), the option's parameter name, and
    the flags that, given on the command line, make the command ignore this default."""

    command: str
    param: str
    unless: tuple[str, ...] = ()

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.command.split())


@dataclass(frozen=True)
class Setting:
    """A ``forumkit.toml`` key.

    ``kind``: str, int, float, bool, path (relative to the file's folder), paths or strs (lists).
    ``init``: the value `forumkit init` writes; None writes ``example`` as a comment (the key stays unset).
    ``absent``: what holds when the key is not in the file, as `forumkit config` says it.
    """

    section: str
    key: str
    kind: str
    help: str
    feeds: tuple[Feed, ...]
    init: Any = None
    example: Any = None
    absent: str = "each command's own default"

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"


def _f(command: str, param: str, *unless: str) -> Feed:
    return Feed(command, param, tuple(unless))


_DB = ("scrape", "stats", "export", "sample", "samples", "suggest topics", "suggest report", "studio push",
       "studio pull", "studio projects", "agreement", "adjudicate", "report", "appendix", "hub crawl", "hub export",
       "hub trends", "cooccur", "query", "codebook migrate")
_WORKDIR = ("studio up", "studio down", "studio status", "studio login", "studio push", "studio pull", "adjudicate",
            "codebook migrate")

#: Section -> the comment above it in forumkit.toml.
SECTIONS: dict[str, str] = {
    "forum": "The forum to study and the store it is scraped into (forumkit scrape).",
    "codebooks": "The codebooks coders code with (copied here by forumkit init: edit them freely).",
    "sample": "The sample of items to code (forumkit sample), and which sample the next steps read.",
    "suggest": "Offline code suggestions (forumkit suggest codes), pushed with the sample.",
    "studio": "Label Studio (forumkit studio up / push / pull).",
    "analysis": "Agreement and frequencies over time (forumkit agreement, forumkit aggregate).",
    "report": "The HTML report (forumkit report).",
}

SETTINGS: tuple[Setting, ...] = (
    # -- forum -------------------------------------------------------------------------------------------------
    Setting("forum", "url", "str", "Base URL of the Discourse forum.", (_f("scrape", "forum_url"),),
            init="https://discuss.huggingface.co"),
    Setting("forum", "store", "path", "The SQLite store every command reads and writes (--db).",
            tuple(_f(c, "db") for c in _DB) + (_f("suggest codes", "db", "--texts"),
                                               _f("suggest audit", "db", "--texts"),
                                               _f("aggregate", "db", "--dataset")),
            init="forum.db"),
    Setting("forum", "rate", "float", "Requests per minute (be kind to real forums; 0 = no limit).",
            (_f("scrape", "rate"),), init=60.0),
    Setting("forum", "categories", "strs", "Only these categories (slug, name or id).",
            (_f("scrape", "categories"),), example=["vision", "nlp"], absent="every category"),
    Setting("forum", "since", "str", "Only topics created on or after this date.", (_f("scrape", "since"),),
            example="2023-01-01", absent="no lower bound"),
    Setting("forum", "until", "str", "Only topics created before this date.", (_f("scrape", "until"),),
            example="2025-01-01", absent="no upper bound"),
    Setting("forum", "user_agent", "str", "User-Agent header: say who you are.", (_f("scrape", "user_agent"),),
            example="my-study (me@example.org)", absent="forumkit's own"),
    # -- codebooks ---------------------------------------------------------------------------------------------
    Setting("codebooks", "files", "paths", "Codebook YAML files, one taxonomy each in Label Studio.",
            (_f("studio push", "codebook"), _f("suggest codes", "codebook"), _f("suggest audit", "codebooks"),
             _f("suggest topics", "codebooks"), _f("sample", "codebooks")),
            absent="none: give --codebook"),
    # -- sample ------------------------------------------------------------------------------------------------
    Setting("sample", "name", "str", "The sample's name: drawn by `sample`, pushed, suggested and reported on.",
            (_f("sample", "name"), _f("studio push", "sample", "--items"), _f("suggest codes", "sample", "--texts"),
             _f("suggest audit", "sample", "--texts")), init="round1"),
    Setting("sample", "unit", "str", "What one item is: topic or post.",
            (_f("sample", "unit"), _f("suggest codes", "unit"), _f("suggest audit", "unit")), init="topic"),
    Setting("sample", "size", "int", "A fixed sample size (then leave confidence and margin out).",
            (_f("sample", "size"),), example=100, absent="Cochran's formula"),
    Setting("sample", "confidence", "float", "Confidence level of Cochran's formula.",
            (_f("sample", "confidence"),), example=0.95, absent="0.95"),
    Setting("sample", "margin", "float", "Margin of error of Cochran's formula.", (_f("sample", "margin"),),
            example=0.05, absent="0.05"),
    Setting("sample", "strata", "str", "Stratify by category or period (leave out: a simple random sample).",
            (_f("sample", "strata"),), init="category", absent="none: a simple random sample"),
    Setting("sample", "period", "str", "With strata = \"period\": month, quarter or year.",
            (_f("sample", "period"),), init="quarter"),
    Setting("sample", "allocation", "str", "Split over strata: proportional or equal.",
            (_f("sample", "allocation"),), init="proportional"),
    Setting("sample", "seed", "int", "Random seed: the same seed on the same store draws the same sample.",
            (_f("sample", "seed"),), init=42),
    # -- suggest -----------------------------------------------------------------------------------------------
    Setting("suggest", "embedder", "str", "Text embedder: minilm, static (fast) or st:NAME_OR_PATH.",
            (_f("suggest codes", "embedder"), _f("suggest audit", "embedder"), _f("sample", "embedder")),
            init="minilm"),
    Setting("suggest", "level", "str", "Suggest codes at this level: category, subcategory or code.",
            (_f("suggest codes", "level"), _f("suggest audit", "level"), _f("sample", "level")), init="category"),
    Setting("suggest", "top", "int", "Suggestions listed per item and codebook.", (_f("suggest codes", "top"),),
            init=3),
    Setting("suggest", "coverage", "float", "Target coverage of the pre-selected prediction sets.",
            (_f("suggest codes", "coverage"),), init=0.9),
    Setting("suggest", "out", "path", "The suggestions file `suggest codes` writes and `studio push` reads.",
            (_f("suggest codes", "out_path"),), init="suggestions.csv"),
    Setting("suggest", "topics", "path", "Folder of `suggest topics`' tables, figures and model.",
            (_f("suggest topics", "out_dir"),), init="topics"),
    # -- studio ------------------------------------------------------------------------------------------------
    Setting("studio", "workdir", "path", "Label Studio's data, log and login file.",
            tuple(_f(c, "workdir") for c in _WORKDIR), init="labelstudio"),
    Setting("studio", "venv", "path", "Label Studio's own environment (made on first `studio up`, about 1 GB; "
            "point it at an existing one to share it).", (_f("studio up", "venv"),), init=".venv-studio"),
    Setting("studio", "port", "int", "Port of `studio up` on 127.0.0.1.", (_f("studio up", "port"),),
            example=8080, absent="a free port"),
    Setting("studio", "url", "str", "A Label Studio server started elsewhere.",
            (_f("studio push", "url"), _f("studio pull", "url"), _f("adjudicate", "url"), _f("codebook migrate", "url")),
            example="http://127.0.0.1:8080",
            absent="the server `studio up` started from workdir"),
    Setting("studio", "coders", "int", "Coders per task (Label Studio's overlap).", (_f("studio push", "coders"),),
            init=2),
    Setting("studio", "memo", "bool", "Offer coders a free-text memo field.", (_f("studio push", "memo"),),
            init=True),
    Setting("studio", "suggestions", "bool", "Push the suggestions file ([suggest] out) once it exists.",
            (_f("studio push", "suggestions", "--items"),), init=True),
    Setting("studio", "project", "int", "forumkit's project id (see `forumkit studio projects`).",
            (_f("studio pull", "project"), _f("codebook migrate", "project"), _f("agreement", "project"),
             _f("adjudicate", "project"),
             _f("suggest report", "project"),
             _f("export", "project"), _f("report", "project", "--coded"),
             _f("aggregate", "project", "--dataset", "--coded"), _f("appendix", "project"), _f("cooccur", "project"),
             _f("query", "project")),
            example=1, absent="the project last pushed for [sample] name"),
    # -- analysis ----------------------------------------------------------------------------------------------
    Setting("analysis", "period", "str", "Period of frequencies and trends: month, quarter or year.",
            (_f("aggregate", "period"), _f("report", "period"), _f("suggest topics", "period")), init="quarter"),
    Setting("analysis", "level", "str", "Count codes at this level: category, subcategory or code.",
            (_f("aggregate", "level"),), init="category"),
    Setting("analysis", "agreement", "path", "Folder of `agreement`'s tables.", (_f("agreement", "out_dir"),),
            init="agreement"),
    Setting("analysis", "boot", "int", "Bootstrap replicates of the agreement intervals.",
            (_f("agreement", "boot"), _f("appendix", "boot")), init=1000),
    Setting("analysis", "frequencies", "path", "The table `aggregate` writes (.csv, .parquet, .tex or .md).",
            (_f("aggregate", "out_path"),), init="frequencies.csv"),
    # -- report ------------------------------------------------------------------------------------------------
    Setting("report", "out", "path", "Folder of the report (index.html, figures/, tables/).",
            (_f("report", "out_dir"),), init="report"),
    Setting("report", "title", "str", "Title of the report.", (_f("report", "title"),), init="forumkit report"),
    Setting("report", "change_at", "str", "Compare before and after this date.", (_f("report", "change_at"),),
            example="2023-01-01", absent="no comparison"),
)
