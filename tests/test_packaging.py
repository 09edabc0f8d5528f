"""The package as users install it: a wheel, in a fresh virtual environment outside the checkout.

The wheel must carry everything `forumkit demo` needs (the sample forum, the model vocabulary and the shipped
codebooks as package data) and its runtime dependencies must be enough: the libraries only the tests use
(krippendorff, statsmodels, scikit-learn) are in the `test` extra and must not be needed.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_ONLY = ("krippendorff", "statsmodels")

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, timeout: float = 1200) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert res.returncode == 0, f"{' '.join(cmd)}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def _source_copy(dest: Path) -> Path:
    """The checkout's files as a clone would have them (tracked and new, not ignored), without build debris."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file() and not src.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = _source_copy(work / "source")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(source)], cwd=work)
    (found,) = (work / "dist").glob("forumkit-*.whl")
    return found


def test_the_wheel_carries_the_package_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for data in ("forumkit/codebooks/hf-challenges.yaml", "forumkit/codebooks/hf-benefits.yaml",
                 "forumkit/data/sample_forum.json.gz", "forumkit/data/model_vocabulary.csv",
                 "forumkit/data/model_families.csv", "forumkit/data/models/static-minilm-256/model.safetensors"):
        assert data in names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "notebooks/"))]


def test_the_wheel_installs_in_a_fresh_venv_and_runs_the_demo(wheel, tmp_path):
    """Installed outside the checkout, with its runtime dependencies only, `forumkit demo` runs from any folder."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python, forumkit = venv / "bin" / "python", venv / "bin" / "forumkit"
    # The README's order: PyTorch's CPU build first, so that sentence-transformers does not pull a CUDA one.
    _run([str(python), "-m", "pip", "install", "-q", "torch==2.13.0"], cwd=tmp_path)
    _run([str(python), "-m", "pip", "install", "-q", str(wheel)], cwd=tmp_path)
    where = _run([str(python), "-c", "import forumkit; print(forumkit.__file__)"], cwd=tmp_path).stdout.strip()
    assert Path(where).is_relative_to(venv) and not Path(where).is_relative_to(ROOT)
    present = _run([str(python), "-c", "import importlib.util as u; print(' '.join(m for m in "
                    f"{TEST_ONLY!r} if u.find_spec(m)))"], cwd=tmp_path).stdout.split()
    assert present == [], f"test-only libraries came with the runtime dependencies: {present}"

    elsewhere = tmp_path / "study"
    elsewhere.mkdir()
    # Up to the suggestions: the shipped data (forum snapshot, static model, MiniLM) load from the wheel.
    res = _run([str(forumkit), "demo", "-q", "--stop-after", "suggest"], cwd=elsewhere)
    demo = elsewhere / "forumkit-work" / "demo"
    assert (demo / "suggestions.csv").exists() and (demo / "topics" / "topics.csv").exists(), res.stdout
    assert (demo / "label-config.xml").exists() and "[5/5] suggest" in res.stdout
    key = _run([str(python), "-c", "from forumkit.demo.coders import load_coding_key; print(len(load_coding_key().codes))"],
               cwd=elsewhere).stdout
    assert int(key) == 305, "the simulated coders' key did not come with the wheel"
    with sqlite3.connect(demo / "sample.db") as con:
        assert con.execute("SELECT count(*) FROM topics").fetchone()[0] >= 200
    listed = _run([str(forumkit), "codebook", "list"], cwd=elsewhere).stdout
    assert "hf-challenges" in listed and "hf-benefits" in listed
    shown = _run([str(forumkit), "codebook", "show", "hf-challenges"], cwd=elsewhere).stdout
    assert shown.startswith("HF challenges (hf-challenges")
