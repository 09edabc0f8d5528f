"""Inter-rater reliability: textbook values computed by hand, and the libraries as references."""

from __future__ import annotations

import itertools
import time

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from forumkit.coding.agreement import MEASURES, Agreement, _weights, from_coded, masi_distance
from forumkit.errors import UsageError


def tables(coded: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """{(item, coder): set of codes} -> (annotations, codes)."""
    annotations = pd.DataFrame(list(coded), columns=["item", "coder"])
    codes = pd.DataFrame([(i, c, k) for (i, c), ks in coded.items() for k in sorted(ks)],
                         columns=["item", "coder", "code"])
    return annotations, codes


def random_coding(n_items, n_coders, n_codes, seed=0, p_missing=0.0, p_code=0.2, noise=0.1):
    """Coders who copy a latent truth with some flips; some (item, coder) annotations missing."""
    rng = np.random.default_rng(seed)
    truth = rng.random((n_items, n_codes)) < p_code
    coded = {}
    for i in range(n_items):
        for c in range(n_coders):
            if rng.random() < p_missing:
                continue
            flips = rng.random(n_codes) < noise
            coded[i, f"coder{c}"] = {f"k{k:02d}" for k in np.flatnonzero(truth[i] ^ flips)}
    return coded


def overall(fitted: Agreement) -> pd.Series:
    return fitted.overall_.set_index("measure")["value"]


def binary_matrix(fitted: Agreement, coded: dict) -> np.ndarray:
    """Reliability data (coders x item*code units), NaN where a coder did not annotate the item."""
    coders, items, codes = fitted.coders_, fitted.items_, fitted.codes_
    x = np.full((len(coders), len(items), len(codes)), np.nan)
    for (i, c), ks in coded.items():
        x[coders.index(c), items.index(i)] = [k in ks for k in codes]
    return x.reshape(len(coders), -1)


def masi_alpha_reference(coded: dict) -> float:
    """NLTK's AnnotationTask.alpha with MASI distance, written with plain Python loops."""
    by_item: dict = {}
    for (i, _), ks in coded.items():
        by_item.setdefault(i, []).append(frozenset(ks))
    values, total_do = [], 0.0
    for labels in by_item.values():
        if len(labels) < 2:
            continue
        values += labels
        pairs = sum(masi_distance(a, b) for a, b in itertools.permutations(labels, 2))
        total_do += pairs / (len(labels) - 1)
    n = len(values)
    d_o = total_do / n
    d_e = sum(masi_distance(a, b) for a, b in itertools.permutations(values, 2)) / (n * (n - 1))
    return 1 - d_o / d_e


# --- MASI distance -------------------------------------------------------------------------------


def test_masi_distance_for_the_four_set_relations():
    assert masi_distance({"a", "b"}, {"b", "a"}) == 0  # equal: 1 - 1 * 1
    assert masi_distance({"a"}, {"a", "b"}) == pytest.approx(1 - 1 / 2 * 2 / 3)  # subset: J=1/2, M=2/3
    assert masi_distance({"a", "b"}, {"b", "c"}) == pytest.approx(1 - 1 / 3 * 1 / 3)  # overlap: J=1/3, M=1/3
    assert masi_distance({"a"}, {"b"}) == 1  # disjoint: M=0
    assert masi_distance(set(), set()) == 0  # two empty sets are identical
    assert masi_distance(set(), {"a"}) == 1  # J=0


# --- Cohen's kappa --------------------------------------------------------------------------------


def test_cohen_kappa_on_a_textbook_two_by_two_table():
    # 50 items, one code: both yes 20, both no 15, A yes / B no 5, A no / B yes 10.
    # po = (20 + 15) / 50 = 0.7; A says yes 25/50 = 0.5, B 30/50 = 0.6;
    # pe = 0.5 * 0.6 + 0.5 * 0.4 = 0.5; kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    pattern = [("yes", "yes")] * 20 + [("no", "no")] * 15 + [("yes", "no")] * 5 + [("no", "yes")] * 10
    coded = {}
    for i, (a, b) in enumerate(pattern):
        coded[i, "A"] = {"yes"} if a == "yes" else set()
        coded[i, "B"] = {"yes"} if b == "yes" else set()
    fitted = Agreement(n_boot=0).fit(*tables(coded))
    values = overall(fitted)
    assert values["cohen_kappa"] == pytest.approx(0.4)
    assert values["percent_agreement"] == pytest.approx(0.7)
    assert fitted.per_code_.loc[0, "cohen_kappa"] == pytest.approx(0.4)
    a, b = zip(*pattern)
    assert values["cohen_kappa"] == pytest.approx(cohen_kappa_score(a, b), rel=1e-12)
    # positive agreement: 2 * 20 / (2 * 20 + 5 + 10)
    assert fitted.per_code_.loc[0, "positive_agreement"] == pytest.approx(40 / 55)


def test_cohen_kappa_pools_item_by_code_decisions_like_sklearn():
    coded = random_coding(60, 2, 6, seed=4)
    fitted = Agreement(n_boot=0).fit(*tables(coded))
    x = binary_matrix(fitted, coded)
    assert overall(fitted)["cohen_kappa"] == pytest.approx(cohen_kappa_score(x[0], x[1]), rel=1e-12)
    per_unit = x.reshape(2, len(fitted.items_), -1)
    for k, row in fitted.per_code_.iterrows():
        assert row["cohen_kappa"] == pytest.approx(cohen_kappa_score(per_unit[0, :, k], per_unit[1, :, k]))


# --- Fleiss' kappa --------------------------------------------------------------------------------


def test_fleiss_kappa_wikipedia_example_with_statsmodels():
    # 10 subjects, 14 raters, 5 categories (en.wikipedia.org/wiki/Fleiss%27_kappa): P-bar = 0.378,
    # P-e = 0.213, kappa = (0.378 - 0.213) / (1 - 0.213) = 0.210.
    table = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                      [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])
    assert fleiss_kappa(table) == pytest.approx(0.210, abs=5e-4)


