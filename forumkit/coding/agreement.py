"""Inter-rater reliability for multi-label coding (each coder gives an item a set of codes).

Input is two tidy tables (:func:`from_coded` builds both from one long table):

* ``annotations``: one row per (item, coder) annotation that exists, columns ``item``, ``coder``. An
  annotation with no codes is meaningful: the coder saw the item and applied nothing.
* ``codes``: one row per applied code, columns ``item``, ``coder``, ``code``. Each (item, coder) must
  have an annotation row.

Coders and codes are compared as strings; duplicate rows are ignored. The universe of codes is the list
given to :meth:`Agreement.fit` (codes nobody applied count as absent everywhere) or else the codes that
appear. Items are ordered by their sorted ids (first appearance when ids cannot be sorted), codes as the
universe lists them (sorted when it is not given).

Definitions (the unit of the binary measures is an item x code present/absent decision):

* Only items annotated by two or more coders are *pairable*: items with one coder are ignored by every
  agreement measure (as Krippendorff's alpha does natively) but count in ``prevalence`` and consensus.
  A coder who did not annotate an item is missing for it, never "absent".
* ``percent_agreement``: for each item x code, the share of the item's coder pairs that agree
  (both present or both absent); the mean over pairable item x code units.
* ``cohen_kappa``: only with exactly two coders overall; one 2x2 table pooled over all item x code
  decisions (per code: over items). NaN with a note otherwise.
* ``fleiss_kappa``: Fleiss (1971) on item x code units with categories absent/present. It needs the same
  number of coders per item: only items coded by the modal number of coders are used (ties go to the larger
  number) and the note says how many were left out.
* ``krippendorff_alpha``: nominal alpha on the pooled binary decisions, missing coders allowed.
* ``masi_alpha``: Krippendorff's alpha with the values being the *set* of codes per (item, coder) and the
  MASI distance (:func:`masi_distance`), computed as NLTK's ``AnnotationTask.alpha``: alpha = 1 - D_o/D_e
  over pairable values. With singleton sets it is nominal alpha on the codes.
* Kappa and alpha are 0/0 when the data has one value only (a code absent, or present, everywhere; all
  code sets identical): they are NaN and the ``note`` says so. When coders agree everywhere but the
  values vary, the formula gives 1.0, and so does the result.
* Confidence intervals: pairable items are resampled with replacement ``n_boot`` times (one seeded numpy
  Generator, the same replicates for every measure); percentile interval at ``level``. A replicate where a
  measure is undefined (e.g. a rare code absent from the resample) is dropped and the note counts it.
  Each replicate is a weighted sum of per-item statistics, never a re-fit. MASI alpha's expected
  disagreement is a quadratic form of side min(distinct code sets, items): time and memory grow with its
  square (500 items x 3 coders x 40 codes, 1000 replicates: a quarter of a second; 5,000 x 4 x 60: 13 s).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from forumkit.errors import UsageError
from .consensus import consensus_rule

__all__ = ["Agreement", "from_coded", "masi_distance"]

log = logging.getLogger(__name__)

MEASURES = ("percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "masi_alpha")
_INPUT_HINT = "annotations need columns item, coder; codes need columns item, coder, code"
_CELLS = 4_000_000  # bound on the floats of one block of work (bootstrap weights, distance rows)


def masi_distance(a: Iterable[Hashable], b: Iterable[Hashable]) -> float:
    """MASI distance (Passonneau 2006) between two label sets: 1 - Jaccard * M.

    M is 1 for equal sets, 2/3 when one is a subset of the other, 1/3 when they otherwise intersect and
    0 when they are disjoint. Two empty sets are identical (distance 0). Unlike NLTK's version M uses exact
    thirds (NLTK rounds to 0.67 and 0.33) and the empty pair does not divide by zero.

    >>> masi_distance({"a"}, {"a", "b"})  # subset: 1 - 1/2 * 2/3
    0.6666666666666667
    """
    a, b = set(a), set(b)
    d = _masi(np.array([len(a & b)], float), np.array([len(a)], float), np.array([len(b)], float))
    return float(d[0])


def _masi(inter: np.ndarray, la: np.ndarray, lb: np.ndarray) -> np.ndarray:
    union = la + lb - inter
    jaccard = np.divide(inter, union, out=np.ones(np.broadcast(inter, union).shape), where=union > 0)
    m = np.where((inter == la) & (inter == lb), 1.0,
                 np.where(inter == np.minimum(la, lb), 2 / 3, np.where(inter > 0, 1 / 3, 0.0)))
    return 1.0 - jaccard * m


def _masi_rows(sa: np.ndarray, sb: np.ndarray) -> np.ndarray:
    """Distances between every row of ``sa`` and every row of ``sb`` (0/1 float matrices)."""
    return _masi(sa @ sb.T, sa.sum(1)[:, None], sb.sum(1)[None, :])


def from_coded(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split one long table (columns item, coder, code; code NaN/None for an annotation without codes)
    into the ``annotations`` and ``codes`` tables that :meth:`Agreement.fit` takes."""
    _need(df, ("item", "coder", "code"), "the coded table", required=("item", "coder"))
    annotations = df[["item", "coder"]].drop_duplicates().reset_index(drop=True)
    codes = df.loc[df["code"].notna(), ["item", "coder", "code"]].drop_duplicates().reset_index(drop=True)
    return annotations, codes


