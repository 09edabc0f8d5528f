"""Hub trends: exact counts, shares and Wilson intervals on hand-built rows, family inference, the SANER 2024
tables reproduced from per-model rows, the forum beside the Hub on a scraped fake forum, the CLI once."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from forumkit.analysis import hubtrends as ht
from forumkit.analysis.activity import mentions_by_period
from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import CrawlOptions, Crawler
from forumkit.collect.hub.records import PLACEHOLDER_CREATED_AT, is_placeholder
from forumkit.dates import parse_iso
from forumkit.errors import StoreError, UsageError
from forumkit.fakes.discourse import FakeDiscourse, generate_forum
from forumkit.store import Store
from forumkit.analysis.trends import trend_table

from .conftest import cli, needs_saner2024

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "saner2024"
HUB = "https://huggingface.co"
DEFAULTS = dict(endpoint=HUB, author=None, created_at=None, created_known=1, last_modified=None, pipeline_tag=None,
                library_name=None, model_type=None, base_models="[]", tags="[]", downloads=0, likes=0, has_card=0,
                card_data=None, license=None, languages="[]", datasets="[]", has_metrics=0, has_model_index=0,
                fetched_at="2024-01-01T00:00:00.000Z")


def model(id: str, created: str | None = None, **fields) -> dict:
    """One hub_models row; ``created`` 'YYYY-MM-DD' (None: no date, created_known 0)."""
    row = {**DEFAULTS, "id": id, **fields}
    if created is not None:
        row["created_at"] = f"{created}T12:00:00.000Z"
    if row["created_at"] is None or row["created_at"] == ht.PLACEHOLDER_CREATED:
        row["created_known"] = 0
    return row


def insert(store: Store, rows: list[dict]) -> None:
    columns = list(DEFAULTS) + ["id"]
    with store.transaction():
        store.db.executemany(f"INSERT INTO hub_models ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                             [tuple(r[c] for c in columns) for r in rows])


# The hand-built Hub (2022; "—" = nothing; pipeline tag fill-mask on b1, b2; metrics on b1, g2):
# | id  | created     | model_type | tags / base models           | card | license | datasets | languages | index |
# | b1  | 01-05       | bert       |                              | 1    | mit     | [d]      | [en]      | 1     |
# | b2  | 01-20       | bert       |                              | 1    | —       | []       | [en]      | 0     |
# | g1  | 01-31       | gpt2       |                              | 0    | —       | []       | []        | 0     |
# | b3  | 03-02       | bert       |                              | 0    | apache  | []       | []        | 0     |
# | t1  | 03-10       | —          | [pytorch, t5] / t5-small     | 1    | —       | [d, e]   | []        | 0     |
# | x1  | 03-11       | —          | — (family unknown)           | 0    | —       | []       | []        | 0     |
# | g2  | 04-01       | gpt2       |                              | 1    | mit     | []       | []        | 1     |
# | old | placeholder | bert       |                              | 1    | —       | []       | []        | 0     |
# | nod | none        | t5         |                              | 0    | —       | []       | []        | 0     |
# February has no model: a gap in the calendar. old and nod have no known creation date.
HAND = [
    model("o/b1", "2022-01-05", model_type="bert", has_card=1, license="mit", datasets='["d"]', languages='["en"]',
          has_model_index=1, has_metrics=1, pipeline_tag="fill-mask"),
    model("o/b2", "2022-01-20", model_type="bert", has_card=1, languages='["en"]', pipeline_tag="fill-mask"),
    model("o/g1", "2022-01-31", model_type="gpt2"),
    model("o/b3", "2022-03-02", model_type="bert", license="apache-2.0"),
    model("o/t1", "2022-03-10", tags='["pytorch", "t5"]', has_card=1, datasets='["d", "e"]',
          base_models='["google/t5-small"]'),
    model("o/x1", "2022-03-11"),
    model("o/g2", "2022-04-01", model_type="gpt2", has_card=1, license="mit", has_model_index=1, has_metrics=1),
    model("o/old", None, created_at=ht.PLACEHOLDER_CREATED, model_type="bert", has_card=1),
    model("o/nod", None, model_type="t5"),
]
MONTHS = ["2022-01", "2022-02", "2022-03", "2022-04"]


@pytest.fixture
def hand() -> pd.DataFrame:
    return pd.DataFrame(HAND)


def _cells(frame: pd.DataFrame, key: str, value: str) -> dict:
    return {(r[key], r["period"]): r[value] for _, r in frame.iterrows()}


# -- uploads ----------------------------------------------------------------------------------------------------

def test_uploads_by_type_exact_and_calendar_complete(hand):
    uploads = ht.uploads_by_type(hand, top=1)
    assert list(uploads.columns) == ["period", "period_start", "model_type", "models", "share", "cumulative"]
    # bert (2 + 1 dated) beats gpt2 (2) for the one place; t5 and gpt2 are "other"; x1 is "unknown"
    assert list(pd.unique(uploads["model_type"])) == ["bert", "other", "unknown"]
    assert uploads["period"].tolist() == MONTHS * 3
    assert uploads["period_start"].tolist() == [pd.Timestamp(m + "-01", tz="UTC") for m in MONTHS] * 3
    models = _cells(uploads, "model_type", "models")
    assert [models["bert", m] for m in MONTHS] == [2, 0, 1, 0]
    assert [models["other", m] for m in MONTHS] == [1, 0, 1, 1]
    assert [models["unknown", m] for m in MONTHS] == [0, 0, 1, 0]
    cumulative = _cells(uploads, "model_type", "cumulative")
    assert [cumulative["bert", m] for m in MONTHS] == [2, 2, 3, 3]
    share = _cells(uploads, "model_type", "share")
    assert share["bert", "2022-01"] == pytest.approx(2 / 3) and share["other", "2022-03"] == pytest.approx(1 / 3)
    assert np.isnan(share["bert", "2022-02"])  # a month without models has no share
    assert share["other", "2022-04"] == 1.0
    assert uploads.attrs["undated"] == 2


def test_uploads_top_none_lists_every_type_ties_by_name(hand):
    uploads = ht.uploads_by_type(hand, top=None, period="quarter")
    assert list(pd.unique(uploads["model_type"])) == ["bert", "gpt2", "t5", "unknown"]
    assert _cells(uploads, "model_type", "models") == {
        ("bert", "2022-Q1"): 3, ("bert", "2022-Q2"): 0, ("gpt2", "2022-Q1"): 1, ("gpt2", "2022-Q2"): 1,
        ("t5", "2022-Q1"): 1, ("t5", "2022-Q2"): 0, ("unknown", "2022-Q1"): 1, ("unknown", "2022-Q2"): 0}


def test_unknown_dates_excluded_and_counted(hand):
    coverage = ht.date_coverage(hand)
    assert coverage[["status", "models"]].values.tolist() == [["known", 7], ["placeholder", 1], ["missing", 1]]
    assert coverage["share"].sum() == pytest.approx(1.0)
    with_placeholder = ht.uploads_by_type(hand, top=None, include_unknown_dates=True)
    assert with_placeholder.attrs["undated"] == 1  # the model without any date
    models = _cells(with_placeholder, "model_type", "models")
    assert models["bert", "2022-03"] == 2  # the placeholder 2022-03-02 counts in March
    assert ht.documentation_by_period(hand).attrs["undated"] == 2
    # created_known is worked out from created_at when a frame lacks it
    assert ht.date_coverage(hand.drop(columns="created_known"))["models"].tolist() == [7, 1, 1]


def test_placeholder_date_is_the_collectors_rule():
    # one definition: the collector's is_placeholder, any time in the placeholder's minute
    stamps = [ht.PLACEHOLDER_CREATED, "2022-03-02T23:29:59.999Z", "2022-03-02T23:29:03.999Z",
              "2022-03-02T23:30:00.000Z", None]
    rows = pd.DataFrame({"id": [f"m{i}" for i in range(len(stamps))], "created_at": stamps})
    coverage = ht.date_coverage(rows).set_index("status")["models"].to_dict()
    assert coverage == {"known": 2, "placeholder": 2, "missing": 1}
    verdicts = [is_placeholder(parse_iso(s) if s else None) for s in stamps]
    assert verdicts == [True, True, False, False, True]
    assert ht.PLACEHOLDER_CREATED == PLACEHOLDER_CREATED_AT and is_placeholder(parse_iso(PLACEHOLDER_CREATED_AT))


def test_bad_period_and_top(hand):
    with pytest.raises(UsageError, match="unknown period"):
        ht.uploads_by_type(hand, period="week")
    with pytest.raises(UsageError, match="not a positive number"):
        ht.uploads_by_type(hand, top=0)


# -- documentation ----------------------------------------------------------------------------------------------

def test_documentation_by_period_exact_with_wilson_intervals(hand):
    docs = ht.documentation_by_period(hand, confidence=0.9)
    assert list(docs.columns) == ["period", "period_start", "attribute", "n", "models", "share", "ci_low", "ci_high"]
    assert list(pd.unique(docs["attribute"])) == list(ht.ATTRIBUTES)
    assert len(docs) == len(ht.ATTRIBUTES) * len(MONTHS)
    n = _cells(docs, "attribute", "n")
    expected = {"card": [2, 0, 1, 1], "license": [1, 0, 1, 1], "datasets": [1, 0, 1, 0], "language": [2, 0, 0, 0],
                "base_model": [0, 0, 1, 0], "pipeline_tag": [2, 0, 0, 0], "metrics": [1, 0, 0, 1],
                "model_index": [1, 0, 0, 1]}
    assert {a: [n[a, m] for m in MONTHS] for a in expected} == expected
    assert docs.groupby("period")["models"].first().tolist() == [3, 0, 3, 1]
    for row in docs.itertuples():
        if row.models:
            low, high = proportion_confint(row.n, row.models, alpha=0.1, method="wilson")
            assert row.share == row.n / row.models
            assert (row.ci_low, row.ci_high) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))
        else:
            assert np.isnan(row.share) and (row.ci_low, row.ci_high) == (0.0, 1.0)


def test_documentation_reports_only_the_attributes_the_rows_have(hand):
    docs = ht.documentation_by_period(hand[["created_at", "has_card", "license"]])
    assert list(pd.unique(docs["attribute"])) == ["card", "license"]


def test_missing_attributes_overall(hand):
    table = ht.missing_attributes(hand).set_index("attribute")
    assert table.loc["card", ["models", "present", "missing"]].tolist() == [9, 5, 4]
    assert table.loc["license", "present"] == 3 and table.loc["datasets", "present"] == 2
    assert table.loc["card", "share_missing"] == pytest.approx(4 / 9)
    low, high = proportion_confint(5, 9, method="wilson")
    assert table.loc["card", "ci_low"] == pytest.approx(low) and table.loc["card", "ci_high"] == pytest.approx(high)


def test_hub_trend_tests_are_trend_table_on_each_series(hand):
    uploads, docs = ht.uploads_by_type(hand, top=None), ht.documentation_by_period(hand)
    tests = ht.hub_trend_tests(uploads, docs, alpha=0.1)
    assert tests["table"].tolist() == ["uploads"] * 4 + ["documentation"] * len(ht.ATTRIBUTES)
    expected = trend_table(docs, series="attribute", value="share", time="period_start", alpha=0.1)
    got = tests[tests["table"] == "documentation"].drop(columns=["table", "value"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)


# -- families ---------------------------------------------------------------------------------------------------

def test_family_precedence():
    rows = pd.DataFrame([
        model("a/type", model_type="bert", tags='["gpt2"]', base_models='["openai/whisper-large"]'),  # type wins
        model("a/tag", model_type="", tags='["transformers", "gpt2", "t5"]'),  # first tag naming a type
        model("a/alias", tags='["llama-2"]'),  # a tag through the mapping
        model("a/sd", tags='["diffusers", "diffusers:StableDiffusionXLPipeline"]'),
        model("a/child", base_models='["a/type"]'),  # base model in the rows: its family
        model("a/grandchild", base_models='["a/child"]'),  # recursively
        model("a/named", base_models='["meta-llama/Llama-2-7b-hf"]'),  # base not in rows: name match
        model("a/noname", base_models='["a/x"]'),  # base in the rows without family: its name still counts
        model("a/x"),
        model("a/cycle1", base_models='["a/cycle2"]'),
        model("a/cycle2", base_models='["a/cycle1"]'),
        model("a/none", tags='["pytorch", "en", "license:mit"]'),
        model("a/arch", model_type="LlamaForCausalLM"),  # the mapping applies to model types too
        model("a/bases", base_models=["someone/nothing-known", "org/mistral-finetune"]),  # lists, not JSON
    ])
    family = ht.model_family(rows)
    assert family.tolist() == ["bert", "gpt2", "llama", "stable-diffusion", "bert", "bert", "llama", "unknown",
                               "unknown", "unknown", "unknown", "unknown", "llama", "mistral"]
    assert family.name == "model_type"


def test_family_mapping_file(tmp_path):
    path = tmp_path / "families.csv"
    path.write_text("# my families\npattern,family\n\nbert,encoder\nre:gpt.*,decoder\nLLAMA-2,llama\n")
    mapping = ht.load_mapping(path)
    rows = pd.DataFrame([model("a", model_type="bert"), model("b", model_type="gpt_neox"),
                         model("c", tags='["llama-2"]'), model("d", base_models='["x/roberta-base"]')])
    assert ht.model_family(rows, mapping).tolist() == ["encoder", "decoder", "llama", "roberta"]
    assert ht.model_family(rows, path).tolist() == ["encoder", "decoder", "llama", "roberta"]
    assert ht.uploads_by_type(pd.DataFrame([model("a", "2022-01-01", model_type="bert")]),
                              mapping=path)["model_type"].tolist() == ["encoder"]


@pytest.mark.parametrize("text, message", [
    ("family,pattern\nbert,x\n", "line 1: the header is 'family,pattern'"),
    ("pattern,family\nbert\n", "line 2: expected a pattern and a family"),
    ("pattern,family\nbert,x,y\n", "line 2: expected a pattern and a family"),
    ("# only comments\n", "has no header line"),
    ("pattern,family\nre:(unclosed,x\n", "line 2: '(unclosed' is not a regular expression"),
])
def test_mapping_file_errors(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(UsageError, match=message.replace("(", r"\(")) as caught:
        ht.load_mapping(path)
    assert "\n" not in caught.value.one_line() and "pattern,family" in caught.value.hint
    with pytest.raises(UsageError, match="cannot read model family mapping"):
        ht.load_mapping(tmp_path / "missing.csv")


def test_default_mapping_loads():
    mapping = ht.load_mapping()
    assert mapping.lookup("LlamaForCausalLM") == "llama" and mapping.lookup("GPT-NEOX") == "gpt_neox"
    assert mapping.lookup("stable-diffusion-v1-5") == "stable-diffusion" and mapping.lookup("bert") is None


# -- the store --------------------------------------------------------------------------------------------------

def test_model_rows_from_the_store(tmp_path):
    with Store(tmp_path / "hub.db") as store:
        assert ht.model_rows(store).empty and list(ht.model_rows(store).columns) == ht.ROW_COLUMNS
        insert(store, HAND)
        rows = ht.model_rows(store)
        assert rows["id"].tolist() == sorted(r["id"] for r in HAND)
        assert ht.uploads_by_type(rows, top=1).equals(ht.uploads_by_type(pd.DataFrame(HAND), top=1))
        insert(store, [model("m/x", "2022-01-01", endpoint="http://127.0.0.1:9")])
        with pytest.raises(UsageError, match="2 Hub endpoints"):
            ht.model_rows(store)
        assert len(ht.model_rows(store, "http://127.0.0.1:9/")) == 1
        with pytest.raises(StoreError, match="no models of http://elsewhere"):
            ht.model_rows(store, "http://elsewhere")


# -- the paper's tables -----------------------------------------------------------------------------------------

paper_data = needs_saner2024


@paper_data
def test_reproduces_the_papers_model_types_per_month():
    from forumkit.analysis.paper import monthly_uploads, read_model_types

    types = read_model_types(SHARED / "Hub_Model_Types_Over_Time_Created.csv")
    cells = types[types["models"] > 0]
    each = cells.index.repeat(cells["models"])  # one synthetic model per count, created mid-month
    rows = pd.DataFrame({"id": [f"m/{i}" for i in range(len(each))],
                         "created_at": cells.loc[each, "month"].dt.start_time.dt.strftime("%Y-%m-15T12:00:00.000Z")
                         .to_numpy(),
                         "created_known": 1, "model_type": cells.loc[each, "model_type"].to_numpy()})
    uploads = ht.uploads_by_type(rows, top=None)
    got = uploads.set_index(["model_type", "period"])["models"]
    expected = types.assign(period=types["month"].astype(str)).set_index(["model_type", "period"])["models"]
    assert len(got) == 171 * 70  # every calendar month 2017-09..2023-06
    assert got.reindex(expected.index).tolist() == expected.tolist()  # exact count per type and month
    assert got.drop(expected.index).eq(0).all()  # the months the file skips are zeros
    assert uploads.attrs["undated"] == 0
    # the paper's top-10 upload chart, other included
    top10 = ht.uploads_by_type(rows, top=10).pivot(index="period", columns="model_type", values="models")
    paper = monthly_uploads(types, top=10)
    assert list(pd.unique(ht.uploads_by_type(rows, top=10)["model_type"])) == list(paper.columns[:-1])
    assert top10[paper.columns[:-1]].to_numpy().tolist() == paper.drop(columns="total").to_numpy().tolist()


@paper_data
def test_reproduces_the_papers_card_ratio_per_month():
    from forumkit.analysis.paper import read_card_ratio

    card = read_card_ratio(SHARED / "card_data_stats_months_created.csv")
    each = card.index.repeat(card["count"])
    rank = np.concatenate([np.arange(n) for n in card["count"]])  # the first has_card models of a month have one
    rows = pd.DataFrame({"created_at": card.loc[each, "month"].dt.start_time.dt.strftime("%Y-%m-01T00:00:00.000Z")
                         .to_numpy(), "has_card": (rank < card.loc[each, "has_card"].to_numpy()).astype(int)})
    docs = ht.documentation_by_period(rows)
    assert docs["attribute"].unique().tolist() == ["card"]
    merged = docs.merge(card.assign(period=card["month"].astype(str)), on="period", how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert merged["n"].tolist() == merged["has_card"].tolist()
    assert merged["models"].tolist() == merged["count"].tolist()
    assert np.allclose(merged["share"], merged["has_card"] / merged["count"], rtol=0, atol=1e-15)
    assert np.allclose(merged["share"], merged["card_ratio"], rtol=0, atol=1e-9)


# -- forum beside Hub -------------------------------------------------------------------------------------------

# Hub uploads per month 2020-06..2023-09 (k = 0..39): gpt2 rising (k // 4 + 1), vit falling ((39 - k) // 4 + 1),
# bert flat (2), llama rising (k // 2). One bert model is undated.
HUB_MONTHS = pd.period_range("2020-06", "2023-09", freq="M")
HUB_COUNTS = {"gpt2": lambda k: k // 4 + 1, "vit": lambda k: (39 - k) // 4 + 1, "bert": lambda k: 2,
              "llama": lambda k: k // 2}


@pytest.fixture(scope="module")
def forum_and_hub(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("hubtrends") / "both.db"
    with FakeDiscourse(generate_forum(n_topics=150, seed=4)) as server, Store(db) as store, \
            DiscourseClient(server.url, rate=0, backoff=0.01) as client:
        Crawler(client, store, CrawlOptions()).run()
    rows = [model(f"o/{t}-{m}-{j}", f"{m}-10", model_type=t, has_card=j % 2)
            for t, count in HUB_COUNTS.items() for k, m in enumerate(HUB_MONTHS) for j in range(count(k))]
    rows.append(model("o/undated", None, model_type="bert"))
    with Store(db) as store:
        insert(store, rows)
    return db


def test_forum_vs_hub(forum_and_hub):
    with Store(forum_and_hub) as store:
        table = ht.forum_vs_hub(store, top=3)
        topics = mentions_by_period(store, models=["llama", "gpt2", "vit"])
    assert list(table.columns) == ["period", "period_start", "model_type", "hub_models", "forum_topics",
                                   "hub_trend", "forum_trend"]
    # top 3 by Hub models: llama 380, gpt2 220 and vit 220 (a tie: by name); bert has 80
    assert list(pd.unique(table["model_type"])) == ["llama", "gpt2", "vit"]
    # the window is the periods both sides cover: here the forum's, inside the Hub's 2020-06..2023-09
    forum_periods = topics["period"].unique().tolist()
    assert forum_periods[0] > "2020-06" and forum_periods[-1] < "2023-09"
    assert table.groupby("model_type")["period"].apply(list).map(lambda p: p == forum_periods).all()
    for (t, period), hub_models in table.set_index(["model_type", "period"])["hub_models"].items():
        assert hub_models == HUB_COUNTS[t](HUB_MONTHS.get_loc(pd.Period(period, "M")))
    assert table["forum_topics"].tolist() == topics["topics"].tolist()  # same order: type, then period
    assert topics[topics["model"] == "gpt2"]["topics"].sum() > 0
    contrast = ht.trend_contrast(table).set_index("model_type")
    assert contrast.loc["gpt2", "hub_trend"] == "rising" and contrast.loc["vit", "hub_trend"] == "falling"
    assert contrast.loc["llama", "pattern"] == "hub rising, forum no trend"
    hub_tests = trend_table(table, series="model_type", value="hub_models").set_index("series")
    assert contrast["hub_p"].tolist() == hub_tests.loc[contrast.index, "p"].tolist()
    assert (table["hub_trend"] == table["model_type"].map(contrast["hub_trend"])).all()
    assert (table["forum_trend"] == table["model_type"].map(contrast["forum_trend"])).all()
    fig = ht.plot_forum_vs_hub(table)
    assert sum(ax.get_visible() for ax in fig.axes) == 6  # a panel and its twin axis per type


def test_report_has_a_hub_section(forum_and_hub, tmp_path):
    from forumkit.analysis.report import ReportOptions, build_report

    with Store(forum_and_hub) as store:
        index = build_report(store, tmp_path / "report", options=ReportOptions(top=3))
    page = index.read_text()
    assert '<section id="hub">' in page and "Hugging Face Hub" in page
    assert "Attributes present and missing" in page and "hub rising, forum" in page
    for name in ("hub_uploads_by_month", "hub_documentation_by_month", "hub_missing_attributes", "hub_trend_tests",
                 "hub_forum_vs_hub_by_month", "hub_forum_vs_hub_trends"):
        assert (tmp_path / "report" / "tables" / f"{name}.csv").is_file()
    assert (tmp_path / "report" / "figures" / "hub_forum_vs_hub.svg").is_file()


def test_cli_hub_trends(forum_and_hub, tmp_path):
    def forumkit(*args: str) -> subprocess.CompletedProcess:
        return cli("hub", "trends", "--db", forum_and_hub, *args, env={"COLUMNS": "200"})

    done = forumkit("--top", "3", "--period", "quarter", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "1 without, left out" in done.stdout  # the undated bert model
    for expected in ("llama", "gpt2", "vit", "other", "model_index", "hub rising, forum"):
        assert expected in done.stdout
    uploads = pd.read_csv(tmp_path / "out" / "hub_uploads_by_quarter.csv")
    assert uploads.groupby("model_type")["models"].sum().to_dict() == {"llama": 380, "gpt2": 220, "vit": 220,
                                                                       "other": 80}
    assert (tmp_path / "out" / "hub_forum_vs_hub.png").is_file()
    assert (tmp_path / "out" / "hub_documentation.svg").is_file()
    assert "tables and 4 figures" in done.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("pattern,family\nre:(,x\n")
    failed = forumkit("--mapping", str(bad), "--out", str(tmp_path / "no"))
    assert failed.returncode == 2 and failed.stderr.startswith("error: model family mapping")
    assert len(failed.stderr.strip().splitlines()) == 1
