"""The suite cannot go green by skipping: skips fail the session, missing data and tools fail with their name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SHARED, SHARED_FILES, require_files

ROOT = Path(__file__).resolve().parents[1]


def _pytest(folder: Path, source: str) -> subprocess.CompletedProcess:
    """Run pytest with tests/no_skips.py on one test file in a folder of its own, as .ci/run runs the suite."""
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    if source:
        (folder / "test_it.py").write_text(source, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "tests.no_skips", "-p", "no:cacheprovider",
                           "--rootdir", str(folder), "-c", str(folder / "pytest.ini"), str(folder)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])})


@pytest.mark.parametrize("source", [
    "import pytest\ndef test_a(): pass\ndef test_b(): pytest.skip('no data')\n",
    "import pytest\n@pytest.mark.skipif(True, reason='no data')\ndef test_a(): pass\n",
    "import pytest\npytest.skip('whole module', allow_module_level=True)\ndef test_a(): pass\n",
    "import pytest\npytest.importorskip('no_such_module_here')\ndef test_a(): pass\n",
    "import pytest\n@pytest.mark.xfail(reason='later')\ndef test_a(): assert False\n",
])
def test_a_skip_fails_the_session(tmp_path, source):
    res = _pytest(tmp_path, source)
    assert res.returncode == 1, res.stdout
    assert "CI counts a skip as a failure" in res.stdout


def test_a_session_without_skips_passes_and_one_without_tests_does_not(tmp_path):
    assert _pytest(tmp_path, "def test_a(): pass\n").returncode == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _pytest(empty, "").returncode == 5  # no tests collected: non-zero, so .ci/run (set -e) fails


def test_missing_reference_data_fails_naming_the_path(tmp_path):
    with pytest.raises(pytest.fail.Exception) as failed:
        require_files(tmp_path / "saner2024", SHARED_FILES)
    assert str(tmp_path / "saner2024" / "All_Codes.csv") in str(failed.value)
    assert require_files(SHARED, SHARED_FILES) == SHARED  # CI has ../shared beside the clone


def test_setup_fails_clearly_when_it_cannot_install_chromium(tmp_path):
    """Without chromium on PATH and without root, .ci/setup says what to install and fails (no silent skip)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "id").write_text("#!/bin/sh\necho 1000\n", encoding="utf-8")  # not root
    (bin_dir / "id").chmod(0o755)
    res = subprocess.run(["/bin/bash", str(ROOT / ".ci" / "setup")], capture_output=True, text=True, timeout=60,
                         env={"PATH": str(bin_dir)})
    assert res.returncode == 1
    assert res.stderr.startswith("error: chromium chromium-driver not installed;") and "apt-get install" in res.stderr


def test_setup_succeeds_here():
    """On CI (and here) .ci/setup finds or installs chromium and chromedriver."""
    res = subprocess.run([str(ROOT / ".ci" / "setup")], capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, res.stderr
