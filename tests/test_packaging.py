"""The package as users install it: a wheel, in a fresh virtual environment outside the checkout.

The wheel must carry everything `forumkit demo` needs (the sample forum, the model vocabulary and the shipped
codebooks as package data) and its runtime dependencies must be enough: the libraries only the tests use
(krippendorff, statsmodels, scikit-learn) are in the `test` extra and must not be needed.
"""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import pytest

from .conftest import run_clean

ROOT = Path(__file__).resolve().parents[1]
TEST_ONLY = ("statsmodels", "pyrefiqda", "crepes")  # test-extra references (nltk comes with a runtime dependency)

pytestmark = pytest.mark.slow


def test_the_wheel_carries_the_package_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for data in ("forumkit/codebooks/hf-challenges.yaml", "forumkit/codebooks/hf-benefits.yaml",
                 "forumkit/data/sample_forum.json.gz", "forumkit/data/model_vocabulary.csv",
                 "forumkit/data/model_families.csv", "forumkit/data/models/static-minilm-256/model.safetensors",
                 "forumkit/data/appendix/methods.md.j2", "forumkit/data/appendix/methods.tex.j2"):
        assert data in names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "notebooks/"))]


@pytest.mark.timeout(1800)  # the first test to use the session's venv builds it: minutes on a busy machine
def test_the_wheel_installs_in_a_fresh_venv_and_runs_the_demo(wheel_venv, tmp_path):
    """Installed outside the checkout, with its runtime dependencies only, `forumkit demo` runs from any folder."""
    venv, python, forumkit = wheel_venv.root, wheel_venv.python, wheel_venv.forumkit
    where = run_clean([str(python), "-c", "import forumkit; print(forumkit.__file__)"], cwd=tmp_path).stdout.strip()
    assert Path(where).is_relative_to(venv) and not Path(where).is_relative_to(ROOT)
    present = run_clean([str(python), "-c", "import importlib.util as u; print(' '.join(m for m in "
                    f"{TEST_ONLY!r} if u.find_spec(m)))"], cwd=tmp_path).stdout.split()
    assert present == [], f"test-only libraries came with the runtime dependencies: {present}"

    elsewhere = tmp_path / "study"
    elsewhere.mkdir()
    # Up to the suggestions: the shipped data (forum snapshot, static model, MiniLM) load from the wheel.
    res = run_clean([str(forumkit), "demo", "-q", "--stop-after", "suggest"], cwd=elsewhere)
    demo = elsewhere / "forumkit-work" / "demo"
    assert (demo / "suggestions.csv").exists() and (demo / "topics" / "topics.csv").exists(), res.stdout
    assert (demo / "label-config.xml").exists() and "[5/5] suggest" in res.stdout
    key = run_clean([str(python), "-c", "from forumkit.demo.coders import load_coding_key; print(len(load_coding_key().codes))"],
               cwd=elsewhere).stdout
    assert int(key) == 305, "the simulated coders' key did not come with the wheel"
    with sqlite3.connect(demo / "sample.db") as con:
        assert con.execute("SELECT count(*) FROM topics").fetchone()[0] >= 200
    listed = run_clean([str(forumkit), "codebook", "list"], cwd=elsewhere).stdout
    assert "hf-challenges" in listed and "hf-benefits" in listed
    shown = run_clean([str(forumkit), "codebook", "show", "hf-challenges"], cwd=elsewhere).stdout
    assert shown.startswith("HF challenges (hf-challenges")
