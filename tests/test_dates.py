"""forumkit.dates: one timestamp format in the store, one parser of the dates users give, one period rule.

Each rule is checked once here, against every module that applies it, so that a second copy that drifts
fails this file.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from forumkit import dates
from forumkit.analysis import activity
from forumkit.analysis import hubtrends as ht
from forumkit.analysis.aggregate import Aggregator
from forumkit.coding import sampling
from forumkit.coding.sampling import SampleDesign
from forumkit.collect.discourse import crawl
from forumkit.collect.hub.records import iso as hub_iso
from forumkit.errors import UsageError
from forumkit.store import Store, utcnow

STORE_FORMAT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_one_timestamp_format_in_the_store(tmp_path):
    # milliseconds and Z, as Discourse and the Hub serve them: strings of every origin sort alike
    assert STORE_FORMAT.fullmatch(dates.utcnow())
    assert utcnow is dates.utcnow  # the store writes its own timestamps with it
    moment = datetime(2023, 1, 31, 9, 5, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert dates.iso_utc(moment) == "2023-01-31T07:05:00.123Z"  # converted to UTC, truncated to milliseconds
    assert dates.iso_utc(datetime(2023, 1, 31, 9, 5)) == "2023-01-31T09:05:00.000Z"  # naive: taken as UTC
    assert hub_iso(moment) == dates.iso_utc(moment)  # the Hub collector's strings are the store's
    with Store(tmp_path / "t.db") as store:
        before = dates.utcnow()
        store.forum_id("https://forum.example")
        after = dates.utcnow()
    with sqlite3.connect(tmp_path / "t.db") as con:
        added = con.execute("SELECT added_at FROM forums").fetchone()[0]
    assert STORE_FORMAT.fullmatch(added) and before <= added <= after
    assert dates.parse_iso(added).tzinfo == timezone.utc


def test_one_parser_for_the_dates_users_give():
    assert dates.iso_date("2023-01-31", "--since") == "2023-01-31T00:00:00.000Z"
    assert dates.iso_date("2023-01-31T10:00:00+01:00", "--since") == "2023-01-31T09:00:00.000Z"
    assert dates.iso_date("2023-01-31T10:00:00.250Z", "--since") == "2023-01-31T10:00:00.250Z"
    assert dates.iso_date(None, "--since") is None and dates.iso_date("", "--since") is None
    with pytest.raises(UsageError) as caught:
        dates.iso_date("31/01/2023", "--until")
    assert caught.value.one_line() == "--until '31/01/2023' is not a date; use YYYY-MM-DD or an ISO date-time"
    assert crawl.iso_date is dates.iso_date  # scrape --since/--until and hub crawl --since/--until
    design = SampleDesign("s", since="2023-01-31", until="2023-02-01T00:00:00+01:00")
    assert (design.since, design.until) == ("2023-01-31T00:00:00.000Z", "2023-01-31T23:00:00.000Z")


def test_one_period_rule_everywhere():
    moments = pd.Series(["2021-03-31T23:59:59.999Z", "2021-04-01T00:00:00.000Z", "2021-04-01T01:00:00+02:00",
                         "2020-12-31T23:30:00-01:00", "2024-02-29T12:00:00Z"])
    labels = {"month": ["2021-03", "2021-04", "2021-03", "2021-01", "2024-02"],
              "quarter": ["2021-Q1", "2021-Q2", "2021-Q1", "2021-Q1", "2024-Q1"],
              "year": ["2021", "2021", "2021", "2021", "2024"]}
    utc = dates.utc_moments(moments)
    for period, expected in labels.items():
        assert dates.period_labels(moments, period).tolist() == expected
        assert [dates.period_label(m, period) for m in utc] == expected
        starts = dates.period_starts(moments, period)
        assert str(starts.dtype) == "datetime64[us, UTC]"
        assert [dates.period_label(s, period) for s in starts] == expected  # a start lies in its own period
        calendar = dates.period_calendar(starts, period)
        assert calendar[0] == starts.min() and calendar[-1] == starts.max() and calendar.is_monotonic_increasing
        # the aggregation labels and starts its periods so
        coded = pd.DataFrame({"item": np.arange(len(moments)), "code": "x", "date": utc, "forum_category": "c",
                              "coder": "a"})
        counts = Aggregator(level="code", period=period).fit(coded).counts_
        hit = counts[counts["n"] > 0]
        assert sorted(hit["period"]) == sorted(set(expected))
        assert hit["period_start"].tolist() == sorted(set(starts))
        assert len(counts) == len(calendar)  # calendar-complete, as every table by period
        # and the Hub trends
        rows = pd.DataFrame({"id": [f"m{i}" for i in range(len(moments))], "created_at": moments,
                             "created_known": 1, "model_type": "bert"})
        uploads = ht.uploads_by_type(rows, period=period)
        assert uploads.loc[uploads["models"] > 0, "period"].tolist() == sorted(set(expected))
        assert uploads["period_start"].tolist() == list(calendar)
    # sampling strata and activity tables use the same functions, not copies
    assert sampling.period_labels is dates.period_labels
    assert sampling.PERIODS == activity.PERIODS == dates.PERIODS
    for wrong in (lambda: dates.check_period("week"), lambda: SampleDesign("s", strata="period", period="week"),
                  lambda: Aggregator(period="week").fit(pd.DataFrame()), lambda: ht.uploads_by_type(pd.DataFrame(),
                                                                                                   period="week")):
        with pytest.raises(UsageError) as caught:
            wrong()
        # (the aggregation also takes none: no periods)
        assert caught.value.one_line().startswith("unknown period 'week'; use one of: month, quarter, year")
