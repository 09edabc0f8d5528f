"""Benchmark of `forumkit.analysis.aggregate`: a generated coded table, aggregated by code × month with Wilson intervals.

Generates ``--rows`` coded rows (item, code, ISO date with offsets, forum category in several spellings, coder,
weight) over ``--items`` topics and the codes of both bundled codebooks, writes them as Parquet and CSV, then
times, each in its own fresh process (so imports and peak memory are measured alone):

* fit on the tidy DataFrame already in memory (what :func:`load_coded` returns),
* the end-to-end path from Parquet and from CSV (:func:`iter_coded` batches + fit), as `forumkit aggregate`
  runs it, with the peak RSS of that process.

With ``--engines``, the same rows (dates as timestamps) are written as a dataset partitioned by forum and
month, as `forumkit export coded --view consensus --partition-by forum,month` writes it, and one aggregation
(code × month × forum category, with population estimates) is timed three ways, each in a fresh process:
pandas/numpy in memory (:meth:`Aggregator.fit` on the DataFrame read from the dataset; reading timed
apart), DuckDB and Spark in local mode (:meth:`Aggregator.fit_dataset`; Spark's start-up timed apart).
The three tables are checked equal.

Usage: .venv/bin/python benchmarks/aggregate_benchmark.py --rows 1000000 --items 250000
       .venv/bin/python benchmarks/aggregate_benchmark.py --engines --rows 10000000 --items 2000000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CATEGORIES = ["Beginners", "beginners", "Transformers", "Datasets", "datasets", "Models", "Spaces", "Hub",
              "Intermediate", "Course", "Research", "Gradio", "Tokenizers", "Amazon Sagemaker", "Amazon SageMaker",
              "Accelerate", "Diffusers", "Flax/JAX projects", "Flax/JAX Projects", "Optimum"]


def generate(rows: int, items: int, seed: int = 1) -> pd.DataFrame:
    """Rows of (item, code, date, category, coder, weight); each item keeps one date, category and weight."""
    from forumkit.coding.codebook import load_codebook

    codes = np.array([c for name in ("hf-challenges", "hf-benefits")
                      for c in load_codebook(ROOT / "forumkit" / "codebooks" / f"{name}.yaml").code_ids()], dtype=object)
    rng = np.random.default_rng(seed)
    item = rng.integers(0, items, rows)
    start = pd.Timestamp("2020-01-01", tz="UTC").value // 10**9
    item_seconds = rng.integers(0, 4 * 365 * 86400, items) + start
    offsets = np.array(["Z", "+01:00", "-05:00", "+00:00"])
    item_offset = rng.integers(0, len(offsets), items)
    shift = np.array([0, 3600, -5 * 3600, 0])[item_offset]
    local = pd.to_datetime(item_seconds + shift, unit="s").strftime("%Y-%m-%dT%H:%M:%S").to_numpy(dtype=object)
    dates = local + offsets[item_offset].astype(object)
    item_category = rng.integers(0, len(CATEGORIES), items)
    item_weight = rng.choice([4.0, 9.5, 20.0], items)
    coder = np.array(["alice@lab.test", "bob@lab.test", "carol@lab.test"], dtype=object)[rng.integers(0, 3, rows)]
    code = codes[rng.integers(0, len(codes), rows)].astype(object)
    code[rng.random(rows) < 0.02] = None  # annotations without a code
    return pd.DataFrame({"item": item, "code": code, "date": dates[item],
                         "category": np.array(CATEGORIES, dtype=object)[item_category[item]], "coder": coder,
                         "weight": item_weight[item]})


RUN = r"""
import json, sys, time
from pathlib import Path
def peak_mb():  # VmHWM: this process's own peak RSS (ru_maxrss also counts the parent's pages before exec)
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
t0 = time.perf_counter()
from forumkit.analysis.aggregate import Aggregator, iter_coded, load_coded
from forumkit.coding.codebook import load_codebook
root = Path(sys.argv[2])
books = [load_codebook(root / "forumkit" / "codebooks" / f"{n}.yaml") for n in ("hf-challenges", "hf-benefits")]
path, mode, by = sys.argv[1], sys.argv[3], (sys.argv[4] or None)
kw = dict(item="item", code="code", date="date", category="category", coder="coder", weight="weight")
if mode == "memory":
    frame = load_coded(path, **kw)
    rss_before = peak_mb()
    t1 = time.perf_counter()
    agg = Aggregator(level="code", period="month", by=by, extrapolate=True).fit(frame, books)
else:
    rss_before = peak_mb()
    t1 = time.perf_counter()
    agg = Aggregator(level="code", period="month", by=by, extrapolate=True).fit(iter_coded(path, **kw), books)
t2 = time.perf_counter()
print(json.dumps({"seconds": t2 - t1, "with_imports": t2 - t0, "rows_out": len(agg.counts_),
                  "rss_mb": peak_mb(), "rss_before_mb": rss_before, "n_items": agg.n_items_}))
