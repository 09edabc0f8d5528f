"""Demo benchmark: the seconds each stage of `forumkit demo` takes on the shipped snapshot.

Runs the whole study (scrape -> ... -> report) into a fresh folder through the library, as the command does,
and prints one line per stage and the total. Label Studio comes from --venv (installed there if missing; that
install runs in the background while the first stages run, and the studio stage waits for it).

    .venv/bin/python benchmarks/demo_benchmark.py [--venv .venv-studio]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from forumkit.coding.studio.server import stop
from forumkit.demo import run


class Clock:
    """The demo's events, timed."""

    def __init__(self) -> None:
        self.started_at = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def started(self, stage: str, what: str) -> None:
        self.started_at = time.perf_counter()

    def advanced(self, done: int, total: int | None) -> None:
        pass

    def finished(self, stage: str, line: str) -> None:
        self.seconds[stage] = time.perf_counter() - self.started_at
        print(f"{self.seconds[stage]:7.1f} s  {stage}: {line}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=Path(".venv-studio"))
    args = parser.parse_args()
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        try:
            run(Path(tmp) / "demo", venv=args.venv.absolute(), events=clock)
        finally:
            stop(Path(tmp) / "demo" / "studio")
        print(f"{time.perf_counter() - began:7.1f} s  total")


if __name__ == "__main__":
    main()