def small_three_coder_case():
    # item 1: A {x}, B {x}, C {}      item 2: A {x, y}, B {y}, C {y}
    return {(1, "A"): {"x"}, (1, "B"): {"x"}, (1, "C"): set(),
            (2, "A"): {"x", "y"}, (2, "B"): {"y"}, (2, "C"): {"y"}}


def test_pooled_binary_measures_computed_by_hand():
    fitted = Agreement(n_boot=0).fit(*tables(small_three_coder_case()))
    values = overall(fitted)
    # units (item, code) with n1 of 3 coders present: (1,x) 2, (1,y) 0, (2,x) 1, (2,y) 3.
    # Pairwise agreement per unit: C(2,2)+C(1,2) = 1 of 3 pairs; 3 of 3; 1 of 3; 3 of 3 -> mean 2/3.
    assert values["percent_agreement"] == pytest.approx(2 / 3)
    # Fleiss: P_unit = (n1^2 + n0^2 - 3) / 6 = 1/3, 1, 1/3, 1 -> P-bar = 2/3; p1 = 6/12, Pe = 1/2;
    # kappa = (2/3 - 1/2) / (1 - 1/2) = 1/3.
    assert values["fleiss_kappa"] == pytest.approx(1 / 3)
    # alpha: disagreeing coincidences n1*n0/(m-1) = 1, 0, 1, 0 -> 2; N1 = N0 = 6, n = 12;
    # alpha = 1 - (n - 1) * 2 / (N1 * N0) = 1 - 22/36 = 7/18.
    assert values["krippendorff_alpha"] == pytest.approx(7 / 18)
    # MASI: item 1 distances 0, 1, 1 -> D_o sum 2*2/(3-1) = 2; item 2: 2/3, 2/3, 0 -> 4/3;
    # D_o = (2 + 4/3) / 6 = 5/9. Values {x}x2, {}, {x,y}, {y}x2: D_e = 2 * 35/3 / 30 = 7/9;
    # alpha = 1 - (5/9) / (7/9) = 2/7.
    assert values["masi_alpha"] == pytest.approx(2 / 7)
    assert np.isnan(values["cohen_kappa"])
    assert "two coders" in fitted.overall_.set_index("measure").loc["cohen_kappa", "note"]
    per_code = fitted.per_code_.set_index("code")
    assert per_code.loc["x", "prevalence"] == pytest.approx(3 / 6)
    assert per_code.loc["y", "percent_agreement"] == 1.0


