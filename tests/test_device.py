"""FORUMKIT_DEVICE: where sentence-transformers models run. This machine has no GPU, so a GPU device must fail
in one line that says what to do; a wrong name too; cpu (the default) works. (The GPU path itself is the
library's: sentence-transformers moves the model to the device; it is not exercised here.)"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

TEXTS = "id,text\n1,My model runs out of GPU memory when I train it\n2,How do I load a dataset from the Hub?\n"


def _suggest(tmp_path, device: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "texts.csv").write_text(TEXTS, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "FORUMKIT_DEVICE"}
    if device is not None:
        env["FORUMKIT_DEVICE"] = device
    return subprocess.run([sys.executable, "-m", "forumkit", "suggest", "codes", "--codebook", "hf-challenges",
                           "--texts", "texts.csv", "--id-col", "id", "--text-col", "text", "--out", "s.csv"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("device, says", [("cuda", "cuda"), ("toaster", "FORUMKIT_DEVICE=toaster is not a torch device")])
def test_a_device_this_machine_lacks_is_one_line(tmp_path, device, says):
    done = _suggest(tmp_path, device)
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip()
    assert line.startswith("error:") and says.lower() in line.lower() and "Traceback" not in line, line
    assert not (tmp_path / "s.csv").exists()


def test_cpu_is_the_default(tmp_path):
    done = _suggest(tmp_path, None)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "s.csv").read_text(encoding="utf-8").startswith('"item_id","code_id"')
