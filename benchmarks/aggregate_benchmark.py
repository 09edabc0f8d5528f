"""Benchmark of `forumkit.analysis.aggregate`: a generated coded table, aggregated by code × month with Wilson intervals.

Generates ``--rows`` coded rows (item, code, ISO date with offsets, forum category in several spellings, coder,
weight) over ``--items`` topics and the codes of both bundled codebooks, writes them as Parquet and CSV, then
times, each in its own fresh process (so imports and peak memory are measured alone):

* fit on the tidy DataFrame already in memory (what :func:`load_coded` returns),
* the end-to-end path from Parquet and from CSV (:func:`iter_coded` batches + fit), as `forumkit aggregate`
  runs it, with the peak RSS of that process.

Usage: .venv/bin/python benchmarks/aggregate_benchmark.py --rows 1000000 --items 250000
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
    args = parser.parse_args()
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