def _need(df: object, columns: tuple[str, ...], what: str, required: tuple[str, ...] | None = None) -> None:
    if not isinstance(df, pd.DataFrame):
        raise UsageError(f"{what} must be a pandas DataFrame, not {type(df).__name__}", hint=_INPUT_HINT)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise UsageError(f"{what} lacks the column(s) {', '.join(missing)}", hint=_INPUT_HINT)
    required = columns if required is None else required
    if len(df) and df[list(required)].isna().any().any():
        raise UsageError(f"{what} has empty values in {', '.join(required)}",
                         hint="use from_coded() for a table where code is empty for annotations without codes")


@dataclass(frozen=True)
class _Coded:
    """The input as arrays: A annotations, I items, C coders, K codes."""

    items: list
    coders: list[str]
    codes: list[str]
    ann_item: np.ndarray  # (A,) item index of each annotation
    ann_coder: np.ndarray  # (A,) coder index
    bits: np.ndarray  # (A, K) bool: code applied in the annotation
    n_coders: np.ndarray  # (I,) coders who annotated the item
    n_with: np.ndarray  # (I, K) coders who applied the code to the item


def _encode(annotations: pd.DataFrame, codes: pd.DataFrame, universe: Iterable[str] | None) -> _Coded:
    _need(annotations, ("item", "coder"), "annotations")
    _need(codes, ("item", "coder", "code"), "codes")
    ann = annotations[["item", "coder"]].assign(coder=lambda d: d["coder"].astype(str))
    ann = ann.drop_duplicates().reset_index(drop=True)
    if ann.empty:
        raise UsageError("there are no annotations", hint="agreement needs items annotated by two or more coders")
    applied = codes[["item", "coder", "code"]].astype({"coder": str, "code": str}).drop_duplicates()
    coders = sorted(ann["coder"].unique())
    if len(coders) < 2:
        raise UsageError(f"only one coder ({coders[0]}) annotated: agreement needs two or more coders",
                         hint="import the annotations of every coder")
    uniq = pd.unique(ann["item"])
    try:
        items = sorted(uniq)
    except TypeError:
        items = list(uniq)
    if universe is None:
        code_list = sorted(applied["code"].unique())
    else:
        code_list = list(dict.fromkeys(str(c) for c in universe))
        unknown = sorted(set(applied["code"]) - set(code_list))
        if unknown:
            raise UsageError(f"codes not in the given universe: {', '.join(unknown[:5])}"
                             + (" ..." if len(unknown) > 5 else ""), hint="add them to the list of codes")
    ann["_a"] = np.arange(len(ann))
    hit = applied.merge(ann, on=["item", "coder"], how="left")
    orphan = hit[hit["_a"].isna()]
    if len(orphan):
        shown = ", ".join(f"({r.item!r}, {r.coder})" for r in orphan.head(3).itertuples())
        raise UsageError(f"{len(orphan)} code row(s) have no annotation row, e.g. (item, coder) {shown}",
                         hint="add those (item, coder) pairs to annotations, and check that item ids have the "
                              "same type in both tables")
    ann_item = pd.Index(items).get_indexer(ann["item"])
    ann_coder = pd.Index(coders).get_indexer(ann["coder"])
    bits = np.zeros((len(ann), len(code_list)), dtype=bool)
    bits[hit["_a"].to_numpy(int), pd.Index(code_list).get_indexer(hit["code"])] = True
    incidence = sparse.csr_matrix((np.ones(len(ann)), (ann_item, np.arange(len(ann)))), shape=(len(items), len(ann)))
    n_with = np.asarray(incidence @ bits.astype(float)).round().astype(np.int64)
    n_coders = np.bincount(ann_item, minlength=len(items))
    return _Coded(items, coders, code_list, ann_item, ann_coder, bits, n_coders, n_with)


