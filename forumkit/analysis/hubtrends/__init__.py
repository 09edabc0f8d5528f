"""Hugging Face Hub trends: model types uploaded per period, documented attributes over time, forum beside Hub.

Replicates the Hub side of Taraghi et al. (SANER 2024: model types uploaded per month, the share
of new models with a model card) and the "missing attributes" of Jiang et al. (ICSE 2023: license,
datasets, evaluation results, provenance) as time series. Pure functions over the ``hub_models``
rows of a store (:func:`model_rows`) or over any DataFrame with those columns: a column a frame
lacks is taken as empty (``created_known`` is then worked out from ``created_at``), and
:func:`documentation_by_period` reports only the attributes whose columns the frame has.

Definitions:

* **family** (:func:`model_family`): the model's ``model_type`` (config.model_type); else the first
  tag that names a known type; else the family of its first base model that has one: the base
  model's own family when it is among the rows (recursively), else a name match of the base
  model's id against forumkit's model vocabulary; else ``unknown``. Every name first goes through
  the editable mapping (``forumkit/data/model_families.csv``: ``pattern,family``, a pattern being a
  name matched in any case or ``re:<regex>`` matched in full). Known types: the mapped model types
  of the rows, the vocabulary's models and the mapping's families.
* **creation date**: ``created_at`` when ``created_known`` is 1. The Hub gives no date, or the
  placeholder 2022-03-02T23:29:04.000Z, for models older than March 2022: those are left out of
  the tables by period (``include_unknown_dates=True`` puts placeholder dates in their month) and
  counted in ``attrs["undated"]`` of the table and by :func:`date_coverage`. Without a
  ``created_known`` column the collector's own test decides
  (:func:`forumkit.collect.hub.records.is_placeholder`).
* **periods**: calendar month, quarter or year in UTC (:mod:`forumkit.dates`, as everywhere in
  forumkit; ``period_start`` aware UTC); tables are calendar-complete from the first to the last
  period with a dated model.
* **attributes** (:data:`ATTRIBUTES`): what a model's Hub entry documents; shares per period with
  Wilson intervals (:func:`forumkit.analysis.intervals.wilson_interval`).

The modules: :mod:`.rows` (reading rows, creation dates), :mod:`.families` (model families),
:mod:`.measures` (tables by period), :mod:`.forum` (forum beside Hub), :mod:`.figures`,
:mod:`.result` (everything at once).

Example::

    with Store("hub.db") as store:
        rows = model_rows(store)
        uploads = uploads_by_type(rows, top=10)           # the paper's upload chart, as a table
        docs = documentation_by_period(rows)               # share of new models with a card, license...
        tests = hub_trend_tests(uploads, docs)             # Mann-Kendall on each series
"""

from .families import OTHER, UNKNOWN, FamilyMapping, load_mapping, model_family
from .figures import plot_forum_vs_hub, write_figures
from .forum import forum_vs_hub, trend_contrast
from .measures import ATTRIBUTES, documentation_by_period, hub_trend_tests, missing_attributes, uploads_by_type
from .result import HubTrends, hub_trends, write_tables
from .rows import PLACEHOLDER_CREATED, ROW_COLUMNS, date_coverage, hub_endpoints, model_rows

__all__ = [
    "ATTRIBUTES", "ROW_COLUMNS", "PLACEHOLDER_CREATED", "UNKNOWN", "OTHER", "FamilyMapping", "load_mapping",
    "hub_endpoints", "model_rows", "model_family", "date_coverage", "uploads_by_type", "documentation_by_period",
    "missing_attributes", "hub_trend_tests", "forum_vs_hub", "trend_contrast", "plot_forum_vs_hub", "HubTrends",
    "hub_trends", "write_tables", "write_figures",
]