def test_pooled_fleiss_uses_the_modal_number_of_coders_and_matches_statsmodels():
    coded = random_coding(80, 4, 5, seed=2, p_missing=0.25)
    fitted = Agreement(n_boot=0).fit(*tables(coded))
    row = fitted.overall_.set_index("measure").loc["fleiss_kappa"]
    per_item = pd.Series([i for i, _ in coded]).value_counts()
    per_item = per_item[per_item >= 2]
    modal = per_item.value_counts().idxmax()
    keep = sorted(per_item.index[per_item == modal])
    units = []
    for i in keep:
        coders = [ks for (j, _), ks in coded.items() if j == i]
        units += [[int(k in ks) for ks in coders] for k in fitted.codes_]
    counts, _ = aggregate_raters(np.array(units))
    assert row["value"] == pytest.approx(fleiss_kappa(counts), rel=1e-12)
    assert row["n_items"] == len(keep)
    assert f"modal number of coders ({modal})" in row["note"]


# --- Krippendorff's alpha -------------------------------------------------------------------------


def test_krippendorff_2011_nominal_example_through_masi_alpha_on_single_codes():
    # Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", 4 observers x 12 units, "." missing.
    data = {"A": "1 2 3 3 2 1 4 1 2 . . .", "B": "1 2 3 3 2 2 4 1 2 5 . 3",
            "C": ". 3 3 3 2 3 4 2 2 5 1 .", "D": "1 2 3 3 2 4 4 1 2 5 1 ."}
    coded = {(u, coder): {v} for coder, row in data.items() for u, v in enumerate(row.split(), 1) if v != "."}
    fitted = Agreement(n_boot=0).fit(*tables(coded))
    # With one code per annotation MASI is 0 (same) or 1 (different): nominal alpha, 0.743 in the paper.
    assert overall(fitted)["masi_alpha"] == pytest.approx(0.743, abs=5e-4)
    matrix = [[np.nan if v == "." else float(v) for v in row.split()] for row in data.values()]
    assert overall(fitted)["masi_alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"), rel=1e-12)
    assert "1 item(s) with a single coder ignored" in fitted.overall_.loc[0, "note"]  # unit 12


def test_binary_alpha_matches_the_krippendorff_library_with_missing_coders():
    coded = random_coding(70, 4, 6, seed=5, p_missing=0.3)
    fitted = Agreement(n_boot=0).fit(*tables(coded))
    x = binary_matrix(fitted, coded)
    expected = krippendorff.alpha(reliability_data=x, level_of_measurement="nominal")
    assert overall(fitted)["krippendorff_alpha"] == pytest.approx(expected, rel=1e-12)
    per_unit = x.reshape(x.shape[0], len(fitted.items_), -1)
    for k, row in fitted.per_code_.iterrows():
        assert row["krippendorff_alpha"] == pytest.approx(
            krippendorff.alpha(reliability_data=per_unit[:, :, k], level_of_measurement="nominal"), rel=1e-12)


def test_masi_alpha_by_hand_and_against_a_loop_reference():
    # item 1: A {a}, B {a, b} (distance 2/3); item 2: A {c}, B {c} (0).
    # D_o = (2 * 2/3 / (2-1) + 0) / 4 = 1/3. Values {a}, {a,b}, {c}x2, n = 4:
    # D_e = 2 * (1*1*2/3 + 1*2*1 + 1*2*1) / (4*3) = 7/9; alpha = 1 - (1/3)/(7/9) = 4/7.
    coded = {(1, "A"): {"a"}, (1, "B"): {"a", "b"}, (2, "A"): {"c"}, (2, "B"): {"c"}}
    assert overall(Agreement(n_boot=0).fit(*tables(coded)))["masi_alpha"] == pytest.approx(4 / 7)
    # Few items, many distinct sets (quadratic form in item space) and the other way round.
    for n_items, n_codes in ((15, 8), (60, 2)):
        coded = random_coding(n_items, 4, n_codes, seed=n_items, p_missing=0.2, p_code=0.4, noise=0.2)
        fitted = Agreement(n_boot=0).fit(*tables(coded))
        assert overall(fitted)["masi_alpha"] == pytest.approx(masi_alpha_reference(coded), rel=1e-10)


# --- edge cases -----------------------------------------------------------------------------------