def _div(num, den) -> np.ndarray:
    num, den = np.broadcast_arrays(np.asarray(num, float), np.asarray(den, float))
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den != 0)


# Columns of the per-item statistics whose weighted sums give every pooled measure.
_PA, _PA_U, _C11, _C10, _C01, _C00, _F_P, _F_N1, _F_U, _A_O, _A_N1, _A_N0, _M_DO, _M_N = range(14)


class _Stats:
    """Per-item sufficient statistics of the pairable items: a bootstrap replicate is a weighted sum."""

    def __init__(self, data: _Coded) -> None:
        self.items = np.flatnonzero(data.n_coders >= 2)
        if self.items.size == 0:
            raise UsageError("no item was annotated by two or more coders",
                             hint="agreement needs items coded independently by at least two coders")
        n1 = data.n_with[self.items].astype(float)  # (I_p, K)
        m = data.n_coders[self.items].astype(float)[:, None]
        n0 = m - n1
        n_codes = n1.shape[1]
        counts = pd.Series(m[:, 0]).value_counts()
        self.fleiss_n = int(max(counts.index[counts == counts.max()]))
        modal = (m[:, 0] == self.fleiss_n)[:, None]
        self.modal = modal[:, 0]
        s = np.zeros((self.items.size, 14))
        self.pa = (n1 * (n1 - 1) + n0 * (n0 - 1)) / (m * (m - 1))  # (I_p, K) agreeing share of pairs
        self.obs = n1 * n0 / (m - 1)  # (I_p, K) binary alpha: disagreeing coincidences
        self.n1, self.m = n1, m[:, 0]
        s[:, _PA], s[:, _PA_U] = self.pa.sum(1), n_codes
        if len(data.coders) == 2:
            where = np.full((2, len(data.items)), -1)
            where[data.ann_coder, data.ann_item] = np.arange(data.ann_item.size)
            a, b = data.bits[where[0, self.items]], data.bits[where[1, self.items]]
            self.cohen = np.stack([a & b, a & ~b, ~a & b, ~a & ~b], axis=-1).astype(float)  # (I_p, K, 4)
            s[:, _C11:_C00 + 1] = self.cohen.sum(1)
        else:
            self.cohen = None
        n = self.fleiss_n
        s[:, _F_P] = np.where(modal, (n1 ** 2 + n0 ** 2 - n) / (n * (n - 1)), 0).sum(1)
        s[:, _F_N1] = np.where(modal, n1, 0).sum(1)
        s[:, _F_U] = modal[:, 0] * n_codes
        s[:, _A_O], s[:, _A_N1], s[:, _A_N0] = self.obs.sum(1), n1.sum(1), n0.sum(1)
        self._masi_prepare(data)
        s[:, _M_N] = self.m
        s[:, _M_DO] = self.masi_do
        self.sums = s

    def _masi_prepare(self, data: _Coded) -> None:
        """Distinct code sets of the pairable annotations, their counts per item, D_o per item and the
        matrix of the quadratic form giving sum_j,l N_j N_l d(j, l) in the smaller of value or item space."""
        pos = np.full(len(data.items), -1)
        pos[self.items] = np.arange(self.items.size)
        keep = np.flatnonzero(pos[data.ann_item] >= 0)
        order = keep[np.argsort(pos[data.ann_item[keep]], kind="stable")]
        item_of = pos[data.ann_item[order]]
        sets, value = np.unique(data.bits[order], axis=0, return_inverse=True)
        value = value.reshape(-1)
        self.sets = sets.astype(float)
        n_values, n_items = len(sets), self.items.size
        self.count = sparse.csr_matrix((np.ones(order.size), (item_of, value)), shape=(n_items, n_values))
        starts = np.searchsorted(item_of, np.arange(n_items))
        do = np.zeros(n_items)
        for g in np.unique(self.m).astype(int):
            rows = np.flatnonzero(self.m == g)
            vals = value[starts[rows][:, None] + np.arange(g)]
            total = np.zeros(rows.size)
            for r in range(g):
                for q in range(r + 1, g):
                    sa, sb = self.sets[vals[:, r]], self.sets[vals[:, q]]
                    total += _masi((sa * sb).sum(1), sa.sum(1), sb.sum(1))
            do[rows] = 2 * total / (g - 1)
        self.masi_do = do
        self.in_values = n_values <= n_items
        size = n_values if self.in_values else n_items
        gram = np.zeros((size, size))
        step = max(1, _CELLS // max(n_values, 1))
        count_csc = self.count.tocsc()
        for lo in range(0, n_values, step):
            block = _masi_rows(self.sets[lo:lo + step], self.sets)  # (b, V)
            if self.in_values:
                gram[lo:lo + step] = block
            else:
                gram += np.asarray(count_csc[:, lo:lo + step] @ np.asarray(self.count @ block.T).T)
        self.gram = gram

    def masi_q(self, w: np.ndarray) -> np.ndarray:
        """sum_j,l N_j N_l MASI(j, l) over the values of the items weighted by the rows of ``w``."""
        y = np.asarray(self.count.T @ w.T).T if self.in_values else w
        return ((y @ self.gram) * y).sum(1)


def _overall(t: np.ndarray, q: np.ndarray, fleiss_n: int) -> np.ndarray:
    """The five pooled measures (columns, in MEASURES order) from weighted sums ``t`` (R, 14)."""
    pa = _div(t[:, _PA], t[:, _PA_U])
    n11, n10, n01, n00 = (t[:, j] for j in (_C11, _C10, _C01, _C00))
    total = n11 + n10 + n01 + n00
    a1, b1 = n11 + n10, n11 + n01
    chance = a1 * b1 + (total - a1) * (total - b1)
    cohen = _div(total * (n11 + n00) - chance, total ** 2 - chance)
    units, f1 = t[:, _F_U], t[:, _F_N1]
    cells = units * fleiss_n
    f0 = cells - f1
    p_bar, p_e = _div(t[:, _F_P], units), _div(f1 ** 2 + f0 ** 2, cells ** 2)
    fleiss = _div((p_bar - p_e) * cells ** 2, 2 * f1 * f0)
    n1, n0 = t[:, _A_N1], t[:, _A_N0]
    alpha = 1 - _div((n1 + n0 - 1) * t[:, _A_O], n1 * n0)
    masi = 1 - _div((t[:, _M_N] - 1) * t[:, _M_DO], q)
    return np.column_stack([pa, cohen, fleiss, alpha, masi])


def _code_alpha(obs: np.ndarray, n1: np.ndarray, n: np.ndarray) -> np.ndarray:
    return 1 - _div((n[..., None] - 1) * obs, n1 * (n[..., None] - n1))


def _weights(rng: np.random.Generator, n_boot: int, n_items: int):
    """Bootstrap weights (how often each item is drawn), in blocks of replicates."""
    step = max(1, _CELLS // n_items)
    for lo in range(0, n_boot, step):
        b = min(step, n_boot - lo)
        idx = rng.integers(0, n_items, size=(b, n_items)) + (np.arange(b) * n_items)[:, None]
        yield np.bincount(idx.ravel(), minlength=b * n_items).reshape(b, n_items).astype(float)


def _interval(reps: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Percentile interval per column over the defined replicates; and how many were undefined."""
    tail = (1 - level) / 2
    low, high = np.full(reps.shape[1], np.nan), np.full(reps.shape[1], np.nan)
    undefined = (~np.isfinite(reps)).sum(0)
    for j in range(reps.shape[1]):
        ok = reps[np.isfinite(reps[:, j]), j]
        if ok.size:
            low[j], high[j] = np.quantile(ok, [tail, 1 - tail])
    return low, high, undefined


class Agreement:
    """Inter-rater reliability of a multi-label coding; see the module docstring for the definitions.

    Parameters: ``n_boot`` bootstrap replicates (0: no confidence intervals), ``level`` of the percentile
    intervals, ``seed`` of the numpy Generator (same seed and data, same intervals).

    After :meth:`fit`:

    * ``overall_``: one row per measure: measure, value, ci_low, ci_high, n_items (items used), n_coders
      (distinct coders on them), note.
    * ``per_code_``: one row per code: code, prevalence (share of all annotations with the code),
      percent_agreement, positive_agreement (sum n1(n1-1) / sum n1(m-1) over items: the chance that another
      coder also applied a code one applied), cohen_kappa, fleiss_kappa, krippendorff_alpha, ci_low and
      ci_high (of alpha), n_items (pairable items), note.
    * ``disagreements_``: one row per (item, code) where the item's coders differ: item, code,
      coders_with, coders_without (sorted lists of coder names), n_with, n_without.
    * ``bootstrap_``: the pooled measures of each bootstrap replicate (one row each, columns as
      ``overall_.measure``; NaN where undefined).
    * ``items_``, ``coders_``, ``codes_``: the items, coders and codes, in result order.

    >>> ann = pd.DataFrame({"item": [1, 1, 2, 2], "coder": ["ann", "bob"] * 2})
    >>> codes = pd.DataFrame({"item": [1, 1, 2], "coder": ["ann", "bob", "ann"], "code": ["bug"] * 3})
    >>> float(Agreement(n_boot=0).fit(ann, codes).overall_.set_index("measure").loc["percent_agreement", "value"])
    0.5
    """

    def __init__(self, n_boot: int = 1000, level: float = 0.95, seed: int | None = 0) -> None:
        self.n_boot = n_boot
        self.level = level
        self.seed = seed

    def fit(self, annotations: pd.DataFrame, codes: pd.DataFrame,
            codes_universe: Iterable[str] | None = None) -> Agreement:
        if not isinstance(self.n_boot, (int, np.integer)) or self.n_boot < 0:
            raise UsageError(f"n_boot must be a whole number >= 0, not {self.n_boot!r}", hint="0 means no intervals")
        if not 0 < self.level < 1:
            raise UsageError(f"level must lie between 0 and 1, not {self.level!r}", hint="e.g. 0.95")
        data = _encode(annotations, codes, codes_universe)
        st = _Stats(data)
        point = _overall(st.sums.sum(0, keepdims=True), st.masi_q(np.ones((1, st.items.size))), st.fleiss_n)[0]
        code_alpha = _code_alpha(st.obs.sum(0), st.n1.sum(0), np.asarray(st.m.sum()))
        n_codes = len(data.codes)
        reps, code_reps = np.empty((self.n_boot, len(MEASURES))), np.empty((self.n_boot, n_codes))
        done = 0
        for w in _weights(np.random.default_rng(self.seed), self.n_boot, st.items.size):
            b = slice(done, done + len(w))
            reps[b] = _overall(w @ st.sums, st.masi_q(w), st.fleiss_n)
            code_reps[b] = _code_alpha(w @ st.obs, w @ st.n1, w @ st.m)
            done += len(w)
        self._data, self._stats = data, st
        self.items_, self.coders_, self.codes_ = list(data.items), list(data.coders), list(data.codes)
        self.overall_ = self._overall_frame(point, reps)
        self.bootstrap_ = pd.DataFrame(reps, columns=list(MEASURES))
        self.per_code_ = self._per_code_frame(code_alpha, code_reps)
        self.disagreements_ = self._disagreements()
        log.debug("agreement: %d items, %d coders, %d codes, %d replicates",
                  len(data.items), len(data.coders), n_codes, self.n_boot)
        return self

    def _overall_frame(self, point: np.ndarray, reps: np.ndarray) -> pd.DataFrame:
        data, st = self._data, self._stats
        low, high, undefined = _interval(reps, self.level)
        used = {m: np.ones(st.items.size, bool) for m in MEASURES}
        used["fleiss_kappa"] = st.modal
        notes = {m: [] for m in MEASURES}
        single = len(data.items) - st.items.size
        if single:
            for m in MEASURES:
                notes[m].append(f"{single} item(s) with a single coder ignored")
        if len(data.coders) != 2:
            used["cohen_kappa"] = np.zeros(st.items.size, bool)
            notes["cohen_kappa"].append(f"needs exactly two coders, not {len(data.coders)}: see fleiss_kappa "
                                        "and krippendorff_alpha")
        left_out = int((~st.modal).sum())
        if left_out:
            notes["fleiss_kappa"].append(f"{left_out} item(s) not coded by the modal number of coders "
                                         f"({st.fleiss_n}) left out")
        if not data.codes:
            for m in MEASURES[:4]:
                notes[m].append("no codes")
        coder_sets = np.zeros((len(data.items), len(data.coders)), bool)
        coder_sets[data.ann_item, data.ann_coder] = True
        rows = []
        for j, measure in enumerate(MEASURES):
            inapplicable = measure == "cohen_kappa" and len(data.coders) != 2
            if np.isnan(point[j]) and not inapplicable and (data.codes or measure == "masi_alpha"):
                notes[measure].append("undefined: the data holds one value only (0/0)")
            if self.n_boot and undefined[j] and not np.isnan(point[j]):
                notes[measure].append(f"undefined in {undefined[j]} of {self.n_boot} bootstrap replicates (dropped)")
            items = st.items[used[measure]]
            rows.append({"measure": measure, "value": point[j], "ci_low": low[j], "ci_high": high[j],
                         "n_items": int(items.size), "n_coders": int(coder_sets[items].any(0).sum()),
                         "note": "; ".join(notes[measure])})
        return pd.DataFrame(rows, columns=["measure", "value", "ci_low", "ci_high", "n_items", "n_coders", "note"])

    def _per_code_frame(self, alpha: np.ndarray, reps: np.ndarray) -> pd.DataFrame:
        data, st = self._data, self._stats
        low, high, undefined = _interval(reps, self.level)
        n1, m = st.n1, st.m[:, None]
        total1, total0 = n1.sum(0), (m - n1).sum(0)
        positive = _div((n1 * (n1 - 1)).sum(0), (n1 * (m - 1)).sum(0))
        if st.cohen is not None:
            c = st.cohen.sum(0)  # (K, 4)
            total = c.sum(1)
            a1, b1 = c[:, 0] + c[:, 1], c[:, 0] + c[:, 2]
            chance = a1 * b1 + (total - a1) * (total - b1)
            cohen = _div(total * (c[:, 0] + c[:, 3]) - chance, total ** 2 - chance)
        else:
            cohen = np.full(len(data.codes), np.nan)
        n, f1 = st.fleiss_n, n1[st.modal].sum(0)
        cells = st.modal.sum() * n
        f0 = cells - f1
        p_bar = ((n1 ** 2 + (m - n1) ** 2 - n) / (n * (n - 1)))[st.modal].mean(0)
        p_e = (f1 ** 2 + f0 ** 2) / cells ** 2
        fleiss = _div((p_bar - p_e) * cells ** 2, 2 * f1 * f0)
        notes = []
        for k in range(len(data.codes)):
            note = []
            if total1[k] == 0:
                note.append("never applied on items with two or more coders: kappa and alpha undefined")
            elif total0[k] == 0:
                note.append("applied in every annotation of items with two or more coders: kappa and alpha "
                            "undefined")
            elif np.isnan(fleiss[k]):
                note.append(f"fleiss_kappa undefined on the items with {n} coders")
            if self.n_boot and undefined[k] and not np.isnan(alpha[k]):
                note.append(f"alpha undefined in {undefined[k]} of {self.n_boot} bootstrap replicates (dropped)")
            notes.append("; ".join(note))
        return pd.DataFrame({
            "code": data.codes, "prevalence": data.bits.mean(0),
            "percent_agreement": st.pa.mean(0), "positive_agreement": positive, "cohen_kappa": cohen,
            "fleiss_kappa": fleiss, "krippendorff_alpha": alpha, "ci_low": low, "ci_high": high,
            "n_items": int(st.items.size), "note": notes,
        })

    def _disagreements(self) -> pd.DataFrame:
        data = self._data
        columns = ["item", "code", "coders_with", "coders_without", "n_with", "n_without"]
        n1, m = data.n_with, data.n_coders[:, None]
        ii, kk = np.nonzero((n1 > 0) & (n1 < m))
        if ii.size == 0:
            return pd.DataFrame(columns=columns)
        coders = np.asarray(data.coders, dtype=object)
        by_item: dict[int, list[int]] = {}
        for i, c in sorted(zip(data.ann_item.tolist(), data.ann_coder.tolist())):
            by_item.setdefault(i, []).append(c)
        where = {(i, c): a for a, (i, c) in enumerate(zip(data.ann_item.tolist(), data.ann_coder.tolist()))}
        rows = []
        for i, k in zip(ii.tolist(), kk.tolist()):
            with_ = [c for c in by_item[i] if data.bits[where[i, c], k]]
            without = [c for c in by_item[i] if not data.bits[where[i, c], k]]
            rows.append((data.items[i], data.codes[k], coders[with_].tolist(), coders[without].tolist(),
                         len(with_), len(without)))
        return pd.DataFrame(rows, columns=columns)

    def consensus(self, rule: str = "majority", min_share: float = 0.5) -> pd.DataFrame:
        """The codes each item gets by the consensus rule (:mod:`forumkit.coding.consensus`), over all coders
        given to :meth:`fit`.

        ``rule``: ``"majority"`` (strictly more than ``min_share`` of the item's coders; 1 of 2 is a tie, not a
        majority; a single coder's codes are 1/1), ``"unanimous"`` (``min_share`` is ignored), or a coder's
        name (the adjudicator: that coder's codes on the items they annotated, the majority rule elsewhere).
        The keywords win over a coder named ``majority`` or ``unanimous``.

        Columns: item, code, n_with (coders who applied it), n_coders (coders of the item), share, source
        (majority, unanimous or adjudicator: which rule chose the row). n_with and n_coders count every
        coder, the adjudicator included.
        """
        if not hasattr(self, "_data"):
            raise UsageError("consensus() needs a fitted Agreement", hint="call fit() first")
        data = self._data
        n1, m = data.n_with, data.n_coders[:, None]
        if rule in ("majority", "unanimous"):
            keep, source = consensus_rule(n1, m, rule=rule, min_share=min_share)
        elif str(rule) in data.coders:
            mine = np.flatnonzero(data.ann_coder == data.coders.index(str(rule)))
            judged = np.zeros((len(data.items), 1), dtype=bool)
            judged[data.ann_item[mine]] = True
            by_judge = np.zeros(n1.shape, dtype=bool)
            by_judge[data.ann_item[mine]] = data.bits[mine]
            keep, source = consensus_rule(n1, m, rule="adjudicator", min_share=min_share, judged=judged,
                                          by_judge=by_judge)
        else:
            raise UsageError(f"unknown consensus rule {rule!r}",
                             hint=f"use majority, unanimous or a coder: {', '.join(data.coders)}")
        share = n1 / m
        ii, kk = np.nonzero(keep)
        return pd.DataFrame({
            "item": [data.items[i] for i in ii],
            "code": [data.codes[k] for k in kk], "n_with": n1[ii, kk].astype(int),
            "n_coders": data.n_coders[ii].astype(int), "share": share[ii, kk], "source": source[ii, kk],
        })
