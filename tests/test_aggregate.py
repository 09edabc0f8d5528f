"""`forumkit.analysis.aggregate`: taxonomy frequencies over time, checked against counts worked out by hand.

Small coded tables are built in the tests, with the arithmetic written next to each expectation. The store
is crawled from the fake forum; its dates, category names, codebook snapshots, sample, project, annotations
and codes are then written by hand (the Label Studio round trip is tested in test_studio.py). The 10M-row
test runs in its own process to measure that process's peak memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from statsmodels.stats.proportion import proportion_confint

from forumkit.analysis.aggregate import Aggregator, iter_coded, load_coded, parse_dates, project_codebooks, write_table
from forumkit.analysis.aggregate.load import canonical_names
from forumkit.analysis.categories import normalize_categories
from forumkit.analysis.intervals import wilson_interval
from forumkit.coding.agreement import Agreement, from_coded
from forumkit.coding.codebook import load_codebook
from forumkit.coding.coded import annotation_rows, coded_items
from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import Crawler
from forumkit.errors import UsageError
from forumkit.fakes.discourse import FakeDiscourse, generate_forum
from forumkit.store import Store, utcnow

from .conftest import SHARED, cli, needs_saner2024

ROOT = Path(__file__).resolve().parents[1]
CODEBOOKS = ROOT / "forumkit" / "codebooks"
CHALLENGES = load_codebook(CODEBOOKS / "hf-challenges.yaml")
BENEFITS = load_codebook(CODEBOOKS / "hf-benefits.yaml")

MUU = "CH.MODEL_USAGE_AND_UNDERSTANDING"
CUSTOM = "CH.MODEL_USAGE_AND_UNDERSTANDING.CUSTOMIZING_MODEL"
UNDERSTAND = "CH.MODEL_USAGE_AND_UNDERSTANDING.UNDERSTANDING_MODEL_FUNCTION"
SPACES = "CH.SPACES"  # a category without subcategories
ALICE, BOB, CAROL = "alice@lab.test", "bob@lab.test", "carol@lab.test"


def frame(rows, *, weight=None) -> pd.DataFrame:
    """A tidy coded table from (item, code, date, forum_category, coder) tuples."""
    out = pd.DataFrame(rows, columns=["item", "code", "date", "forum_category", "coder"])
    out["date"] = parse_dates(out["date"])
    out["weight"] = 1.0 if weight is None else out["item"].map(weight)
    return out


def row(table: pd.DataFrame, **where) -> pd.Series:
    found = table
    for key, value in where.items():
        found = found[found[key] == value]
    assert len(found) == 1, f"{len(found)} rows for {where}"
    return found.iloc[0]


# -- counts by hand --------------------------------------------------------------------------------------------------

HAND = [  # item 1: two subcategories of one category; item 3: coded, no code; item 4: late on Jan 31 at -02:00
    (1, CUSTOM, "2023-01-05", "Beginners", ALICE),
    (1, UNDERSTAND, "2023-01-05", "Beginners", ALICE),
    (2, SPACES, "2023-01-20T10:00:00Z", "beginners", ALICE),
    (2, CUSTOM, "2023-01-20T10:00:00Z", "beginners", ALICE),
    (3, None, "2023-01-31T23:30:00-02:00", "Models", ALICE),   # = 2023-02-01T01:30Z: February
    (4, SPACES, "2023-04-02 11:00:00+01:00", "Beginners", ALICE),
]


def test_counts_by_hand_with_roll_up_and_empty_months():
    agg = Aggregator(level="category", period="month").fit(frame(HAND), CHALLENGES)
    counts = agg.counts_
    assert list(counts["period"].unique()) == ["2023-01", "2023-02", "2023-03", "2023-04"]
    # January: items 1 and 2 coded (n_items 2). Model Usage: item 1 (two subcategories, counted once) and item 2 = 2.
    jan = row(counts, period="2023-01", code_id=MUU)
    assert (jan["n"], jan["n_items"], jan["share"]) == (2, 2, 1.0)
    assert row(counts, period="2023-01", code_id=SPACES)["n"] == 1          # item 2
    # February: item 3 only, without a code: 0 of 1.
    feb = row(counts, period="2023-02", code_id=MUU)
    assert (feb["n"], feb["n_items"], feb["share"]) == (0, 1, 0.0)
    # March: nothing coded at all: a row of zeros, interval [0, 1].
    mar = row(counts, period="2023-03", code_id=SPACES)
    assert (mar["n"], mar["n_items"], mar["share"], mar["ci_low"], mar["ci_high"]) == (0, 0, 0.0, 0.0, 1.0)
    assert row(counts, period="2023-04", code_id=SPACES)[["n", "n_items"]].tolist() == [1, 1]
    # every month × every one of the 17 categories, in codebook order
    assert len(counts) == 4 * 17
    assert counts["code_id"].iloc[:17].tolist() == [c.id for c in CHALLENGES.categories]
    assert row(counts, period="2023-04", code_id=SPACES)["period_start"] == pd.Timestamp("2023-04-01", tz="UTC")
    # totals: 4 items; Model Usage 2 (items 1, 2), Spaces 2 (items 2, 4)
    totals = agg.totals_
    assert row(totals, code_id=MUU)[["n", "n_items"]].tolist() == [2, 4]
    assert row(totals, code_id=SPACES)[["n", "n_items", "share"]].tolist() == [2, 4, 0.5]
    assert (agg.n_rows_, agg.n_items_, agg.n_undated_) == (6, 4, 0)


def test_subcategory_and_code_levels():
    coded = frame(HAND + [(5, MUU, "2023-04-03", "Models", ALICE)])  # the category itself, no subcategory fits
    sub = Aggregator(level="subcategory", period=None).fit(coded, CHALLENGES).totals_
    # Customizing: items 1, 2; Understanding: item 1; Spaces (no subcategories: its own row): items 2, 4
    assert row(sub, code_id=CUSTOM)[["n", "n_items", "category"]].tolist() == [2, 5, "Model Usage and Understanding"]
    assert row(sub, code_id=UNDERSTAND)["n"] == 1
    assert row(sub, code_id=SPACES)["n"] == 2
    assert row(sub, code_id=MUU)["n"] == 1  # item 5, coded with the category directly
    assert row(sub, code_id="CH.ONBOARDING")["n"] == 0  # listed though unused: it has no subcategories
    assert "CH.TRAINING_PIPELINE" not in set(sub["code_id"])  # has subcategories, never applied directly
    code = Aggregator(level="code", period=None).fit(coded, CHALLENGES).totals_
    assert len(code) == len(CHALLENGES)  # every code at every depth
    assert row(code, code_id=MUU)["n"] == 1  # no roll-up at the code level


def test_quarters_and_years_are_calendar_complete():
    coded = frame([
        (1, SPACES, "2021-02-10", "x", ALICE),
        (2, SPACES, "2022-12-31T23:00:00-02:00", "x", ALICE),  # = 2023-01-01T01:00Z: 2023-Q1
        (3, MUU, "2023-06-30T23:59:59Z", "x", ALICE),
    ])
    quarters = Aggregator(period="quarter").fit(coded, CHALLENGES).counts_
    labels = list(quarters["period"].unique())
    assert labels[0] == "2021-Q1" and labels[-1] == "2023-Q2" and len(labels) == 10  # 2021Q1 .. 2023Q2
    assert row(quarters, period="2023-Q1", code_id=SPACES)[["n", "n_items"]].tolist() == [1, 1]
    assert row(quarters, period="2022-Q4", code_id=SPACES)[["n", "n_items"]].tolist() == [0, 0]
    assert row(quarters, period="2023-Q2", code_id=SPACES)["period_start"] == pd.Timestamp("2023-04-01", tz="UTC")
    years = Aggregator(period="year").fit(coded, CHALLENGES).counts_
    assert list(years["period"].unique()) == ["2021", "2022", "2023"]
    assert row(years, period="2022", code_id=SPACES)[["n", "n_items"]].tolist() == [0, 0]  # no data: zeros
    assert row(years, period="2023", code_id=SPACES)[["n", "n_items"]].tolist() == [1, 2]  # items 2 and 3


def test_by_forum_category_merges_spellings():
    coded = frame(HAND + [(6, SPACES, "2023-04-09", " beginners ", ALICE), (7, SPACES, "2023-04-09", None, ALICE)])
    totals = Aggregator(by="forum_category", period=None).fit(coded, CHALLENGES).totals_
    # Beginners (items 1, 4), beginners (2), " beginners " (6): one group. Named as normalize_categories names
    # it: "Beginners" is on 3 rows, "beginners" on 3 (2 + 1 once spaces are trimmed): a tie, the first seen wins.
    assert sorted(totals["group"].unique()) == ["(none)", "Beginners", "Models"]
    beginners = row(totals, group="Beginners", code_id=SPACES)
    assert beginners[["n", "n_items"]].tolist() == [3, 4]  # Spaces on items 2, 4, 6 of items 1, 2, 4, 6
    assert row(totals, group="Models", code_id=SPACES)[["n", "n_items"]].tolist() == [0, 1]
    assert row(totals, group="(none)", code_id=SPACES)[["n", "n_items"]].tolist() == [1, 1]
    monthly = Aggregator(by="forum_category", period="month").fit(coded, CHALLENGES).counts_
    assert len(monthly) == 4 * 3 * 17  # every month × group × category, zeros included
    assert row(monthly, group="Models", period="2023-01", code_id=SPACES)["n_items"] == 0


def test_spelling_merge_follows_normalize_categories():
    rng = np.random.default_rng(0)
    spellings = ["Beginners", "beginners", " beginners", "Flax/JAX projects", "Flax / JAX Projects", "🤗Transformers",
                 "Transformers", "Old name", "Models"]
    renames = {"old name": "Models"}
    for _ in range(20):
        column = list(rng.choice(spellings, rng.integers(1, 40)))
        expected = normalize_categories(column, renames).tolist()
        names = list(dict.fromkeys(column))
        mapping = canonical_names(names, [column.count(n) for n in names], renames)
        assert [mapping[n] for n in column] == expected


def test_by_coder_keeps_each_coders_own_codes():
    coded = frame([
        (1, CUSTOM, "2023-01-05", "x", ALICE), (1, UNDERSTAND, "2023-01-05", "x", ALICE),
        (1, SPACES, "2023-01-05", "x", BOB),
        (2, None, "2023-01-06", "x", ALICE),                 # alice coded item 2 without a code
        (2, SPACES, "2023-01-06", "x", BOB),
        (3, CUSTOM, "2023-02-01", "x", BOB),                 # only bob coded item 3
    ])
    totals = Aggregator(by="coder", period=None).fit(coded, CHALLENGES).totals_
    # alice coded items 1, 2: Model Usage on item 1 -> 1 of 2; Spaces 0 of 2
    assert row(totals, group=ALICE, code_id=MUU)[["n", "n_items"]].tolist() == [1, 2]
    assert row(totals, group=ALICE, code_id=SPACES)[["n", "n_items"]].tolist() == [0, 2]
    # bob coded items 1, 2, 3: Spaces on 1, 2 -> 2 of 3; Model Usage on 3 -> 1 of 3
    assert row(totals, group=BOB, code_id=SPACES)[["n", "n_items"]].tolist() == [2, 3]
    assert row(totals, group=BOB, code_id=MUU)[["n", "n_items"]].tolist() == [1, 3]


def test_wilson_intervals_match_statsmodels():
    rng = np.random.default_rng(3)
    items = np.arange(400)
    codes = np.array([MUU, SPACES, "CH.ONBOARDING", None], dtype=object)[rng.integers(0, 4, 400)]
    dates = pd.Timestamp("2022-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 365, 400), unit="D")
    coded = pd.DataFrame({"item": items, "code": codes, "date": dates, "forum_category": "x", "coder": "c"})
    for confidence in (0.9, 0.95, 0.99):
        counts = Aggregator(period="month", confidence=confidence).fit(coded, CHALLENGES).counts_
        low, high = proportion_confint(counts["n"], counts["n_items"], alpha=1 - confidence, method="wilson")
        np.testing.assert_allclose(counts["ci_low"], np.clip(low, 0, 1), atol=1e-12)
        np.testing.assert_allclose(counts["ci_high"], np.clip(high, 0, 1), atol=1e-12)
    # the one Wilson interval (the Hub trends use it too), on its own
    n, nobs = np.array([0.0, 1.0, 7.0, 3.0]), np.array([4.0, 4.0, 9.0, 0.0])
    low, high = wilson_interval(n, nobs, 0.95)
    ref_low, ref_high = proportion_confint(n[:3], nobs[:3], alpha=0.05, method="wilson")
    np.testing.assert_allclose(low[:3], np.clip(ref_low, 0, 1), atol=1e-12)
    np.testing.assert_allclose(high[:3], np.clip(ref_high, 0, 1), atol=1e-12)
    assert (low[3], high[3]) == (0.0, 1.0)  # no observation: the whole range
    # one worked value: 1 of 4 at 95 %: z = 1.959964; centre (0.25 + z²/8) / (1 + z²/4) = 0.4251...
    one = Aggregator(period=None).fit(frame(HAND), CHALLENGES).totals_
    spaces = row(one, code_id="CH.TRAINING_PIPELINE")  # 0 of 4
    assert spaces["ci_low"] == 0 and spaces["ci_high"] == pytest.approx(0.489891, abs=1e-6)


def test_extrapolation_from_weights_by_hand():
    # Items 1, 2 drawn from a stratum where each stands for 10 topics, item 3 for 30.
    weights = {1: 10.0, 2: 10.0, 3: 30.0}
    coded = frame([(1, SPACES, "2023-01-01", "x", "c"), (2, MUU, "2023-01-02", "x", "c"),
                   (3, SPACES, "2023-01-03", "x", "c")], weight=weights)
    totals = Aggregator(period=None, extrapolate=True).fit(coded, CHALLENGES).totals_
    spaces = row(totals, code_id=SPACES)
    # Horvitz-Thompson: Spaces on items 1 and 3 -> 10 + 30 = 40 topics of Σw = 50; weighted share 0.8.
    assert spaces["est_total"] == 40 and spaces["est_items"] == 50
    # Kish: n_eff = 50² / (10² + 10² + 30²) = 2500 / 1100 = 2.2727; Wilson of 0.8 × n_eff of n_eff, × 50
    n_eff = 2500 / 1100
    low, high = proportion_confint(0.8 * n_eff, n_eff, alpha=0.05, method="wilson")
    assert spaces["est_low"] == pytest.approx(50 * low) and spaces["est_high"] == pytest.approx(50 * high)
    assert spaces["est_low"] < 40 < spaces["est_high"]
    assert spaces[["n", "n_items"]].tolist() == [2, 3]  # the unweighted counts stay
    muu = row(totals, code_id=MUU)
    assert muu["est_total"] == 10  # item 2
    # equal weights: the interval is the plain Wilson interval times the population
    even = Aggregator(period=None, extrapolate=True).fit(coded.assign(weight=5.0), CHALLENGES).totals_
    spaces = row(even, code_id=SPACES)
    assert spaces["est_total"] == 10 and spaces["est_low"] == pytest.approx(15 * spaces["ci_low"])
    with pytest.raises(UsageError, match="no sampling weight"):
        Aggregator(period=None, extrapolate=True).fit(coded.assign(weight=np.nan), CHALLENGES)


def test_dates_in_several_formats_and_zones():
    values = pd.Series(["2023-01-05", "2023-01-05T10:00:00Z", "2023-01-05 11:00:00+01:00",
                        "2023-01-31T23:30:00-02:00", "2021-03-04T05:06:07.123Z", "", None])
    parsed = parse_dates(values)
    assert str(parsed.dtype) == "datetime64[us, UTC]"
    assert parsed[0] == pd.Timestamp("2023-01-05T00:00Z")
    assert parsed[1] == parsed[2] == pd.Timestamp("2023-01-05T10:00Z")  # 11:00 at +01:00 is 10:00 UTC
    assert parsed[3] == pd.Timestamp("2023-02-01T01:30Z")                # February in UTC
    assert parsed[4] == pd.Timestamp("2021-03-04T05:06:07.123Z")
    assert parsed[5:].isna().all()
    epoch = parse_dates(pd.Series([1672531200, 1675209600]))           # Unix seconds
    assert epoch.tolist() == [pd.Timestamp("2023-01-01", tz="UTC"), pd.Timestamp("2023-02-01", tz="UTC")]
    assert parse_dates(pd.Series(["1672531200"]))[0] == pd.Timestamp("2023-01-01", tz="UTC")
    berlin = pd.Series(pd.to_datetime(["2023-03-01 00:30"]).tz_localize("Europe/Berlin"))
    assert parse_dates(berlin)[0] == pd.Timestamp("2023-02-28T23:30Z")
    with pytest.raises(UsageError, match=r"column 'when' holds a date that cannot be read: '05/01/2023'") as exc:
        parse_dates(pd.Series(["2023-01-05", "05/01/2023"]), "when", "codes.csv")
    assert "\n" not in exc.value.one_line() and "ISO-8601" in exc.value.one_line()
    with pytest.raises(UsageError, match="not a date in Unix epoch seconds"):
        parse_dates(pd.Series([1672531200000]), "when")  # milliseconds


def test_code_missing_from_codebook_is_one_clear_error():
    coded = frame(HAND + [(9, "CH.SPACE", "2023-01-01", "x", ALICE), (9, "CH.NOPE", "2023-01-01", "x", ALICE)])
    with pytest.raises(UsageError) as exc:
        Aggregator().fit(coded, [CHALLENGES, BENEFITS])
    line = exc.value.one_line()
    assert "2 codes are not in the codebooks hf-challenges, hf-benefits: 'CH.NOPE', 'CH.SPACE'" in line
    assert "did you mean CH.SPACES?" in line and "\n" not in line
    # without a codebook each code is its own category
    free = Aggregator(period=None).fit(coded).totals_
    assert row(free, code_id="CH.NOPE")[["name", "category", "n", "n_items"]].tolist() == ["CH.NOPE", "CH.NOPE", 1, 5]


def test_bad_parameters_and_inputs():
    with pytest.raises(UsageError, match="unknown period 'week'"):
        Aggregator(period="week").fit(frame(HAND))
    with pytest.raises(UsageError, match="unknown level"):
        Aggregator(level="leaf").fit(frame(HAND))
    with pytest.raises(UsageError, match="confidence"):
        Aggregator(confidence=95).fit(frame(HAND))
    undated = frame(HAND).assign(date=pd.NaT)
    with pytest.raises(UsageError, match="none of the coded items has a date") as exc:
        Aggregator(period="month").fit(undated)
    assert "--period none" in exc.value.one_line()
    assert Aggregator(period=None).fit(undated).totals_["n_items"].max() == 4
    partly = frame(HAND)
    partly.loc[partly["item"] == 4, "date"] = pd.NaT
    agg = Aggregator(period="month").fit(partly, CHALLENGES)
    assert agg.n_undated_ == 1 and agg.counts_["period"].iloc[-1] == "2023-02"  # item 4 only in totals_
    assert row(agg.totals_, code_id=SPACES)["n"] == 2


# -- files -----------------------------------------------------------------------------------------------------------

def _coded_file(tmp_path: Path, n_items: int = 600, seed: int = 5) -> tuple[pd.DataFrame, Path, Path]:
    """A coded table as CSV and Parquet: each item's rows scattered over the file, dates in mixed zones."""
    rng = np.random.default_rng(seed)
    codes = np.array(CHALLENGES.code_ids() + [None], dtype=object)
    rows = rng.integers(0, n_items, n_items * 5)
    stamps = pd.Timestamp("2021-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 3 * 365 * 24, n_items), unit="h")
    zones = np.array(["Z", "+02:00", "-07:00"], dtype=object)[rng.integers(0, 3, n_items)]
    local = [(s + pd.Timedelta(hours={"Z": 0, "+02:00": 2, "-07:00": -7}[z])).strftime("%Y-%m-%dT%H:%M:%S") + z
             for s, z in zip(stamps, zones)]
    table = pd.DataFrame({
        "topic": rows, "label": codes[rng.integers(0, len(codes), len(rows))],
        "when": np.array(local, dtype=object)[rows],
        "tag": np.array(["Beginners", "beginners", "Models"], dtype=object)[rows % 3],
        "who": np.array([ALICE, BOB], dtype=object)[rng.integers(0, 2, len(rows))]})
    csv, parquet = tmp_path / "coded.csv", tmp_path / "coded.parquet"
    table.to_csv(csv, index=False)
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), parquet, row_group_size=700)
    return table, csv, parquet


