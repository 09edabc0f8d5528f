"""Beyond one machine: partitioned Parquet datasets, and the aggregator's counting as SQL on DuckDB and Spark.

Two stores are crawled from two fake forums (two forum keys); one gets a coded project written by hand
(codebook snapshot, weighted sample, annotations by three coders, a skipped one, code-less ones). The same
aggregation then runs three ways, in memory (:meth:`Aggregator.fit`), on DuckDB and on Spark
(:meth:`Aggregator.fit_dataset`), and the tables must be equal. Spark runs in local mode in one session for
the whole test run (starting it takes most of a minute on a busy machine).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from forumkit.analysis.aggregate import Aggregator, load_coded, project_codebooks
from forumkit.analysis.aggregate.engines import counting_sql
from forumkit.cli import app
from forumkit.coding.codebook import load_codebook
from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import Crawler
from forumkit.collect.export import MARKER, forum_key, write_dataset
from forumkit.errors import UsageError
from forumkit.fakes.discourse import FakeDiscourse, generate_forum
from forumkit.store import Store, utcnow

from .conftest import cli

ROOT = Path(__file__).resolve().parents[1]
CODEBOOK_FILE = ROOT / "forumkit" / "codebooks" / "hf-challenges.yaml"
CHALLENGES = load_codebook(CODEBOOK_FILE)
CODERS = ("alice@lab.test", "bob@lab.test", "carol@lab.test")


def forumkit(*args: str | Path) -> subprocess.CompletedProcess:
    """The `forumkit` command, in this process (tests/conftest.py: cli)."""
    return cli(*args, cwd=ROOT)


def crawl(db: Path, seed: int) -> str:
    """A fake forum of six months crawled into ``db``; its URL."""
    with FakeDiscourse(generate_forum(n_topics=40, seed=seed, months=6)) as server:
        with Store(db) as store, DiscourseClient(server.url, rate=0, backoff=0.01) as client:
            Crawler(client, store).run()
        return server.url


def code_project(db: Path, url: str, seed: int = 11) -> None:
    """Project 1 over every topic: a weighted sample, three coders' annotations with random codes."""
    rng = np.random.default_rng(seed)
    codes = CHALLENGES.code_ids()
    with Store(db) as store:
        forum_id = store.forum_id(url, create=False)
        topics = [r[0] for r in store.query("SELECT id FROM topics ORDER BY id")]
        cats = [r[0] for r in store.query("SELECT id FROM categories ORDER BY id LIMIT 3")]
        now = utcnow()
        with store.transaction():
            # spellings of one category, unequally frequent: "Beginners" names the group on every path
            for cat, name in zip(cats, ("Beginners", "beginners", "Models")):
                store.db.execute("UPDATE categories SET name = ? WHERE id = ?", (name, cat))
            for i, topic in enumerate(topics):
                category = cats[[0, 0, 0, 1, 2][i % 5]]
                store.db.execute("UPDATE topics SET category_id = ? WHERE id = ?", (category, topic))
            store.db.execute("INSERT INTO codebooks (id, version, content, added_at) VALUES (?, ?, ?, ?)",
                             (CHALLENGES.id, CHALLENGES.version, json.dumps(CHALLENGES.to_dict()), now))
            store.db.execute("INSERT INTO samples (id, forum_id, unit, design, created_at) VALUES "
                             "('s1', ?, 'topic', '{}', ?)", (forum_id, now))
            for pos, topic in enumerate(topics):
                store.db.execute("INSERT INTO sample_items (sample_id, item_id, stratum, weight, position) "
                                 "VALUES ('s1', ?, 'all', ?, ?)", (topic, [4.0, 9.5, 20.0][pos % 3], pos))
            store.db.execute("INSERT INTO studio_projects (id, url, project_id, title, forum_id, sample_id, unit, "
                             "codebooks, created_at) VALUES (1, 'http://127.0.0.1:1', 11, 'round 1', ?, 's1', "
                             "'topic', ?, ?)", (forum_id, json.dumps([[CHALLENGES.id, CHALLENGES.version]]), now))
            annotation = 0
            for topic in topics:
                for coder in CODERS[:2 + int(rng.random() < 0.5)]:
                    annotation += 1
                    skipped = rng.random() < 0.05
                    store.db.execute("INSERT INTO annotations (project, annotation_id, task_id, item_id, coder, "
                                     "annotated_at, lead_time, was_cancelled, memo, pulled_at) VALUES "
                                     "(1, ?, ?, ?, ?, ?, 10.0, ?, NULL, ?)",
                                     (annotation, 100 + annotation, topic, coder, now, int(skipped), now))
                    # agreement is likelier among a few popular codes; 10 % of annotations have no code
                    chosen = [] if rng.random() < 0.1 else \
                        set(rng.choice(codes[:6] if rng.random() < 0.7 else codes, rng.integers(1, 4)))
                    for code in chosen:
                        store.db.execute("INSERT INTO coded (project, annotation_id, code_id, codebook_id, category, "
                                         "subcategory) VALUES (1, ?, ?, ?, ?, ?)",
                                         (annotation, code, CHALLENGES.id, *CHALLENGES.category_of(code)))


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """(coded store, its forum URL, second store, its forum URL)."""
    folder = tmp_path_factory.mktemp("scaleout")
    first, second = folder / "first.db", folder / "second.db"
    url = crawl(first, seed=3)
    code_project(first, url)
    return first, url, second, crawl(second, seed=4)


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession for every test: two cores, two shuffle partitions, no UI."""
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("forumkit tests")
               .config("spark.sql.shuffle.partitions", "2").config("spark.default.parallelism", "2")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "10000")
               .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.sql.session.timeZone", "America/New_York")  # fit_dataset must count in UTC anyway
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def read_dataset(folder: Path) -> pd.DataFrame:
    """A dataset as pandas reads it (Hive's folder for missing values read as missing)."""
    return pads.dataset(folder, partitioning="hive").to_table().to_pandas()


def same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Equal tables: same columns, same rows (in any order), same types and values."""
    keys = [c for c in ("period", "group", "code_id") if c in left.columns]
    pd.testing.assert_frame_equal(left.sort_values(keys).reset_index(drop=True),
                                  right.sort_values(keys).reset_index(drop=True))


# -- exports ----------------------------------------------------------------------------------------------------------

def test_export_posts_topics_mentions_as_partitioned_datasets(stores, tmp_path):
    first, url, second, url2 = stores
    lake = tmp_path / "lake"
    for table in ("posts", "topics", "mentions"):
        single = tmp_path / f"{table}.parquet"
        assert forumkit("export", table, "--db", first, "--format", "parquet", "--out", single).returncode == 0
        res = forumkit("export", table, "--db", first, "--format", "parquet", "--partition-by", "forum,month",
                       "--out", lake / table)
        assert res.returncode == 0, res.stderr
        expected = pd.read_parquet(single)
        folders = sorted(p.relative_to(lake / table).as_posix() for p in (lake / table).glob("*/*"))
        months = sorted(pd.to_datetime(expected["created_at"], utc=True).dt.strftime("%Y-%m").unique())
        assert folders == [f"forum={forum_key(url)}/month={m}" for m in months]
        got = read_dataset(lake / table)
        assert len(got) == len(expected)
        assert set(got["forum"]) == {forum_key(url)} == {"127.0.0.1_" + url.rsplit(":", 1)[1]}
        assert (got["forum_url"] == url).all()
        # every column of the single-file export, the same values; `forum` (the URL) is `forum_url` in a dataset
        key = ["post_id", "model"] if table == "mentions" else ["post_id" if table == "posts" else "topic_id"]
        got = got.sort_values(key).reset_index(drop=True)
        expected = expected.rename(columns={"forum": "forum_url"}).sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(got[list(expected.columns)], expected, check_dtype=False)
        assert (got["month"] == pd.to_datetime(got["created_at"], utc=True).dt.strftime("%Y-%m")).all()
    # the second forum's store exports into the same dataset: both forums are there, each once
    res = forumkit("export", "posts", "--db", second, "--format", "parquet", "--partition-by", "forum,month",
                   "--out", lake / "posts")
    assert res.returncode == 0, res.stderr
    both = read_dataset(lake / "posts")
    assert set(both["forum"]) == {forum_key(url), forum_key(url2)}
    assert not both.duplicated(["forum", "post_id"]).any()
    assert forumkit("export", "posts", "--db", second, "--format", "parquet", "--partition-by", "forum,month",
                    "--out", lake / "posts").returncode == 0
    assert len(read_dataset(lake / "posts")) == len(both)  # exported again: replaced, not appended
    assert json.loads((lake / "posts" / MARKER).read_text())["partition_by"] == ["forum", "month"]


def invoke(*args: str | Path):
    """The command in this process (errors are checked this way: quicker than a new process each)."""
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def posts_dataset(stores, tmp_path_factory):
    out = tmp_path_factory.mktemp("posts") / "posts"
    res = invoke("export", "posts", "--db", stores[0], "--format", "parquet", "--partition-by", "forum", "--out", out)
    assert res.exit_code == 0, res.output
    return out


@pytest.mark.parametrize("args, says", [
    (["posts", "--format", "csv", "--partition-by", "forum", "--out", "{tmp}/p"], "a partitioned dataset is Parquet"),
    (["posts", "--format", "parquet", "--partition-by", "forum,year", "--out", "{tmp}/p"], "cannot partition by"),
    (["posts", "--format", "parquet", "--partition-by", "forum", "--out", "{tmp}/mine"], "forumkit did not write"),
    (["posts", "--format", "parquet", "--partition-by", "forum", "--out", "{tmp}/file.txt"], "is a file"),
    (["topics", "--format", "parquet", "--partition-by", "forum", "--out", "{posts}"], "holds the posts dataset"),
    (["annotations", "--format", "parquet", "--partition-by", "forum", "--out", "{tmp}/a"], "cannot partition"),
    (["posts", "--view", "consensus", "--format", "parquet", "--out", "{tmp}/p"], "--view chooses the coded rows"),
    (["coded", "--view", "majority", "--format", "parquet", "--out", "{tmp}/c"], "unknown view 'majority'"),
])
def test_export_errors_are_one_line(stores, posts_dataset, tmp_path, args, says):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("not a dataset")
    (tmp_path / "file.txt").write_text("a file")
    before = sorted(p.relative_to(posts_dataset) for p in posts_dataset.rglob("*"))
    res = invoke("export", *[a.format(tmp=tmp_path, posts=posts_dataset) for a in args], "--db", stores[0])
    assert res.exit_code == 2 and says in res.stderr and res.stderr.count("\n") == 1, res.stderr  # usage errors
    assert (tmp_path / "mine" / "notes.txt").read_text() == "not a dataset"  # nothing of the user's replaced
    assert sorted(p.relative_to(posts_dataset) for p in posts_dataset.rglob("*")) == before
    assert not list(tmp_path.glob(".*"))  # no half-written dataset left beside --out


def test_coded_exports_keep_their_rows(stores, tmp_path):
    first, url, _, _ = stores
    res = forumkit("export", "coded", "--db", first, "--project", "1", "--format", "parquet", "--partition-by",
                   "forum,month", "--out", tmp_path / "coded")
    assert res.returncode == 0, res.stderr
    res = forumkit("export", "coded", "--db", first, "--project", "1", "--format", "parquet", "--out",
                   tmp_path / "coded.parquet")
    assert res.returncode == 0, res.stderr
    items, single = read_dataset(tmp_path / "coded"), pd.read_parquet(tmp_path / "coded.parquet")
    # the coded dataset: one row per item and applied code, as the single file has them
    assert len(items) == len(single) and set(single.columns) < set(items.columns)
    assert (items["month"] == pd.to_datetime(items["created_at"], utc=True).dt.strftime("%Y-%m")).all()
    res = forumkit("export", "coded", "--db", first, "--view", "coders", "--format", "csv", "--out",
                   tmp_path / "coders.csv")
    assert res.returncode == 0, res.stderr
    with Store(first) as store:
        expected = load_coded(store=store, project=1, view="coders")
    rows = pd.read_csv(tmp_path / "coders.csv")
    assert list(rows.columns) == ["project", "item", "code", "date", "forum_category", "coder", "weight",
                                  "codebook_version", "round"]
    assert len(rows) == len(expected) and rows["code"].isna().sum() == expected["code"].isna().sum() > 0


# -- the same table three ways ----------------------------------------------------------------------------------------

CASES = [  # (view, level, period, by, extrapolate)
    ("consensus", "category", "month", None, True),
    ("consensus", "subcategory", "quarter", "forum_category", False),
    ("coders", "code", None, "coder", True),
]


@pytest.fixture(scope="module")
def coded_datasets(stores, tmp_path_factory):
    """view -> (the dataset `export coded --view` wrote, the in-memory table of the store)."""
    first = stores[0]
    folder = tmp_path_factory.mktemp("coded")
    out = {}
    for view in ("consensus", "coders"):
        res = forumkit("export", "coded", "--db", first, "--project", "1", "--view", view, "--format", "parquet",
                       "--partition-by", "forum,month", "--out", folder / view)
        assert res.returncode == 0, res.stderr
        with Store(first) as store:
            out[view] = (folder / view, load_coded(store=store, project=1, view=view))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("view, level, period, by, extrapolate", CASES)
def test_memory_duckdb_and_spark_give_the_same_table(coded_datasets, spark, view, level, period, by, extrapolate):
    dataset, frame = coded_datasets[view]
    options = dict(level=level, period=period, by=by, extrapolate=extrapolate)
    memory = Aggregator(**options).fit(frame, CHALLENGES)
    duck = Aggregator(**options).fit_dataset(dataset, CHALLENGES, engine="duckdb")
    sparked = Aggregator(**options).fit_dataset(dataset, CHALLENGES, engine="spark", spark=spark)
    assert memory.counts_["n"].sum() > 0 and memory.counts_["n"].max() < memory.counts_["n_items"].max()
    for other in (duck, sparked):
        same(memory.counts_, other.counts_)
        same(memory.totals_, other.totals_)
        assert (other.n_rows_, other.n_items_, other.n_undated_) == (memory.n_rows_, memory.n_items_,
                                                                     memory.n_undated_)
    assert spark.conf.get("spark.sql.session.timeZone") == "America/New_York"  # the caller's setting is back


def synthetic(rows: int = 6000, items: int = 900, seed: int = 2) -> pd.DataFrame:
    """Tidy rows over two forums with undated items, spellings of one category, empty and absent codes."""
    rng = np.random.default_rng(seed)
    codes = np.array(CHALLENGES.code_ids() + [None], dtype=object)
    item = rng.integers(0, items, rows)
    start = pd.Timestamp("2022-11-30T22:00:00Z").value // 1000  # microseconds; items near month ends
    dates = pd.to_datetime(start + rng.integers(0, 200 * 86400, items) * 10**6, unit="us", utc=True)
    dates = pd.Series(dates).where(np.arange(items) % 37 != 0)  # every 37th item has no date
    spelling = np.array(["Beginners", "beginners", "Beginners", "Models", None], dtype=object)
    frame = pd.DataFrame({"item": item, "code": codes[rng.integers(0, len(codes), rows)],
                          "date": dates.to_numpy()[item], "forum_category": spelling[rng.integers(0, 5, items)][item],
                          "coder": np.array(CODERS, dtype=object)[rng.integers(0, 3, rows)],
                          "weight": rng.choice([1.5, 3.0, 12.0], items)[item]})
    frame["forum"] = np.where(frame["item"] % 3 == 0, "forum-a.test", "forum-b.test")
    frame["month"] = pd.to_datetime(frame["date"], utc=True).dt.strftime("%Y-%m")
    return frame


@pytest.mark.slow
def test_undated_items_spellings_and_two_forums_on_every_engine(spark, tmp_path):
    frame = synthetic()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    write_dataset(table.to_batches(max_chunksize=1000), table.schema, tmp_path / "ds", ["forum", "month"],
                  table="coded")
    assert (tmp_path / "ds" / "forum=forum-a.test" / "month=__HIVE_DEFAULT_PARTITION__").is_dir()
    back = read_dataset(tmp_path / "ds")[list(frame.columns)]
    options = dict(level="category", period="month", by="forum_category", extrapolate=True)
    memory = Aggregator(**options).fit(back.drop(columns=["forum", "month"]), CHALLENGES)
    assert memory.n_undated_ > 0 and set(memory.counts_["group"]) == {"Beginners", "Models", "(none)"}
    for engine in ("duckdb", "spark"):
        other = Aggregator(**options).fit_dataset(tmp_path / "ds", CHALLENGES, engine=engine, spark=spark)
        same(memory.counts_, other.counts_)
        same(memory.totals_, other.totals_)
        assert other.n_undated_ == memory.n_undated_
    # columns named otherwise, some absent: no coder column means consensus, no weight column means 1.0
    renamed = frame.rename(columns={"item": "topic", "code": "label", "date": "when"}).drop(columns=["coder", "weight"])
    table = pa.Table.from_pandas(renamed, preserve_index=False)
    write_dataset(table.to_batches(), table.schema, tmp_path / "renamed", ["forum"], table="coded")
    columns = {"item": "topic", "code": "label", "date": "when"}
    other = Aggregator(period="quarter", by="coder").fit_dataset(tmp_path / "renamed", CHALLENGES, columns=columns)
    memory = Aggregator(period="quarter", by="coder").fit(
        frame.drop(columns=["forum", "month"]).assign(coder="consensus", weight=1.0), CHALLENGES)
    same(memory.counts_, other.counts_)


def test_one_sql_text_for_both_engines():
    """The engines get the text counting_sql makes from the options alone: nothing in it names an engine."""
    text = counting_sql({"item", "code", "date", "forum_category", "coder", "weight"}, "quarter",
                        "forum_category", True)
    assert "fk_rows" in text and "fk_nodes" in text and "fk_groups" in text
    assert not any(word in text.lower() for word in ("duckdb", "spark", "`", '"'))


# -- the command ------------------------------------------------------------------------------------------------------

def test_aggregate_command_on_a_dataset_equals_the_store(stores, coded_datasets, tmp_path):
    first = stores[0]
    dataset = coded_datasets["consensus"][0]
    common = ("--level", "subcategory", "--period", "quarter", "--by", "forum_category", "--extrapolate")
    res = forumkit("aggregate", "--db", first, "--project", "1", *common, "--out", tmp_path / "store.csv")
    assert res.returncode == 0, res.stderr
    res = forumkit("aggregate", "--dataset", dataset, "--codebook", CODEBOOK_FILE, *common,
                   "--out", tmp_path / "dataset.csv")
    assert res.returncode == 0, res.stderr
    assert "most frequent subcategories" in res.stdout
    same(pd.read_csv(tmp_path / "store.csv"), pd.read_csv(tmp_path / "dataset.csv"))
    with Store(first) as store:
        assert [b.id for b in project_codebooks(store, 1)] == [CHALLENGES.id]


@pytest.mark.slow
def test_aggregate_command_on_spark(coded_datasets, spark, tmp_path):
    """`--engine spark` in this process: the command finds the tests' session active and uses it."""
    dataset = coded_datasets["coders"][0]
    runner = CliRunner()
    for engine, out in (("duckdb", "duck.parquet"), ("spark", "spark.parquet")):
        res = runner.invoke(app, ["aggregate", "--dataset", str(dataset), "--engine", engine, "--codebook",
                                  str(CODEBOOK_FILE), "--by", "coder", "--period", "month", "--out",
                                  str(tmp_path / out)])
        assert res.exit_code == 0, res.output
    same(pd.read_parquet(tmp_path / "duck.parquet"), pd.read_parquet(tmp_path / "spark.parquet"))
    assert not spark.sparkContext._jsc.sc().isStopped()  # not the command's to stop


@pytest.mark.parametrize("args, says", [
    (["--dataset", "{tmp}/none"], "no dataset"),
    (["--dataset", "{ds}", "--db", "{db}"], "--db does not apply to --dataset"),
    (["--dataset", "{ds}", "--engine", "postgres"], "unknown engine 'postgres'"),
    (["--db", "{db}", "--engine", "spark"], "--engine and --spark-master count a --dataset"),
    (["--dataset", "{ds}", "--item-col", "topic"], "has no column 'topic'"),
    (["--dataset", "{strings}"], "not timestamps"),
    (["--dataset", "{ds}", "--codebook", str(ROOT / "forumkit" / "codebooks" / "hf-benefits.yaml")], "not in the codebook"),
    (["--dataset", "{ds}", "--by", "forum_category", "--category-col", "tag"], "has no column 'tag'"),
])
def test_aggregate_dataset_errors_are_one_line(stores, coded_datasets, tmp_path, args, says):
    strings = tmp_path / "strings"  # dates as text: the SQL would read them differently on each engine
    strings.mkdir()
    pq.write_table(pa.table({"item": [1, 2], "code": ["a", "b"], "date": ["2023-01-05", "2023-02-01"]}),
                   strings / "part-0.parquet")
    values = {"tmp": tmp_path, "ds": coded_datasets["consensus"][0], "db": stores[0], "strings": strings}
    res = invoke("aggregate", *[a.format(**values) for a in args], "--out", tmp_path / "t.csv")
    assert res.exit_code == 2 and says in res.stderr and res.stderr.count("\n") == 1, res.stderr  # usage errors
    assert not (tmp_path / "t.csv").exists()


def test_weights_must_agree_within_an_item(tmp_path):
    (tmp_path / "w").mkdir()  # any folder of Parquet files is a dataset, partitioned or not
    pq.write_table(pa.table({"item": [1, 1, 2], "code": ["a", "b", "a"], "weight": [2.0, 3.0, 1.0]}),
                   tmp_path / "w" / "part-0.parquet")
    with pytest.raises(UsageError, match="1 coded items have rows with different sampling weights"):
        Aggregator(period=None, extrapolate=True).fit_dataset(tmp_path / "w")
    totals = Aggregator(period=None).fit_dataset(tmp_path / "w").totals_  # without estimates they do not matter
    assert totals.set_index("code_id")["n"].to_dict() == {"a": 2, "b": 1}