"""


ENGINE_RUN = r"""
import json, sys, time
from pathlib import Path
def peak_mb():
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
from forumkit.analysis.aggregate import Aggregator
from forumkit.coding.codebook import load_codebook
dataset, root, engine, out = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
books = [load_codebook(root / "forumkit" / "codebooks" / f"{n}.yaml") for n in ("hf-challenges", "hf-benefits")]
agg = Aggregator(level="code", period="month", by="forum_category", extrapolate=True)
result = {}
if engine == "memory":
    import pyarrow.dataset as pads
    t0 = time.perf_counter()
    frame = pads.dataset(dataset, partitioning="hive").to_table(
        columns=["item", "code", "date", "forum_category", "coder", "weight"]).to_pandas()
    result["read_seconds"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    agg.fit(frame, books)
elif engine == "spark":
    from pyspark.sql import SparkSession
    t0 = time.perf_counter()
    spark = (SparkSession.builder.master("local[*]").config("spark.driver.memory", "8g")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.host", "127.0.0.1")
             .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "100000").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    result["start_seconds"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    agg.fit_dataset(dataset, books, engine="spark", spark=spark)
    jvm = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()  # Spark works in its JVM process
    result["jvm_mb"] = next(int(l.split()[1]) for l in open(f"/proc/{jvm}/status") if l.startswith("VmHWM")) / 1024
else:
    t1 = time.perf_counter()
    agg.fit_dataset(dataset, books, engine="duckdb")
result.update(seconds=time.perf_counter() - t1, rows_out=len(agg.counts_), rss_mb=peak_mb())
agg.counts_.to_parquet(out)
print(json.dumps(result))
"""


def run_engine(dataset: Path, engine: str, out: Path) -> dict:
    res = subprocess.run([sys.executable, "-c", ENGINE_RUN, str(dataset), str(ROOT), engine, str(out)],
                         capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if res.returncode:
        raise SystemExit(res.stderr)
    return json.loads(res.stdout.strip().splitlines()[-1])


def engines(rows: int, items: int, repeat: int) -> None:
    """DuckDB vs Spark (local) vs pandas in memory on one partitioned dataset (see the module docstring)."""
    from forumkit.analysis.aggregate import parse_dates
    from forumkit.collect.export import write_dataset

    frame = generate(rows, items)
    frame = frame.rename(columns={"category": "forum_category"})
    frame["date"] = parse_dates(frame["date"]).array
    frame["forum"] = np.array(["discuss.huggingface.co", "discuss.pytorch.org", "forum.a.test",
                               "forum.b.test"], dtype=object)[frame["item"].to_numpy() % 4]
    frame["month"] = frame["date"].dt.strftime("%Y-%m")
    with tempfile.TemporaryDirectory() as tmp:
        dataset = Path(tmp) / "coded"
        table = pa.Table.from_pandas(frame, preserve_index=False)
        del frame
        write_dataset(table.to_batches(max_chunksize=1_000_000), table.schema, dataset, ["forum", "month"],
                      table="coded")
        del table
        files = list(dataset.rglob("*.parquet"))
        print(f"{rows:,} rows, {items:,} items; dataset of {len(files)} files, "
              f"{sum(f.stat().st_size for f in files) / 2**20:.0f} MiB; {os.cpu_count()} cores")
        print("| engine | aggregation seconds (best of %d) | besides | peak RSS | output rows |" % repeat)
        print("|---|---|---|---|---|")
        tables = {}
        for engine in ("memory", "duckdb", "spark"):
            out = Path(tmp) / f"{engine}.parquet"
            runs = [run_engine(dataset, engine, out) for _ in range(repeat)]
            best = min(runs, key=lambda r: r["seconds"])
            besides = (f"read into pandas {best['read_seconds']:.1f} s" if "read_seconds" in best else
                       f"session start {best['start_seconds']:.1f} s" if "start_seconds" in best else "")
            memory = f"{best['rss_mb']:.0f} MB" + (f" + JVM {best['jvm_mb']:.0f} MB" if "jvm_mb" in best else "")
            print(f"| {engine} | {best['seconds']:.1f} | {besides} | {memory} | {best['rows_out']:,} |")
            tables[engine] = pd.read_parquet(out)
        for engine in ("duckdb", "spark"):
            pd.testing.assert_frame_equal(tables["memory"], tables[engine])
        print("the three tables are equal")


def run(path: Path, mode: str, by: str | None) -> dict:
    res = subprocess.run([sys.executable, "-c", RUN, str(path), str(ROOT), mode, by or ""], capture_output=True,
                         text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if res.returncode:
        raise SystemExit(res.stderr)
    return json.loads(res.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measure; the best is reported")
    parser.add_argument("--engines", action="store_true", help="DuckDB vs Spark (local) vs pandas in memory")
    args = parser.parse_args()
    if args.engines:
        engines(args.rows, args.items, args.repeat)
        return
    frame = generate(args.rows, args.items)
    with tempfile.TemporaryDirectory() as tmp:
        parquet, csv = Path(tmp) / "coded.parquet", Path(tmp) / "coded.csv"
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), parquet, row_group_size=250_000)
        frame.to_csv(csv, index=False)
        print(f"{args.rows:,} rows, {args.items:,} items; Parquet {parquet.stat().st_size / 2**20:.1f} MiB, "
              f"CSV {csv.stat().st_size / 2**20:.1f} MiB; {os.cpu_count()} cores")
        print("| measure | seconds (best of %d) | peak RSS | output rows |" % args.repeat)
        print("|---|---|---|---|")
        for label, path, mode, by in (
                ("fit, tidy DataFrame in memory, code × month", parquet, "memory", None),
                ("Parquet -> iter_coded -> fit, code × month", parquet, "stream", None),
                ("CSV -> iter_coded -> fit, code × month", csv, "stream", None),
                ("Parquet, code × month × forum category", parquet, "stream", "forum_category"),
                ("Parquet, code × month × coder", parquet, "stream", "coder")):
            runs = [run(path, mode, by) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r["seconds"])
            print(f"| {label} | {best['seconds']:.2f} | {best['rss_mb']:.0f} MB "
                  f"(+{best['rss_mb'] - best['rss_before_mb']:.0f} MB) | {best['rows_out']:,} |")


if __name__ == "__main__":
    main()