COLS = dict(item="topic", code="label", date="when", category="tag", coder="who")


@pytest.mark.parametrize("by", [None, "forum_category", "coder"])
def test_file_in_small_batches_equals_one_frame(tmp_path, by):
    table, csv, parquet = _coded_file(tmp_path)
    whole = load_coded(parquet, **COLS)
    assert len(whole) == len(table) and set(whole["forum_category"].dropna()) == {"Beginners", "Models"}
    expected = Aggregator(level="subcategory", period="quarter", by=by).fit(whole, CHALLENGES)
    for path in (csv, parquet):
        chunks = list(iter_coded(path, batch_rows=300, **COLS))
        assert len(chunks) > 5 and sum(map(len, chunks)) == len(table)
        got = Aggregator(level="subcategory", period="quarter", by=by).fit(iter(chunks), CHALLENGES)
        pd.testing.assert_frame_equal(got.counts_, expected.counts_)
        pd.testing.assert_frame_equal(got.totals_, expected.totals_)
    # and against pandas, the obvious way: distinct items per quarter with a code under each category
    tidy = whole.assign(quarter=whole["date"].dt.tz_localize(None).dt.to_period("Q").astype(str).str.replace("Q", "-Q"))
    if by is None:
        top = {c: CHALLENGES.path_of(c)[0].id for c in CHALLENGES.code_ids()}
        tidy["cat"] = tidy["code"].astype(object).map(top)
        n = tidy.dropna(subset=["cat"]).groupby(["quarter", "cat"])["item"].nunique()
        n_items = tidy.groupby("quarter")["item"].nunique()
        cats = Aggregator(period="quarter").fit(whole, CHALLENGES).counts_
        for (quarter, cat), value in n.items():
            assert row(cats, period=quarter, code_id=cat)[["n", "n_items"]].tolist() == [value, n_items[quarter]]


