"""The publishable report: self-contained HTML, figures as PNG and SVG, tables as CSV."""

from .build import ReportOptions, build_report
from .study import CodedFile, report_study

__all__ = ["CodedFile", "ReportOptions", "build_report", "report_study"]
