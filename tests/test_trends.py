"""Trend tests: Mann-Kendall (original and Hamed-Rao), trend tables, before/after, Pettitt."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pymannkendall as mk
import pytest

from forumkit.errors import UsageError
from forumkit.analysis.trends import TrendResult, before_after, mann_kendall, pettitt, trend_table


def ar1(n: int, phi: float, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(size=n)
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + noise[t]
    return x


def test_a_rising_line_rises_with_its_slope():
    result = mann_kendall(3 + 0.5 * np.arange(24))
    assert isinstance(result, TrendResult)
    assert result.trend == "rising" and result.p < 0.05 and result.z > 0
    assert result.sen_slope == 0.5 and result.intercept == 3.0 and result.tau == 1.0 and result.n == 24
    assert result.test == "original" and not result.autocorrelated  # detrended, it is flat: nothing correlates


def test_a_noisy_rise_keeps_its_slope():
    # +2 per step, with a noise that repeats every 3 steps: every pair 3 steps apart has slope 2 exactly
    values = 2 * np.arange(30) + np.tile([0.0, 0.5, -0.3], 10)
    result = mann_kendall(values)
    assert result.trend == "rising" and result.p < 1e-6
    assert result.sen_slope == pytest.approx(2.0)


def test_a_falling_series():
    values = 100 - 1.5 * np.arange(20) + np.random.default_rng(3).normal(0, 1, 20)
    result = mann_kendall(values)
    assert result.trend == "falling" and result.p < 0.05 and result.z < 0 and result.tau < 0
    assert result.sen_slope == pytest.approx(-1.5, abs=0.2)


def test_white_noise_has_no_trend():
    result = mann_kendall(np.random.default_rng(2).normal(size=48))
    assert result.trend == "no trend" and result.p > 0.05
    assert not result.autocorrelated and result.test == "original"
    assert abs(result.lag1_acf) < 1.96 / math.sqrt(48)


def test_an_autocorrelated_series_gets_hamed_rao():
    values = ar1(80, 0.8, seed=0)
    result = mann_kendall(values)
    assert result.autocorrelated and result.lag1_acf > 1.96 / math.sqrt(80)
    assert result.test == "hamed_rao"
    direct = mk.hamed_rao_modification_test(values)
    assert result.p == pytest.approx(direct.p) and result.z == pytest.approx(direct.z)
    # the original test, which ignores the autocorrelation, is far more confident
    assert mann_kendall(values, autocorrelation="original").p < result.p
    assert mann_kendall(values, autocorrelation="original").test == "original"


@pytest.mark.parametrize("values", [
    np.random.default_rng(5).normal(size=36),
    np.arange(15) ** 1.5 + np.random.default_rng(6).normal(0, 3, 15),
    [4, 7, 7, 2, 9, 12, 12, 15, 11, 18],
])
def test_p_and_slope_match_pymannkendall(values):
    ours = mann_kendall(values, autocorrelation="original")
    theirs = mk.original_test(values)
    assert (ours.p, ours.z, ours.tau, ours.sen_slope, ours.intercept) == pytest.approx(
        (theirs.p, theirs.z, theirs.Tau, theirs.slope, theirs.intercept))
    forced = mann_kendall(values, autocorrelation="hamed_rao")
    hr = mk.hamed_rao_modification_test(values)
    if np.isfinite(hr.p):
        assert forced.test == "hamed_rao" and forced.p == pytest.approx(hr.p)


def test_missing_values_are_skipped_but_keep_their_place():
    result = mann_kendall([1, np.nan, 3, 4, 5, 6])
    assert result.n == 5 and result.sen_slope == 1.0 and result.trend == "rising"


@pytest.mark.parametrize("values, note", [([], "0 values"), ([1.0, 2.0, 3.0], "3 values"),
                                          ([np.nan] * 6, "0 values"), ([4.0] * 12, "constant")])
def test_too_short_and_constant_series_do_not_crash(values, note):
    result = mann_kendall(values)
    assert result.trend == "no trend" and math.isnan(result.p) and note in result.note
    assert not result.autocorrelated


def test_bad_arguments_are_usage_errors():
    with pytest.raises(UsageError):
        mann_kendall([1, 2, 3, 4], autocorrelation="yes")
    with pytest.raises(UsageError):
        mann_kendall([[1, 2], [3, 4]])
    with pytest.raises(UsageError):
        mann_kendall([1, 2, 3, 4], alpha=5)


def long_table() -> pd.DataFrame:
    months = pd.date_range("2021-01-01", periods=12, freq="MS")
    return pd.concat([
        pd.DataFrame({"period_start": months, "model": "bert", "topics": 2.0 * np.arange(12)}),
        pd.DataFrame({"period_start": months, "model": "gpt2", "topics": 30 - 1.0 * np.arange(12)}),
        pd.DataFrame({"period_start": months[:3], "model": "t5", "topics": [1.0, 2.0, 3.0]}),
        pd.DataFrame({"period_start": months, "model": "clip", "topics": 5.0}),
    ], ignore_index=True)


def test_trend_table_one_row_per_series():
    table = trend_table(long_table(), series="model", value="topics")
    assert table["series"].tolist() == ["bert", "gpt2", "t5", "clip"]
    assert {"series", "n", "test", "trend", "p", "tau", "sen_slope", "autocorrelated", "first", "last"} \
        <= set(table.columns)
    bert, gpt2, t5, clip = (table.iloc[i] for i in range(4))
    assert (bert["trend"], bert["sen_slope"], bert["n"], bert["first"], bert["last"]) == ("rising", 2.0, 12, 0, 22)
    assert (gpt2["trend"], gpt2["sen_slope"]) == ("falling", -1.0)
    assert bert["start"] == pd.Timestamp("2021-01-01") and bert["end"] == pd.Timestamp("2021-12-01")
    assert t5["n"] == 3 and t5["trend"] == "no trend" and math.isnan(t5["p"])
    assert t5["end"] == pd.Timestamp("2021-03-01")
    assert clip["trend"] == "no trend" and "constant" in clip["note"]
    assert bert["p"] == pytest.approx(mk.original_test(2.0 * np.arange(12)).p)


def test_trend_table_lays_series_on_the_common_calendar():
    table = long_table()
    gappy = table[(table["model"] == "bert") & (table.index % 2 == 0)]  # every other month
    row = trend_table(gappy, series="model", value="topics").iloc[0]
    assert row["n"] == 6 and row["sen_slope"] == 4.0  # 4 per two months: the gaps keep their width...
    row = trend_table(pd.concat([gappy, table[table["model"] == "gpt2"]]), series="model", value="topics").iloc[0]
    assert row["sen_slope"] == 2.0  # ...once another series shows the months between


def test_the_rule_marks_short_and_sparse_series_and_bh_adjusts_the_rest():
    """RULE: fewer than 8 periods is too short, fewer than 5 above zero (or few items per period) too sparse;
    the p-values left are Benjamini-Hochberg adjusted as statsmodels does, and the adjusted p names the trend."""
    from statsmodels.stats.multitest import multipletests

    from forumkit.analysis.trends import RULE, adjust_bh

    table = long_table()
    sparse = pd.DataFrame({"period_start": table["period_start"].unique(), "model": "opt",
                           "topics": [0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 3, 0.0]})
    table = pd.concat([table, sparse], ignore_index=True).assign(items=20)
    table.loc[table["model"] == "gpt2", "items"] = 3  # a share of three items a period: too sparse
    plain = trend_table(table, series="model", value="topics", items="items")
    assert plain["p_adj"].dropna().to_numpy() == pytest.approx(multipletests(plain["p"].dropna(), method="fdr_bh")[1])
    ruled = trend_table(table, series="model", value="topics", items="items", rule=RULE).set_index("series")
    assert ruled.loc["t5", "trend"] == "too short" and "3 periods" in ruled.loc["t5", "note"]
    assert ruled.loc["opt", "trend"] == "too sparse" and "above zero in 3 of 12 periods" in ruled.loc["opt", "note"]
    assert ruled.loc["gpt2", "trend"] == "too sparse" and "median 3 items" in ruled.loc["gpt2", "note"]
    assert ruled.loc[["t5", "opt", "gpt2"], ["p", "p_adj"]].isna().all().all()
    assert ruled.loc["bert", "trend"] == "rising" and ruled.loc["bert", "p_adj"] == pytest.approx(
        ruled.loc["bert", "p"])  # the one series tested: nothing to adjust for
    assert np.isnan(adjust_bh([np.nan])).all() and adjust_bh([0.01, 0.04]).tolist() == pytest.approx([0.02, 0.04])


def test_trend_table_refuses_ambiguous_tables():
    with pytest.raises(UsageError, match="several rows"):
        trend_table(long_table(), series=None, value="topics")
    with pytest.raises(UsageError, match="no column"):
        trend_table(long_table(), series="category", value="topics")


def test_before_after_hand_computed():
    frame = pd.DataFrame({"period_start": pd.date_range("2022-01-01", periods=6, freq="MS"),
                          "topics": [1, 2, 3, 4, 5, 6]})
    row = before_after(frame, time="period_start", value="topics", at="2022-04-01").iloc[0]
    assert (row["series"], row["n_before"], row["n_after"]) == ("all", 3, 3)
    assert (row["mean_before"], row["mean_after"], row["change"], row["ratio"]) == (2.0, 5.0, 3.0, 2.5)
    # every value after beats every value before: U = 3·3 = 9; exact two-sided p = 2 / C(6,3) = 0.1
    assert row["u"] == 9 and row["p"] == pytest.approx(0.1)


def test_before_after_per_series_with_dates_as_text_and_numbers():
    frame = pd.DataFrame({"month": ["2022-01", "2022-02", "2022-03"] * 2, "code": ["a"] * 3 + ["b"] * 3,
                          "n": [4, 4, 1, 0, 0, 0]})
    table = before_after(frame, time="month", value="n", at="2022-03", series="code").set_index("series")
    assert table.loc["a", ["n_before", "n_after", "mean_before", "mean_after", "change", "ratio"]].tolist() \
        == [2, 1, 4.0, 1.0, -3.0, 0.25]
    assert math.isnan(table.loc["b", "ratio"])  # nothing before to divide by
    numbers = pd.DataFrame({"t": range(6), "v": [5, 5, 5, 5, 9, 9]})
    assert before_after(numbers, time="t", value="v", at=4)[["n_before", "n_after"]].values.tolist() == [[4, 2]]
    nothing_after = before_after(numbers, time="t", value="v", at=10).iloc[0]
    assert nothing_after["n_after"] == 0 and math.isnan(nothing_after["p"])


def test_pettitt_hand_computed():
    # x = 1 2 1 5 6 5; U_t = Σ_{i<t} Σ_{j≥t} sgn(x_j − x_i): U_1..U_5 = 4, 5, 9, 7, 2
    result = pettitt([1, 2, 1, 5, 6, 5])
    assert (result.k, result.index, result.u, result.n) == (9, 3, 9, 6)
    assert result.p == pytest.approx(2 * math.exp(-6 * 81 / (6 ** 3 + 6 ** 2)))  # = 0.29071
    assert result.p == pytest.approx(0.290711, abs=1e-6)
    down = pettitt([9, 9, 8, 9, 2, 1, 2])
    assert down.index == 4 and down.u < 0


def test_pettitt_finds_a_clear_shift_and_handles_edges():
    values = np.r_[np.full(20, 10.0), np.full(20, 20.0)] + np.random.default_rng(1).normal(0, 1, 40)
    result = pettitt(values)
    assert result.index == 20 and result.p < 0.001
    assert pettitt([3, 3, 3]).index is None and pettitt([3, 3, 3]).p == 1.0
    assert pettitt([7]).index is None and math.isnan(pettitt([]).p)
    with pytest.raises(UsageError):
        pettitt([1, np.nan, 3])