def test_missing_column_names_file_column_and_columns_found(tmp_path):
    _, csv, parquet = _coded_file(tmp_path)
    for path in (csv, parquet):
        with pytest.raises(UsageError) as exc:
            load_coded(path, item="Topic#", code="label")
        line = exc.value.one_line()
        assert f"{path} has no column 'Topic#'" in line and "'topic', 'label', 'when', 'tag', 'who'" in line
        assert "--item-col" in line
    with pytest.raises(UsageError, match="unknown file type"):
        load_coded(tmp_path / "coded.xlsx")


@needs_saner2024
def test_the_papers_all_codes_by_tag():
    coded = load_coded(SHARED / "All_Codes.csv", item="Topic#", code="Code", category="Tag")
    assert len(coded) == 1183 and coded["item"].nunique() == 455 and coded["date"].isna().all()
    # Spellings that merge (case and nothing else): Beginners/beginners, Datasets/datasets,
    # Flax/JAX projects/Flax/JAX Projects, Community Calls/Community calls, Amazon Sagemaker/Amazon SageMaker.
    # "Languages at HuggingFace" and "Languages at Hugging Face" differ by a space, so they stay apart
    # (a renames file can join them). 29 spellings -> 24 groups.
    raw = pd.read_csv(SHARED / "All_Codes.csv")
    assert raw["Tag"].nunique() == 29
    totals = Aggregator(by="forum_category", period=None).fit(coded).totals_
    groups = totals.drop_duplicates("group").set_index("group")["n_items"]
    assert len(groups) == 24
    key = raw["Tag"].str.casefold()
    expected = raw.groupby(key)["Topic#"].nunique()
    assert groups["Beginners"] == expected["beginners"] == 158  # the majority spelling names the group
    assert groups["Datasets"] == expected["datasets"]
    assert groups["Flax/JAX projects"] == expected["flax/jax projects"]
    assert groups["Community Calls"] == expected["community calls"]
    assert groups["Amazon Sagemaker"] == expected["amazon sagemaker"]
    assert {"Languages at HuggingFace", "Languages at Hugging Face"} <= set(groups.index)
    assert groups.sum() == 455  # each topic has one tag
    joined = load_coded(SHARED / "All_Codes.csv", item="Topic#", code="Code", category="Tag",
                        renames={"Languages at Hugging Face": "Languages at HuggingFace"})
    assert joined["forum_category"].nunique() == 23
    # without a codebook each open code is its own category: the most frequent one, by hand
    by_code = Aggregator(period=None).fit(coded).totals_
    top = raw.groupby(raw["Code"].str.strip())["Topic#"].nunique().sort_values(ascending=False)
    first = by_code.sort_values("n", ascending=False).iloc[0]
    assert (first["n"], first["n_items"]) == (top.iloc[0], 455)


