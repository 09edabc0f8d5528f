"""`forumkit --help` start-up: wall time in fresh processes, and which heavy libraries it loads.

Each run is a new interpreter, as a user's shell starts it; the figure is the median of ``--repeat`` runs.
For scale it also times a bare interpreter, `import typer` (the floor any Typer CLI pays) and `import pandas`.
tests/test_cli.py::test_help_imports_no_pandas keeps pandas and pyarrow out of `--help`.

    .venv/bin/python benchmarks/help_benchmark.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

HEAVY = ("pandas", "pyarrow", "numpy", "scipy", "matplotlib", "httpx", "lxml", "yaml", "label_studio_sdk",
         "huggingface_hub")
LOADED = f"""
import runpy, sys
sys.argv = ["forumkit", "--help"]
try:
    runpy.run_module("forumkit", run_name="__main__")
except SystemExit:
    pass
print(" ".join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)
"""


def median_seconds(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    py = sys.executable
    rows = [
        ("python -c pass (interpreter start)", [py, "-c", "pass"]),
        ("python -c 'import typer' (the floor of a Typer CLI)", [py, "-c", "import typer"]),
        ("python -c 'import pandas'", [py, "-c", "import pandas"]),
        ("forumkit --help", [py, "-m", "forumkit", "--help"]),
        ("forumkit scrape --help", [py, "-m", "forumkit", "scrape", "--help"]),
        ("forumkit aggregate --help", [py, "-m", "forumkit", "aggregate", "--help"]),
    ]
    print(f"median of {args.repeat} fresh processes, {sys.version.split()[0]}")
    for label, cmd in rows:
        print(f"{label:<55} {median_seconds(cmd, args.repeat):6.3f} s")
    loaded = subprocess.run([py, "-c", LOADED], capture_output=True, text=True, check=True).stderr.split()
    print(f"heavy libraries loaded by `forumkit --help`: {', '.join(loaded) or 'none'}")


if __name__ == "__main__":
    main()