def test_perfect_agreement_gives_one_everywhere():
    coded = {(i, c): ks for i, ks in enumerate([{"a"}, {"a", "b"}, set(), {"b"}]) for c in ("A", "B")}
    fitted = Agreement(n_boot=50).fit(*tables(coded))
    assert (overall(fitted) == 1.0).all()
    assert fitted.disagreements_.empty
    assert (fitted.per_code_[["cohen_kappa", "fleiss_kappa", "krippendorff_alpha"]] == 1.0).all().all()


def test_one_value_only_gives_nan_with_a_note_not_a_crash():
    # Everyone applies nothing: every decision is "absent", kappa and alpha are 0/0.
    coded = {(i, c): set() for i in range(5) for c in ("A", "B")}
    fitted = Agreement(n_boot=20).fit(*tables(coded), codes_universe=["bug", "question"])
    table = fitted.overall_.set_index("measure")
    assert table.loc["percent_agreement", "value"] == 1.0
    for measure in ("cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "masi_alpha"):
        assert np.isnan(table.loc[measure, "value"])
        assert "undefined" in table.loc[measure, "note"]
    assert fitted.per_code_["krippendorff_alpha"].isna().all()


def test_a_code_nobody_used_is_absent_everywhere():
    coded = small_three_coder_case()
    fitted = Agreement(n_boot=0).fit(*tables(coded), codes_universe=["x", "y", "unused"])
    row = fitted.per_code_.set_index("code").loc["unused"]
    assert row["prevalence"] == 0 and row["percent_agreement"] == 1.0
    assert np.isnan(row["krippendorff_alpha"]) and np.isnan(row["fleiss_kappa"])
    assert np.isnan(row["positive_agreement"])
    assert "never applied" in row["note"]
    # The pooled measures count it: 6 units of 3 coders, the 2 new ones in full agreement.
    assert overall(fitted)["percent_agreement"] == pytest.approx((2 / 3 * 4 + 2) / 6)


def test_bad_input_is_a_usage_error():
    with pytest.raises(UsageError, match="two or more coders"):
        Agreement().fit(*tables({(1, "A"): {"x"}, (2, "A"): set()}))
    annotations, codes = tables(small_three_coder_case())
    orphan = pd.concat([codes, pd.DataFrame([(3, "A", "x")], columns=codes.columns)])
    with pytest.raises(UsageError, match="no annotation row"):
        Agreement().fit(annotations, orphan)
    with pytest.raises(UsageError, match="not in the given universe"):
        Agreement().fit(annotations, codes, codes_universe=["x"])
    with pytest.raises(UsageError, match="lacks the column"):
        Agreement().fit(annotations.rename(columns={"coder": "rater"}), codes)
    with pytest.raises(UsageError, match="two or more coders"):  # two coders, never on the same item
        Agreement().fit(*tables({(1, "A"): {"x"}, (2, "B"): set()}))
    with pytest.raises(UsageError):
        Agreement(level=95).fit(annotations, codes)
    with pytest.raises(UsageError, match="fit"):
        Agreement().consensus()


def test_from_coded_keeps_empty_annotations():
    df = pd.DataFrame({"item": [1, 1, 1, 2, 2], "coder": ["A", "A", "B", "A", "B"],
                       "code": ["x", "y", None, np.nan, "x"]})
    annotations, codes = from_coded(df)
    assert len(annotations) == 4 and len(codes) == 3
    fitted = Agreement(n_boot=0).fit(annotations, codes)
    # (1,x) A yes B no; (1,y) A yes B no; (2,x) A no B yes; (2,y) agree -> 1/4.
    assert overall(fitted)["percent_agreement"] == pytest.approx(1 / 4)


# --- disagreements and consensus ------------------------------------------------------------------


def consensus_case():
    return {(1, "A"): {"x", "y"}, (1, "B"): {"x"}, (1, "C"): {"x", "z"},
            (2, "A"): {"y"}, (2, "B"): set(),
            (3, "A"): {"z"}}


def test_disagreements_list_who_applied_what():
    fitted = Agreement(n_boot=0).fit(*tables(consensus_case()))
    got = fitted.disagreements_
    assert list(got.columns) == ["item", "code", "coders_with", "coders_without", "n_with", "n_without"]
    rows = {(r.item, r.code): (r.coders_with, r.coders_without) for r in got.itertuples()}
    assert rows == {(1, "y"): (["A"], ["B", "C"]), (1, "z"): (["C"], ["A", "B"]), (2, "y"): (["A"], ["B"])}
    assert got["n_with"].tolist() == [1, 1, 1] and got["n_without"].tolist() == [2, 2, 1]


def test_consensus_rules_and_ties():
    fitted = Agreement(n_boot=0).fit(*tables(consensus_case()))
    majority = fitted.consensus()
    assert list(majority.columns) == ["item", "code", "n_with", "n_coders", "share", "source"]
    # x on item 1 (3/3); y on item 2 is a 1-1 tie: not a majority; item 3 has one coder, who decides.
    assert list(zip(majority["item"], majority["code"])) == [(1, "x"), (3, "z")]
    assert majority["share"].tolist() == [1.0, 1.0]
    lenient = fitted.consensus(min_share=0.3)  # 1/3 > 0.3 and 1/2 > 0.3
    assert list(zip(lenient["item"], lenient["code"])) == [(1, "x"), (1, "y"), (1, "z"), (2, "y"), (3, "z")]
    unanimous = fitted.consensus("unanimous")
    assert list(zip(unanimous["item"], unanimous["code"])) == [(1, "x"), (3, "z")]
    judged = fitted.consensus("A")  # A's codes where A annotated (every item here)
    assert list(zip(judged["item"], judged["code"])) == [(1, "x"), (1, "y"), (2, "y"), (3, "z")]
    assert set(judged["source"]) == {"adjudicator"}
    by_c = fitted.consensus("C")  # C annotated item 1 only; majority elsewhere
    assert list(zip(by_c["item"], by_c["code"], by_c["source"])) == [
        (1, "x", "adjudicator"), (1, "z", "adjudicator"), (3, "z", "majority")]
    with pytest.raises(UsageError, match="unknown consensus rule"):
        fitted.consensus("nobody")


# --- bootstrap ------------------------------------------------------------------------------------


def test_bootstrap_is_reproducible_and_contains_the_estimate():
    annotations, codes = tables(random_coding(60, 3, 8, seed=9, p_missing=0.1))
    first = Agreement(n_boot=200, seed=3).fit(annotations, codes)
    again = Agreement(n_boot=200, seed=3).fit(annotations, codes)
    other = Agreement(n_boot=200, seed=4).fit(annotations, codes)
    pd.testing.assert_frame_equal(first.overall_, again.overall_)
    pd.testing.assert_frame_equal(first.per_code_, again.per_code_)
    assert not first.overall_["ci_low"].equals(other.overall_["ci_low"])
    table = first.overall_.dropna(subset=["value"])
    assert (table["ci_low"] <= table["value"]).all() and (table["value"] <= table["ci_high"]).all()
    assert (table["ci_low"] < table["ci_high"]).all()
    wide = Agreement(n_boot=200, seed=3, level=0.99).fit(annotations, codes).overall_.dropna(subset=["value"])
    assert (wide["ci_low"] <= table["ci_low"]).all() and (wide["ci_high"] >= table["ci_high"]).all()
    none = Agreement(n_boot=0).fit(annotations, codes)
    assert none.overall_[["ci_low", "ci_high"]].isna().all().all()
    pd.testing.assert_series_equal(none.overall_["value"], first.overall_["value"])


def test_a_bootstrap_replicate_equals_a_fit_on_the_resampled_items():
    coded = random_coding(25, 2, 5, seed=11, p_code=0.4)
    fitted = Agreement(n_boot=3, seed=7).fit(*tables(coded))
    weights = next(_weights(np.random.default_rng(7), 3, 25))
    for b in range(3):
        resampled = {((i, r), c): ks for (i, c), ks in coded.items() for r in range(int(weights[b, i]))}
        refit = Agreement(n_boot=0).fit(*tables(resampled), codes_universe=fitted.codes_)
        expected = overall(refit)[list(MEASURES)].to_numpy()
        np.testing.assert_allclose(fitted.bootstrap_.iloc[b].to_numpy(), expected, rtol=1e-10)


@pytest.mark.slow
def test_bootstrap_is_fast_on_a_study_sized_coding():
    annotations, codes = tables(random_coding(500, 3, 40, seed=1, p_code=0.1, noise=0.05))
    start = time.perf_counter()
    fitted = Agreement(n_boot=1000).fit(annotations, codes)
    assert time.perf_counter() - start < 20
    assert fitted.overall_["ci_low"].notna().sum() == 4  # all but Cohen (three coders)
    assert fitted.per_code_["ci_low"].notna().all()