def test_write_table_formats(tmp_path):
    counts = Aggregator(period="month", extrapolate=True).fit(frame(HAND), CHALLENGES).counts_
    write_table(counts, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv")
    assert back.columns.tolist() == counts.columns.tolist() and len(back) == len(counts)
    write_table(counts, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), counts, check_dtype=False)
    tex = write_table(counts, tmp_path / "t.tex").read_text()
    assert tex.startswith("\\begin{tabular}") and "Memory \\& Performance" in tex and "CH.SPACES" in tex
    assert "code\\_id" in tex and " 0.500 " not in tex.split("\\midrule")[0]
    md = write_table(counts.head(3), tmp_path / "t.md").read_text().splitlines()
    assert md[0].startswith("| period | period_start | group | code_id |") and len(md) == 5
    assert md[2].startswith("| 2023-01 | 2023-01-01 | all | CH.MODEL_USAGE_AND_UNDERSTANDING |")
    with pytest.raises(UsageError, match=r"unknown suffix '\.xlsx'") as exc:
        write_table(counts, tmp_path / "t.xlsx")
    assert exc.value.one_line().endswith(".csv, .parquet, .tex, .md")


# -- the store -------------------------------------------------------------------------------------------------------

STUDIO = "http://studio.test:8080"
DATES = ["2023-01-10T08:00:00.000Z", "2023-01-20T12:00:00.000Z", "2023-03-05T00:00:00.000Z", "2023-03-31T23:00:00Z"]
WEIGHTS = [10.0, 10.0, 30.0, 30.0]
# annotation id, item index, coder, codes, skipped
ANNOTATIONS = [
    (1, 0, ALICE, [CUSTOM, UNDERSTAND], False),
    (2, 0, BOB, [CUSTOM], False),
    (3, 1, ALICE, [SPACES], False),
    (4, 1, BOB, [SPACES, CUSTOM], False),
    (5, 2, ALICE, [], False),          # item 2: alice gave no code
    (6, 2, BOB, [SPACES], False),
    (7, 3, CAROL, [SPACES], True),     # item 3: skipped, so not coded
]


