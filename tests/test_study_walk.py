"""A new user's walk through a study: forumkit installed from the wheel in a fresh virtual environment,
`forumkit init`, then every step inside the study folder with no path or id typed twice (no --db, --sample,
--codebook or --project): scrape (a fake forum on loopback) -> sample -> suggest codes -> studio up -> push
with the suggestions -> two coders code through Label Studio's API -> pull -> agreement -> aggregate -> report
-> status -> studio down.

The settings a user would edit for a small, fast study are edited in forumkit.toml, as a user does: no
request pacing for the loopback forum, a sample of 9 topics, the `static` embedder, 200 bootstrap
replicates, and the repository's Label Studio environment (`.venv-studio`, so it is not installed again).
The Label Studio data folder starts as a copy of the session's migrated template, so `studio up` takes
seconds.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from forumkit.coding.codebook import load_codebook, taxonomy_name
from forumkit.fakes.discourse import FakeDiscourse, generate_forum

from .studio_fixtures import VENV, copy_template
from .test_study import set_key

SAMPLE_SIZE = 9

pytestmark = pytest.mark.slow


def _steps(forumkit: Path, study: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "FORUMKIT_STUDIO_TOKEN")}
    env.update(PYTHONUNBUFFERED="1", COLUMNS="200")

    def step(*args: str, cwd: Path = study) -> subprocess.CompletedProcess:
        assert not {"--db", "--sample", "--codebook", "--project"} & set(args)
        res = subprocess.run([str(forumkit), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, f"forumkit {' '.join(args)}: exit {res.returncode}\n{res.stdout[-3000:]}\n" \
                                    f"{res.stderr[-3000:]}"
        assert "Traceback" not in res.stderr, res.stderr
        return res

    return step


def code_in_label_studio(study: Path) -> int:
    """Two coders code each task's challenge: the first keeps the top suggestion, the second agrees on two
    tasks in three and picks the next category otherwise. Returns the number of tasks."""
    from label_studio_sdk.client import LabelStudio

    workdir = study / "labelstudio"
    url = json.loads((workdir / "server.json").read_text(encoding="utf-8"))["url"]
    token = json.loads((workdir / "login.json").read_text(encoding="utf-8"))["token"]
    ls = LabelStudio(base_url=url, api_key=token)
    (project,) = list(ls.projects.list())
    book = load_codebook(study / "codebooks" / "hf-challenges.yaml")
    top: dict[int, str] = {}
    with open(study / "suggestions.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["codebook"] == book.id and row["rank"] == "1":
                top[int(row["item_id"])] = row["code_id"]
    categories = [c.id for c in book.categories]
    coders = [int(ls.users.create(email=f"coder{n}@study.example", username=f"coder{n}").id) for n in (1, 2)]
    tasks = list(ls.tasks.list(project=project.id))
    for i, task in enumerate(tasks):
        kept = top[int(task.data["item_id"])]
        other = categories[(categories.index(book.path_of(kept)[0].id) + 1) % len(categories)]
        for coder, code in zip(coders, (kept, kept if i % 3 else other), strict=True):
            ls.annotations.create(id=task.id, completed_by=coder, lead_time=10.0, result=[
                {"from_name": taxonomy_name(book), "to_name": "item", "type": "taxonomy",
                 "value": {"taxonomy": [[c.id for c in book.path_of(code)]]}}])
    return len(tasks)


@pytest.mark.timeout(1800)  # with the session's wheel venv and Label Studio template, if no test built them yet
def test_a_new_user_walks_through_a_study(wheel_venv, studio_template, tmp_path):  # noqa: F811
    forum = generate_forum(n_topics=30, seed=11)
    with FakeDiscourse(forum) as server:
        home = tmp_path / "home"
        home.mkdir()
        step = _steps(wheel_venv.forumkit, home)
        step("init", "study", "--forum", server.url, cwd=home)
        study = home / "study"
        toml = study / "forumkit.toml"
        for section, key, value in (("forum", "rate", "0"), ("sample", "size", str(SAMPLE_SIZE)),
                                    ("suggest", "embedder", '"static"'), ("analysis", "boot", "200"),
                                    ("studio", "venv", json.dumps(str(VENV)))):
            set_key(toml, section, key, value)
        copy_template(studio_template, study / "labelstudio")
        step = _steps(wheel_venv.forumkit, study)

        step("scrape", "-q")
        assert (study / "forum.db").is_file()
        step("sample")
        step("suggest", "codes")
        assert (study / "suggestions.csv").is_file()
        step("studio", "up")
        try:
            pushed = step("studio", "push").stdout
            assert re.search(rf"created project 1 .*: {SAMPLE_SIZE} tasks added, .*{SAMPLE_SIZE} with suggestions "
                             "listed", pushed), pushed
            assert code_in_label_studio(study) == SAMPLE_SIZE
            pulled = step("studio", "pull").stdout
            assert f"project 1: {2 * SAMPLE_SIZE} annotations on {SAMPLE_SIZE} items by 2 coders" in pulled
            step("agreement")
            assert (study / "agreement" / "overall.csv").is_file()
            step("aggregate")
            assert (study / "frequencies.csv").read_text(encoding="utf-8").count("\n") > 1
            reported = step("report").stdout
            assert "report -> report/index.html" in reported and (study / "report" / "index.html").is_file()
            status = step("status", cwd=study / "codebooks").stdout
        finally:
            step("studio", "down")
    assert "1 *" in status and "next: done" in status
    row = next(line for line in status.splitlines() if line.startswith("│ 1 *"))
    cells = [c.strip() for c in row.split("│")[1:-1]]
    # project, sample, tasks, annotations, coders, items coded, by 2+, alpha, % agreement, suggested, kept, last pull
    assert cells[1:7] == ["round1", str(SAMPLE_SIZE), str(2 * SAMPLE_SIZE), "2", str(SAMPLE_SIZE), str(SAMPLE_SIZE)]
    assert cells[7] != "—" and 0 < float(cells[8]) < 1  # two coders disagree on a third of the items
    assert cells[9] == str(SAMPLE_SIZE) and cells[10] != "—"
