"""forumkit.analysis.paper against the SANER 2024 replication package (Taraghi et al.), and the notebook that charts it.

The package's own columns (``sum``, ``cumulative sum``, ``Cumulative ratio``, ``card_ratio``) are the
expected answers: they are read here with plain pandas, independently of forumkit.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from nbclient import NotebookClient

from forumkit.errors import UsageError
from forumkit.analysis.paper import (cumulative_share, monthly_uploads, open_codes_by_tag, plot_card_ratio, plot_codes_by_tag,
                            plot_monthly_uploads, read_card_ratio, read_model_types, read_open_codes)

from .conftest import needs_saner2024

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "saner2024"
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "saner2024_figures.ipynb"
TYPES = SHARED / "Hub_Model_Types_Over_Time_Created.csv"
CARDS = SHARED / "card_data_stats_months_created.csv"
CODES = SHARED / "All_Codes.csv"

pytestmark = needs_saner2024  # these tests read its published tables


@pytest.fixture(scope="module")
def raw_types() -> pd.DataFrame:
    """The file as plain pandas reads it: 171 type rows, an empty row, a SUM row."""
    return pd.read_csv(TYPES)


@pytest.fixture(scope="module")
def types() -> pd.DataFrame:
    return read_model_types(TYPES)


def _months(raw: pd.DataFrame) -> list[str]:
    return [c for c in raw.columns if c[:2] == "20"]


def _body(raw: pd.DataFrame) -> pd.DataFrame:
    return raw[raw.iloc[:, 0].notna() & (raw.iloc[:, 0] != "SUM")]


def _one_line_error(path: Path, reader) -> str:
    with pytest.raises(UsageError) as info:
        reader(path)
    line = info.value.one_line()
    assert "\n" not in line and path.name in line
    return line


# ---------------------------------------------------------------- model types

def test_model_types_long_frame(types, raw_types):
    body = _body(raw_types)
    assert list(types.columns) == ["month", "model_type", "models"]
    assert types["month"].dtype == pd.PeriodDtype("M")
    assert types["models"].dtype == "int64" and (types["models"] >= 0).all()
    assert types["model_type"].nunique() == len(body) == 171
    assert types["month"].nunique() == len(_months(raw_types)) == 54  # the file's months, zeros kept
    assert len(types) == 171 * 54
    # pivots back to the file's grid (blank = 0)
    grid = types.pivot(index="model_type", columns="month", values="models")
    expected = body.set_index(body.columns[0])[_months(raw_types)].fillna(0).astype("int64")
    grid.columns = grid.columns.astype(str)
    pd.testing.assert_frame_equal(grid.loc[expected.index, expected.columns], expected, check_names=False)


def test_row_sums_equal_the_sum_column(types, raw_types):
    body = _body(raw_types)
    ours = types.groupby("model_type", sort=False)["models"].sum()
    assert list(ours.index) == list(body.iloc[:, 0])
    assert ours.to_numpy().tolist() == body["sum"].astype("int64").tolist()
    # per month, the types add up to the file's SUM row
    per_month = types.groupby(types["month"].astype(str))["models"].sum()
    sum_row = raw_types[raw_types.iloc[:, 0] == "SUM"].iloc[0]
    assert per_month.tolist() == sum_row[_months(raw_types)].astype("int64").tolist()


def test_total_models_observed_fact(types):
    """The model-types table covers 103,047 models; the paper's Hub data had 239,422.

    Observed, not invented: the package's table counts only the models it could give a model type
    (43 % of the paper's 239,422); the model-card table counts 213,793 models created 2019-12..2023-05.
    """
    total = int(types["models"].sum())
    assert total == 103_047
    assert total < 239_422 and round(total / 239_422, 3) == 0.430
    assert int(read_card_ratio(CARDS)["count"].sum()) == 213_793


def test_cumulative_share_reproduces_the_file(types, raw_types):
    body = _body(raw_types)
    share = cumulative_share(types)
    assert list(share.columns) == ["model_type", "models", "cumulative_models", "cumulative_ratio"]
    assert share["model_type"].tolist() == body.iloc[:, 0].tolist()  # ties (e.g. layoutlm/videomae, 149) in file order
    assert share["cumulative_models"].tolist() == body["cumulative sum"].astype("int64").tolist()
    # the file writes the ratio with 10 decimals: at most 5e-11 away from the exact value
    assert np.abs(share["cumulative_ratio"].to_numpy() - body["Cumulative ratio"].to_numpy()).max() <= 5e-11 + 1e-15
    assert share["cumulative_ratio"].iloc[-1] == 1.0
    assert share.loc[0, ["model_type", "models"]].tolist() == ["bert", 23_651]
    assert round(share.loc[0, "cumulative_ratio"], 4) == 0.2295  # bert alone: 23 % of all typed models
    # 12 types cover 80 % of the models
    assert int((share["cumulative_ratio"] < 0.8).sum()) + 1 == 12


def test_monthly_uploads_complete_calendar(types, raw_types):
    uploads = monthly_uploads(types, top=8)
    assert isinstance(uploads.index, pd.PeriodIndex) and uploads.index.name == "month"
    assert uploads.index.equals(pd.period_range("2017-09", "2023-06", freq="M", name="month"))  # 70 months
    assert list(uploads.columns) == ["bert", "gpt2", "distilbert", "roberta", "t5", "wav2vec2", "xlm-roberta",
                                     "bart", "other", "total"]
    # months the file skips are present as zeros
    skipped = sorted(set(uploads.index.astype(str)) - set(_months(raw_types)))
    assert len(skipped) == 16 and "2018-01" in skipped
    assert (uploads.loc[pd.Period("2018-01", "M")] == 0).all()
    assert (uploads.loc["2017-10":"2018-10", "total"] == 0).all()
    assert (uploads.drop(columns="total").sum(axis=1) == uploads["total"]).all()
    assert int(uploads["total"].sum()) == 103_047
    sum_row = raw_types[raw_types.iloc[:, 0] == "SUM"].iloc[0]
    in_file = uploads.loc[[pd.Period(m, "M") for m in _months(raw_types)], "total"]
    assert in_file.tolist() == sum_row[_months(raw_types)].astype("int64").tolist()


def test_monthly_uploads_edges(types):
    assert list(monthly_uploads(types, top=0).columns) == ["other", "total"]
    everything = monthly_uploads(types, top=500)
    assert (everything["other"] == 0).all() and len(everything.columns) == 171 + 2
    as_timestamps = types.assign(month=types["month"].dt.to_timestamp())
    pd.testing.assert_frame_equal(monthly_uploads(as_timestamps, top=3), monthly_uploads(types, top=3))
    for bad in (-1, 2.5, "10", True):
        with pytest.raises(UsageError, match="top must be"):
            monthly_uploads(types, top=bad)
    with pytest.raises(UsageError, match="lacks the column"):
        monthly_uploads(types.rename(columns={"models": "n"}))


# ---------------------------------------------------------------- broken copies

@pytest.fixture
def broken(tmp_path):
    """Write a modified copy of the model-types file; returns its path."""
    def write(change) -> Path:
        frame = pd.read_csv(TYPES, dtype=str, keep_default_na=False)
        frame = change(frame)
        path = tmp_path / TYPES.name
        frame.to_csv(path, index=False)
        return path
    return write


def test_month_columns_removed_is_one_clear_error(broken, raw_types):
    path = broken(lambda f: f.drop(columns=_months(raw_types)))
    line = _one_line_error(path, read_model_types)
    assert line.startswith("Hub_Model_Types_Over_Time_Created.csv: has no month (YYYY-MM) columns")
    assert "expected the package's" in line


def _set(frame: pd.DataFrame, row: int, column: str, value: str) -> pd.DataFrame:
    frame.loc[row, column] = value
    return frame


@pytest.mark.parametrize("change, message", [
    (lambda f: _set(f, 0, "2017-09", "2"), "the months of 'bert' add up to 23652, its 'sum' column says 23651"),
    (lambda f: _set(f, 1, "2019-02", "x"), "model type gpt2, column '2019-02': 'x' is not a count"),
    (lambda f: _set(f, 2, "2019-08", "-2"), "'-2' is not a count"),
    (lambda f: _set(f, 3, f.columns[0], "bert"), "model type 'bert' appears twice"),
    (lambda f: _set(f, 172, "2023-06", "7650"), "its SUM row gives 7650 models for 2023-06"),
    (lambda f: f.drop(columns=["cumulative sum"]), "the last columns are"),
    (lambda f: f.rename(columns={"2020-01": "Jan 2020"}), "column 'Jan 2020' is not a month"),
    (lambda f: f[[f.columns[1], f.columns[0], *f.columns[2:]]], "the first column is the month '2017-09'"),
])
def test_broken_model_types(broken, change, message):
    assert message in _one_line_error(broken(change), read_model_types)


def test_missing_and_unreadable_files(tmp_path):
    assert "no such file" in _one_line_error(tmp_path / "nothing.csv", read_model_types)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "cannot be read as CSV" in _one_line_error(empty, read_card_ratio)


# ---------------------------------------------------------------- model cards

def test_card_ratio_reproduced():
    raw = pd.read_csv(CARDS)
    cards = read_card_ratio(CARDS)
    assert list(cards.columns) == ["month", "has_card", "count", "card_ratio"]
    assert cards["month"].astype(str).tolist() == raw["month_year"].tolist()
    assert cards["month"].tolist() == list(pd.period_range("2019-12", "2023-05", freq="M"))  # no gaps
    np.testing.assert_allclose(cards["card_ratio"], cards["has_card"] / cards["count"], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(cards["card_ratio"], raw["card_ratio"])
    assert (int(cards["has_card"].sum()), int(cards["count"].sum())) == (112_568, 213_793)
    peak = cards.loc[cards["card_ratio"].idxmax()]
    assert (str(peak["month"]), peak["has_card"], peak["count"]) == ("2020-04", 941, 994)


@pytest.mark.parametrize("column, value, message", [
    ("card_ratio", "0.77", "card_ratio of 2019-12 is 0.77, but has_card / count is 0.7619047619"),
    ("has_card", "50", "2019-12 has more models with a card than models"),
    ("month_year", "Dec 2019", "month_year 'Dec 2019' is not a month"),
])
def test_broken_card_ratio(tmp_path, column, value, message):
    frame = pd.read_csv(CARDS, dtype=str, keep_default_na=False)
    frame.loc[0, column] = value
    path = tmp_path / CARDS.name
    frame.to_csv(path, index=False)
    assert message in _one_line_error(path, read_card_ratio)


# ---------------------------------------------------------------- open codes

def test_open_codes_by_tag_merges_spellings():
    by_tag = open_codes_by_tag(CODES)
    raw = pd.read_csv(CODES)
    assert raw["Tag"].nunique() == 29 and len(by_tag) == 24
    assert int(by_tag["codes"].sum()) == len(raw) == 1_183
    assert int(by_tag["topics"].sum()) == raw["Topic#"].nunique() == 455  # each topic has one tag
    merged = {row.tag: set(row.spellings) for row in by_tag.itertuples() if len(row.spellings) > 1}
    assert merged == {
        "Beginners": {"Beginners", "beginners"},
        "Datasets": {"Datasets", "datasets"},
        "Community Calls": {"Community Calls", "Community calls"},
        "Amazon Sagemaker": {"Amazon Sagemaker", "Amazon SageMaker"},
        "Flax/JAX projects": {"Flax/JAX projects", "Flax/JAX Projects"},  # 7 + 7: the first seen wins
    }
    top = by_tag.set_index("tag").loc[["Beginners", "Transformers", "Datasets"], ["topics", "codes"]]
    assert top.to_numpy().tolist() == [[158, 380], [98, 222], [31, 100]]
    assert by_tag.set_index("tag").loc["Flax/JAX projects", "codes"] == 14
    # differ by a space, not by case: apart unless renamed
    assert {"Languages at HuggingFace", "Languages at Hugging Face"} <= set(by_tag["tag"])
    renamed = open_codes_by_tag(CODES, renames={"Languages at Hugging Face": "Languages at HuggingFace"})
    languages = renamed.set_index("tag").loc["Languages at HuggingFace"]
    assert len(renamed) == 23 and (languages["topics"], languages["codes"]) == (2, 18)
    assert by_tag["codes"].is_monotonic_decreasing


def test_read_open_codes_rows_and_errors(tmp_path):
    codes = read_open_codes(CODES)
    assert list(codes.columns) == ["topic", "raw_tag", "tag", "code"]
    assert len(codes) == 1_183 and codes["topic"].dtype == "int64"
    assert (codes.loc[codes["raw_tag"] == "beginners", "tag"] == "Beginners").all()
    frame = pd.read_csv(CODES, dtype=str, keep_default_na=False)
    path = tmp_path / CODES.name
    frame.drop(columns=["Tag"]).to_csv(path, index=False)
    assert "lacks the column(s) Tag" in _one_line_error(path, read_open_codes)
    frame.loc[4, "Topic#"] = "T120"
    frame.to_csv(path, index=False)
    assert "data row 5: Topic# 'T120' is not a topic id" in _one_line_error(path, read_open_codes)


# ---------------------------------------------------------------- figures

def test_figures_render(tmp_path, types):
    figures = {
        "uploads": plot_monthly_uploads(monthly_uploads(types, top=8)),
        "cards": plot_card_ratio(read_card_ratio(CARDS)),
        "tags": plot_codes_by_tag(open_codes_by_tag(CODES), top=12),
    }
    for name, fig in figures.items():
        assert isinstance(fig, Figure)
        path = tmp_path / f"{name}.png"
        fig.savefig(path, dpi=60)
        assert path.stat().st_size > 5_000
    uploads_ax = figures["uploads"].axes[0]
    assert len(uploads_ax.collections) == 9  # 8 types + other, stacked
    assert [t.get_text() for t in uploads_ax.get_legend().get_texts()][0] == "other"
    share_ax, count_ax = figures["cards"].axes
    assert share_ax.get_ylabel() == "share with a model card" and count_ax.get_ylabel() == "models created per month"
    assert len(figures["tags"].axes[0].patches) == 12
    assert figures["tags"].axes[0].get_yticklabels()[-1].get_text() == "Beginners"  # largest on top


def test_figures_draw_into_given_axes(types):
    fig = Figure(figsize=(15, 4))
    axes = fig.subplots(1, 3)
    assert plot_monthly_uploads(monthly_uploads(types), ax=axes[0]) is fig
    assert plot_card_ratio(read_card_ratio(CARDS), ax=axes[1]) is fig
    assert plot_codes_by_tag(open_codes_by_tag(CODES), ax=axes[2]) is fig
    assert len(fig.axes) == 4  # the card chart's secondary axis
    with pytest.raises(UsageError, match="by_tag lacks the column"):
        plot_codes_by_tag(pd.DataFrame({"tag": ["a"]}))


# ---------------------------------------------------------------- notebook

def test_notebook_is_stored_without_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    first = "".join(code[0]["source"])
    assert 'DATA = Path("../../shared/data/saner2024")' in first and "FORUMKIT_SAMPLE_DATA" in first


def test_notebook_default_data_path_resolves_from_its_folder(monkeypatch):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    monkeypatch.chdir(NOTEBOOK.parent)
    monkeypatch.delenv("FORUMKIT_SAMPLE_DATA", raising=False)
    scope: dict = {}
    exec(first.source, scope)
    assert scope["DATA"].resolve() == SHARED.resolve()  # shared/ may be a link beside the checkout


# Every number the notebook's table of findings states, as its last cell computes them (a change in the data, the
# readers or the prose shows up here).
FINDINGS = {
    "bert models": "23,651", "all models": "103,047", "bert share": "23.0 %", "largest type": "bert",
    "years bert does not lead": {"2020": "marian", "2021": "gpt2"},
    "distilbert, roberta, xlm-roberta: among the largest": 7, "whisper from": "2022-09", "llama from": "2023-03",
    "other 2021": "15.3 %", "other 2023": "34.0 %", "card months": "2019-12 to 2023-05",
    "card share 2019": "76.2 %", "card share 2020": "64.5 %", "card share 2021": "46.6 %", "card share 2022": "52.7 %",
    "card share 2023": "53.2 %", "models 2019": "42", "models 2020": "4,473", "models 2021": "19,155",
    "models 2022": "81,157", "models 2023": "108,966", "card share 2020, lowest month": "24.6 %",
    "card share 2020, highest month": "94.7 %", "tags with the most codes": ["Beginners", "Transformers", "Datasets"],
    "their codes": ["380", "222", "100"], "their topics": ["158", "98", "31"], "all codes": "1,183",
    "all topics": "455", "tag with the most topics": "Beginners",
}
NUMBER = re.compile(r"\d{4}-\d{2}|\d+(?:[.,]\d+)*")


def _findings_prose(nb) -> str:
    """The 'what to look for in this data' column of the findings table."""
    table = next(c.source for c in nb.cells if c.cell_type == "markdown" and "what to look for" in c.source)
    return "\n".join(row.split(" | ")[-1] for row in table.splitlines() if row.startswith("| **"))


def _pieces(value) -> list[str]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in (str(k), *_pieces(v))]
    if isinstance(value, list):
        return [p for v in value for p in _pieces(v)]
    return [str(value)]


@pytest.mark.slow
def test_notebook_executes_and_computes_every_number_it_states(monkeypatch):
    monkeypatch.setenv("FORUMKIT_SAMPLE_DATA", str(SHARED))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import json\nprint('FINDINGS ' + json.dumps(findings))"))
    client = NotebookClient(nb, kernel_name="python3", timeout=120,
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # the kernel's working directory is resources' metadata path: notebooks/
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert any("103,047 models of 171 types" in o.get("text", "") for o in outputs)
    printed = next(o["text"] for o in outputs if o.get("text", "").startswith("FINDINGS "))
    findings = json.loads(printed.removeprefix("FINDINGS "))
    assert findings == FINDINGS
    prose = _findings_prose(nb)
    stated = {p for k, v in findings.items() for p in _pieces(v)}
    assert not [p for p in stated if p not in prose], "the notebook computes a number its findings do not state"
    computed = {n for p in _pieces(findings) for n in NUMBER.findall(p)} | {"8"}  # 8: the uploads cell's top=8
    assert sorted(set(NUMBER.findall(prose)) - computed) == [], "the findings state a number no cell computes"