@pytest.fixture(scope="module")
def coded_store(tmp_path_factory):
    """(db path, topic ids): a crawled fake forum with one coded project drawn from a weighted sample."""
    db = tmp_path_factory.mktemp("aggregate") / "forum.db"
    with FakeDiscourse(generate_forum(n_topics=20, seed=3)) as server:
        with Store(db) as store, DiscourseClient(server.url, rate=0, backoff=0.01) as client:
            Crawler(client, store).run()
        url = server.url
    with Store(db) as store:
        forum_id = store.forum_id(url, create=False)
        topics = [r[0] for r in store.query("SELECT id FROM topics ORDER BY id LIMIT 4")]
        cats = [r[0] for r in store.query("SELECT id FROM categories ORDER BY id LIMIT 2")]
        now = utcnow()
        with store.transaction():
            store.db.execute("UPDATE categories SET name = 'Beginners' WHERE id = ?", (cats[0],))
            store.db.execute("UPDATE categories SET name = 'beginners' WHERE id = ?", (cats[1],))
            for topic, date, cat in zip(topics, DATES, [cats[0], cats[1], cats[0], cats[0]]):
                store.db.execute("UPDATE topics SET created_at = ?, category_id = ? WHERE id = ?", (date, cat, topic))
            store.db.execute("INSERT INTO codebooks VALUES (?, ?, ?, ?)",
                             (CHALLENGES.id, CHALLENGES.version, json.dumps(CHALLENGES.to_dict()), now))
            store.db.execute("INSERT INTO samples VALUES ('s1', ?, 'topic', '{}', ?)", (forum_id, now))
            for pos, (topic, weight) in enumerate(zip(topics, WEIGHTS)):
                store.db.execute("INSERT INTO sample_items VALUES ('s1', ?, 'all', ?, ?)", (topic, weight, pos))
            store.db.execute("INSERT INTO studio_projects (id, url, project_id, title, forum_id, sample_id, unit, codebooks, created_at)"
                             " VALUES (1, ?, 11, 'round 1', ?, 's1', 'topic', ?, ?)",
                             (STUDIO, forum_id, json.dumps([[CHALLENGES.id, CHALLENGES.version]]), now))
            for ann, idx, coder, codes, skipped in ANNOTATIONS:
                store.db.execute("INSERT INTO annotations VALUES (1, ?, ?, ?, ?, ?, 10.0, ?, NULL, ?)",
                                 (ann, 100 + ann, topics[idx], coder, now, int(skipped), now))
                for code in codes:
                    store.db.execute("INSERT INTO coded (project, annotation_id, code_id, codebook_id, category, subcategory)"
                                     " VALUES (1, ?, ?, ?, ?, ?)",
                                     (ann, code, CHALLENGES.id, *CHALLENGES.category_of(code)))
    return db, topics


