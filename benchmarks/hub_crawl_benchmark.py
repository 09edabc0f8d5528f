"""Hub crawl benchmark: 250,000 generated models served by the fake Hub on loopback, rate limit off.

The fake Hub generates and serves the models in its own process
(``python -m forumkit.fakes.hub``), and ``forumkit hub crawl`` runs in a fresh
process of its own, so that the peak memory measured (os.wait4's ru_maxrss) is
the crawler's alone: a child forked from a big parent would report the
parent's pages too. Prints wall time, requests, models per second (end to
end: process start, HTTP, JSON, ModelInfo parsing, SQLite), the crawling
process's peak memory, the cost of an incremental re-run with no changes,
and an estimate for the real Hub at the default polite rate.

    .venv/bin/python benchmarks/hub_crawl_benchmark.py [--models 250000] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from forumkit.collect.hub import DEFAULT_RATE

HUB_MODELS_2024 = 1_000_000  # order of magnitude of public models on the Hub in 2024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(models: int, seed: int) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "forumkit.fakes.hub", "--models", str(models), "--seed", str(seed),
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(6000):
        try:
            httpx.get(f"{url}/api/models?limit=1", timeout=1)
            return proc, url, time.perf_counter() - start
        except httpx.TransportError:
            if proc.poll() is not None:
                raise SystemExit("the fake Hub exited")
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the fake Hub did not start")


def crawl(url: str, db: Path) -> tuple[float, float]:
    """Run `forumkit hub crawl` in a fresh process: wall seconds and peak memory (MB) of that process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "forumkit", "hub", "crawl", "--db", str(db), "--endpoint", url,
                             "--rate", "0", "-q"])
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit("the crawl failed")
    return wall, usage.ru_maxrss / 1024


def measures(db: Path, out: Path) -> tuple[float, float, float]:
    """Every monthly measure in a fresh process: wall seconds of the process, seconds of the measures alone,
    and peak memory (MB)."""
    code = (
        "import sys, time; from forumkit.store import Store; from forumkit.analysis.hubtrends import hub_trends\n"
        "t = time.perf_counter()\n"
        "with Store(sys.argv[1]) as store: result = hub_trends(store)\n"
        "print(time.perf_counter() - t)\n"
    )
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit("the measures failed")
    return wall, float(proc.stdout.read().strip().splitlines()[-1]), usage.ru_maxrss / 1024


def last_run(db: Path) -> tuple[int, int, int]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT requests, models, malformed FROM hub_runs ORDER BY id DESC LIMIT 1").fetchone()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=int, default=250_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "hub.db"
        proc, url, ready = serve(args.models, args.seed)
        try:
            print(f"fake Hub generated {args.models:,} models and was serving after {ready:.1f}s")
            wall, peak_mb = crawl(url, db)
            requests, models, malformed = last_run(db)
            again_wall, _ = crawl(url, db)
            again_requests, again_models, _ = last_run(db)
        finally:
            proc.terminate()
            proc.wait()
        m_wall, m_seconds, m_peak = measures(db, Path(tmp) / "trends")
        with sqlite3.connect(db) as con:
            stored, cards, typed = con.execute(
                "SELECT count(*), sum(has_card), count(model_type) FROM hub_models").fetchone()
        size_mb = db.stat().st_size / 2**20

    print(f"full crawl: {wall:.1f}s, {requests} requests, {models:,} models stored ({malformed} malformed); "
          f"{stored:,} rows, {cards:,} with card metadata, {typed:,} with a model type; store {size_mb:.0f} MB")
    print(f"end to end: {models / wall:,.0f} models/s (process start, HTTP, JSON, ModelInfo, SQLite)")
    print(f"peak memory of the crawling process: {peak_mb:.0f} MB")
    print(f"incremental re-run without changes: {again_requests} request(s), {again_models} models re-stored "
          f"(within the watermark margin), {again_wall:.2f}s")
    print(f"all monthly measures (uploads by family, documentation shares with intervals, missing attributes, "
          f"trend tests): {m_seconds:.1f}s ({m_wall:.1f}s with process start and imports), peak memory "
          f"{m_peak:.0f} MB")
    pages = -(-HUB_MODELS_2024 // 1000)
    print(f"estimate for ~{HUB_MODELS_2024:,} public models (1,000 per page) at {DEFAULT_RATE:.0f} requests/min: "
          f"{pages:,} requests = {pages / DEFAULT_RATE:.0f} min of pacing, plus the Hub's own response time")


if __name__ == "__main__":
    main()
