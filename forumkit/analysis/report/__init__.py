"""The publishable report: self-contained HTML, figures as PNG and SVG, tables as CSV."""

from .build import ReportOptions, build_report

__all__ = ["ReportOptions", "build_report"]