def test_store_consensus_view_with_weights(coded_store):
    db, topics = coded_store
    with Store(db) as store:
        coded = load_coded(store=store, project=1)
        books = project_codebooks(store, 1)
    assert [b.id for b in books] == [CHALLENGES.id]
    # majority = more than half of an item's coders: item 0 Customizing (2 of 2), item 1 Spaces (2 of 2);
    # item 2: Spaces 1 of 2, no consensus code, but coded; item 3 was skipped: absent.
    assert sorted(coded["item"].unique()) == topics[:3]
    assert set(coded["coder"]) == {"consensus"}
    assert coded.set_index("item")["weight"].to_dict() == {topics[0]: 10.0, topics[1]: 10.0, topics[2]: 30.0}
    agg = Aggregator(period="month", extrapolate=True).fit(coded, books)
    counts = agg.counts_
    jan = row(counts, period="2023-01", code_id=MUU)
    assert jan[["n", "n_items", "est_total", "est_items"]].tolist() == [1, 2, 10.0, 20.0]  # item 0 of items 0, 1
    assert row(counts, period="2023-02", code_id=MUU)[["n", "n_items"]].tolist() == [0, 0]  # empty month
    assert row(counts, period="2023-03", code_id=SPACES)[["n", "n_items"]].tolist() == [0, 1]  # item 2, no code
    by_cat = Aggregator(period=None, by="forum_category").fit(coded, books).totals_
    # items 0, 2 in "Beginners", item 1 in "beginners": one group
    assert row(by_cat, group="Beginners", code_id=SPACES)[["n", "n_items"]].tolist() == [1, 3]


