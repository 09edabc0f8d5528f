"""Hugging Face Hub trends (moved into a package; the split into modules follows)."""

from .measures import (ATTRIBUTES, OTHER, PLACEHOLDER_CREATED, ROW_COLUMNS, UNKNOWN, FamilyMapping, HubTrends,
                       date_coverage, documentation_by_period, forum_vs_hub, hub_endpoints, hub_trend_tests,
                       hub_trends, load_mapping, missing_attributes, model_family, model_rows, plot_forum_vs_hub,
                       trend_contrast, uploads_by_type, write_figures, write_tables)

__all__ = [
    "ATTRIBUTES", "ROW_COLUMNS", "PLACEHOLDER_CREATED", "UNKNOWN", "OTHER", "FamilyMapping", "load_mapping",
    "hub_endpoints", "model_rows", "model_family", "date_coverage", "uploads_by_type", "documentation_by_period",
    "missing_attributes", "hub_trend_tests", "forum_vs_hub", "trend_contrast", "plot_forum_vs_hub", "HubTrends",
    "hub_trends", "write_tables", "write_figures",
]
