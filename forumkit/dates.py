"""Dates and calendar periods: the one place that says how forumkit writes, reads and groups moments.

* **The store's timestamps** are ISO-8601 UTC strings with milliseconds and a ``Z``,
  ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (e.g. ``2023-01-31T09:05:00.000Z``): the form Discourse and the Hub serve,
  so stored strings of every origin compare and sort alike. :func:`iso_utc` writes it, :func:`utcnow` is now
  in it, :func:`parse_iso` reads any ISO-8601 moment back, and :func:`iso_date` turns what a user typed
  (``2023-01-31`` or a date-time) into it.
* **Moments in tables** are timezone-aware UTC (pandas ``datetime64[..., UTC]``): :func:`utc_moments`; period
  starts are ``datetime64[us, UTC]``, as the aggregation's.
* **Periods** are calendar months, quarters and years in UTC (:data:`PERIODS`), labelled ``2021-03``,
  ``2021-Q1`` and ``2021`` (:func:`period_label`, :func:`period_labels`); a period's start is its first instant
  as an aware UTC timestamp (:func:`period_starts`), and a calendar runs from a first to a last period
  with none missing (:func:`period_calendar`).

pandas is imported only by the functions that work on Series, so that the store (which needs
:func:`utcnow`) and ``forumkit --help`` stay light.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LABELLED", "PERIODS", "check_period", "iso_date", "iso_utc", "parse_iso", "period_calendar", "period_label",
           "period_labels", "period_starts", "utc_moments", "utcnow"]

#: The calendar periods every table by period uses, finest first.
PERIODS = ("month", "quarter", "year")
#: The periods :func:`period_label` can print: the calendar ones and ISO weeks.
LABELLED = ("week", *PERIODS)
_FREQ = {"month": "M", "quarter": "Q", "year": "Y"}  # pandas' period frequencies


# -- the store's timestamps -----------------------------------------------------------------------------------------

def iso_utc(moment: datetime) -> str:
    """A moment as the store writes it: ``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC (a naive moment is taken as UTC).

    >>> iso_utc(datetime(2023, 1, 31, 9, 5, 0, 123456, tzinfo=timezone.utc))
    '2023-01-31T09:05:00.123Z'
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def utcnow() -> str:
    """Now, as the store writes its own timestamps (:func:`iso_utc`)."""
    return iso_utc(datetime.now(timezone.utc))


def parse_iso(value: str) -> datetime:
    """Any ISO-8601 date or date-time (``Z`` or an offset, or none: UTC) -> an aware UTC datetime.

    Raises ValueError when ``value`` is not ISO-8601; :func:`iso_date` turns that into a one-line error.
    """
    moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def iso_date(value: str | None, what: str) -> str | None:
    """A date the user gave (``2023-01-31`` or an ISO date-time) -> the store's string; None stays None.

    ``what`` names the option in the error, e.g. ``--since``: ``--since '31/01/2023' is not a date``.
    """
    if value is None or str(value).strip() == "":
        return None
    try:
        return iso_utc(parse_iso(value))
    except ValueError as exc:
        raise UsageError(f"{what} '{value}' is not a date", hint="use YYYY-MM-DD or an ISO date-time") from exc


def utc_moments(values: "pd.Series") -> "pd.Series":
    """ISO-8601 strings (or timestamps) -> timezone-aware UTC timestamps; missing values stay NaT."""
    import pandas as pd

    return pd.to_datetime(pd.Series(values), utc=True, format="ISO8601")


# -- calendar periods -----------------------------------------------------------------------------------------------

def check_period(period: str) -> None:
    """A one-line error for a period that is not one of :data:`PERIODS`."""
    if period not in PERIODS:
        raise UsageError(f"unknown period '{period}'", hint=f"use one of: {', '.join(PERIODS)}")


def _check_labelled(period: str) -> None:
    if period not in LABELLED:
        raise UsageError(f"unknown period '{period}'", hint=f"use one of: {', '.join(LABELLED)}")


def period_label(moment: datetime, period: str) -> str:
    """The label of the calendar period holding ``moment`` (read in the timezone it has; tables use UTC):
    ``2021-03`` (month), ``2021-Q1`` (quarter), ``2021`` (year), ``2021-W05`` (ISO week, with its ISO year).

    >>> period_label(datetime(2021, 3, 9), "quarter")
    '2021-Q1'
    >>> period_label(datetime(2021, 1, 3), "week")
    '2020-W53'
    """
    _check_labelled(period)
    if period == "week":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "year":
        return f"{moment.year}"
    if period == "quarter":
        return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"
    return f"{moment.year}-{moment.month:02d}"


def period_labels(moments: "pd.Series", period: str) -> "pd.Series":
    """:func:`period_label` of each moment of a column (ISO strings or timestamps, read in UTC), vectorised;
    a missing moment gives a missing label."""
    _check_labelled(period)
    utc = utc_moments(moments)
    known = utc.dropna()
    if period == "week":
        iso = known.dt.isocalendar()
        labels = iso["year"].astype(str) + "-W" + iso["week"].map("{:02d}".format)
    elif period == "year":
        labels = known.dt.year.astype(str)
    elif period == "quarter":
        labels = known.dt.year.astype(str) + "-Q" + ((known.dt.month - 1) // 3 + 1).astype(str)
    else:
        labels = known.dt.year.astype(str) + "-" + known.dt.month.map("{:02d}".format)
    return labels.reindex(utc.index).astype(object)


def period_starts(moments: "pd.Series", period: str) -> "pd.Series":
    """The first instant of each moment's calendar period, as aware UTC timestamps (NaT stays NaT)."""
    check_period(period)
    naive = utc_moments(moments).dt.tz_localize(None)
    return naive.dt.to_period(_FREQ[period]).dt.start_time.dt.tz_localize("UTC").dt.as_unit("us")


def period_calendar(starts: "pd.Series", period: str) -> "pd.DatetimeIndex":
    """Every period start from the earliest to the latest of ``starts`` (aware UTC), none missing."""
    import pandas as pd

    check_period(period)
    naive = utc_moments(starts).dt.tz_localize(None)
    calendar = pd.period_range(naive.min(), naive.max(), freq=_FREQ[period]).start_time
    return calendar.tz_localize("UTC").as_unit("us")