def test_one_consensus_rule_for_the_coded_dataset_and_agreement(coded_store):
    """coded_items (and so the consensus view) and Agreement.consensus decide by one rule."""
    db, topics = coded_store
    with Store(db) as store:
        rows = annotation_rows(store, 1)
        fitted = Agreement(n_boot=0).fit(*from_coded(
            rows[~rows["was_cancelled"]].rename(columns={"item_id": "item", "code_id": "code"})))
        decided = {}
        for adjudicator in (None, ALICE, BOB):
            items = coded_items(store, 1, adjudicator=adjudicator)
            ours = {(r.item_id, r.code_id) for r in items.itertuples() if r.consensus}
            agreed = fitted.consensus(adjudicator or "majority")
            assert ours == set(zip(agreed["item"], agreed["code"]))
            decided[adjudicator] = ours
        view = load_coded(store=store, project=1).dropna(subset=["code"])
    # 1 of 2 coders is a tie, not a majority; an adjudicator's codes decide the items they coded
    assert decided[None] == {(topics[0], CUSTOM), (topics[1], SPACES)} == set(zip(view["item"], view["code"]))
    assert decided[ALICE] == {(topics[0], CUSTOM), (topics[0], UNDERSTAND), (topics[1], SPACES)}
    assert decided[BOB] == {(topics[0], CUSTOM), (topics[1], SPACES), (topics[1], CUSTOM), (topics[2], SPACES)}


def test_store_coders_view(coded_store):
    db, topics = coded_store
    with Store(db) as store:
        coded = load_coded(store=store, project=1, view="coders")
        with pytest.raises(UsageError, match="no annotations by adjudicator"):
            load_coded(store=store, project=1, adjudicator="nobody@lab.test")
        adjudicated = load_coded(store=store, project=1, adjudicator=ALICE)
    totals = Aggregator(by="coder", period=None).fit(coded, CHALLENGES).totals_
    # alice: items 0, 1, 2; Model Usage on 0 (two subcategories: once); Spaces on 1
    assert row(totals, group=ALICE, code_id=MUU)[["n", "n_items"]].tolist() == [1, 3]
    assert row(totals, group=ALICE, code_id=SPACES)[["n", "n_items"]].tolist() == [1, 3]
    # bob: items 0, 1, 2; Model Usage on 0 and 1; Spaces on 1 and 2
    assert row(totals, group=BOB, code_id=MUU)[["n", "n_items"]].tolist() == [2, 3]
    assert row(totals, group=BOB, code_id=SPACES)[["n", "n_items"]].tolist() == [2, 3]
    assert CAROL not in set(totals["group"])  # her only annotation was skipped
    # alice adjudicates items 0, 1, 2: her codes decide them
    adj = Aggregator(period=None, level="subcategory").fit(adjudicated, CHALLENGES).totals_
    assert row(adj, code_id=UNDERSTAND)["n"] == 1 and row(adj, code_id=CUSTOM)["n"] == 1


def test_file_dates_from_the_store(coded_store, tmp_path):
    db, topics = coded_store
    path = tmp_path / "open.csv"
    pd.DataFrame({"Topic#": [topics[0], topics[2], topics[2], 999999], "Code": ["a", "b", "a", "a"]}).to_csv(path,
                                                                                                           index=False)
    with Store(db) as store:
        coded = load_coded(path, store=store, item="Topic#", code="Code")
    assert coded["date"].tolist()[:3] == [pd.Timestamp(DATES[0]), pd.Timestamp(DATES[2]), pd.Timestamp(DATES[2])]
    assert pd.isna(coded["date"].iloc[3])  # not in the store: undated
    assert coded["forum_category"].tolist()[:3] == ["Beginners"] * 3
    agg = Aggregator(period="month").fit(coded)
    assert agg.n_undated_ == 1 and list(agg.counts_["period"].unique()) == ["2023-01", "2023-02", "2023-03"]


# -- the command line ------------------------------------------------------------------------------------------------

def forumkit(*args: str) -> subprocess.CompletedProcess:
    """`forumkit aggregate`, in this process (tests/conftest.py: cli)."""
    return cli("aggregate", *args, cwd=ROOT)


def test_cli_on_a_file(tmp_path):
    table, csv, _ = _coded_file(tmp_path)
    out = tmp_path / "by_quarter.md"
    res = forumkit("--coded", csv, "--item-col", "topic", "--code-col", "label", "--date-col", "when",
                   "--category-col", "tag", "--coder-col", "who", "--codebook", CODEBOOKS / "hf-challenges.yaml",
                   "--period", "quarter", "--by", "forum_category", "--out", out)
    assert res.returncode == 0, res.stderr
    assert "most frequent categories" in res.stdout and "Beginners" in res.stdout
    lines = out.read_text().splitlines()
    assert lines[0].startswith("| period | period_start | group |") and len(lines) == 2 + 12 * 2 * 17
    assert "rows written to" in res.stderr
    res = forumkit("--coded", csv, "--item-col", "Topic#", "--out", tmp_path / "x.csv")
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert "has no column 'Topic#'" in res.stderr and "--item-col" in res.stderr
    res = forumkit("--coded", csv, "--item-col", "topic", "--code-col", "label", "--out", tmp_path / "x.xlsx")
    assert res.returncode == 2 and "unknown suffix" in res.stderr


def test_cli_on_a_store(coded_store, tmp_path):
    db, _ = coded_store
    out = tmp_path / "monthly.parquet"
    res = forumkit("--db", db, "--project", "1", "--period", "month", "--extrapolate", "--out", out)
    assert res.returncode == 0, res.stderr
    counts = pd.read_parquet(out)
    # the project's codebook snapshot rolls codes up: 3 months × 17 categories
    assert len(counts) == 3 * 17 and {"est_total", "est_low", "est_high"} <= set(counts.columns)
    assert row(counts, period="2023-01", code_id=SPACES)[["n", "n_items", "est_total"]].tolist() == [1, 2, 10.0]
    res = forumkit("--db", db, "--view", "coders", "--by", "coder", "--period", "none", "--level", "subcategory",
                   "--out", tmp_path / "coders.csv")
    assert res.returncode == 0, res.stderr
    coders = pd.read_csv(tmp_path / "coders.csv")
    assert row(coders, group=BOB, code_id=CUSTOM)[["n", "n_items"]].tolist() == [2, 3]
    res = forumkit("--db", db, "--codebook", CODEBOOKS / "hf-benefits.yaml", "--out", tmp_path / "x.csv")
    assert res.returncode == 2 and "not in the codebook hf-benefits" in res.stderr


# -- scale -----------------------------------------------------------------------------------------------------------

MEASURE = r"""
import json, sys, time
from forumkit.analysis.aggregate import Aggregator, iter_coded
from forumkit.coding.codebook import load_codebook
def peak():  # this process's own peak RSS in MiB (ru_maxrss would count the parent's pages before exec)
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
books = [load_codebook(f"forumkit/codebooks/{n}.yaml") for n in ("hf-challenges", "hf-benefits")]
import statsmodels.stats.proportion, pyarrow.parquet  # noqa: everything imported before the baseline
before, start = peak(), time.perf_counter()
agg = Aggregator(level="category", period="month").fit(
    iter_coded(sys.argv[1], item="item", code="code", date="date", category="category", coder="coder"), books)
print(json.dumps({"before": before, "peak": peak(), "seconds": time.perf_counter() - start, "rows": agg.n_rows_,
                  "items": agg.n_items_, "month_items": int(agg.counts_.drop_duplicates("period")["n_items"].sum())}))
"""


@pytest.mark.slow
def test_ten_million_rows_in_bounded_memory(tmp_path):
    """10M coded rows (2M topics, rows of an item scattered over the file) aggregate in a few hundred MB."""
    path, rows, items = tmp_path / "big.parquet", 10_000_000, 2_000_000
    codes = pa.array(CHALLENGES.code_ids() + BENEFITS.code_ids())
    cats = pa.array(["Beginners", "beginners", "Transformers", "Models", "Datasets"])
    rng = np.random.default_rng(11)
    item_seconds = 1_600_000_000 + rng.integers(0, 3 * 365 * 86400, items)
    seen = np.zeros(items, dtype=bool)
    schema = pa.schema([("item", pa.int64()), ("code", pa.string()), ("date", pa.timestamp("s", tz="UTC")),
                        ("category", pa.string()), ("coder", pa.string())])
    with pq.ParquetWriter(path, schema) as writer:
        for _ in range(rows // 1_000_000):
            item = rng.integers(0, items, 1_000_000)
            seen[item] = True
            writer.write_table(pa.table({
                "item": item, "code": codes.take(rng.integers(0, len(codes), len(item))),
                "date": pa.array(item_seconds[item], pa.timestamp("s", tz="UTC")),
                "category": cats.take(item % len(cats)),
                "coder": pa.array(np.array(["a@x", "b@x"], dtype=object)[item % 2])}, schema=schema))
    res = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, cwd=ROOT,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    growth = got["peak"] - got["before"]
    # for comparison: pd.read_parquet of this file alone peaks at about +1.35 GiB
    print(f"10M rows: {got['seconds']:.1f} s, peak RSS {got['peak']:.0f} MiB (+{growth:.0f} MiB)")
    assert got["rows"] == rows and got["items"] == int(seen.sum())
    assert got["month_items"] == int(seen.sum())  # each item has one date: months partition the items
    assert growth < 600, f"peak memory grew by {growth:.0f} MiB"
    assert got["seconds"] < 60
