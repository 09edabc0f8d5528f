"""The README's commands, run as written, in order, so that a documented command can never break unnoticed.

Every ```bash block of README.md is read; each command runs with bash in a fresh copy of the repository
(as a clone has it, with ``../shared`` beside it as on CI), with the copy's own ``.venv/bin`` on PATH once
the README's first command has made it. Commands meant for the real internet run against loopback
stand-ins through SUBSTITUTIONS below: a visible table of README command -> command run, each with its
reason. Nothing else is changed and no command is skipped; a README command that would reach another
host, or an entry of the table the README no longer has, fails the test. Between commands, AFTER does what
a person does at that point (coders code in the browser), through Label Studio's API.

Label Studio is the real one: `forumkit studio up` runs it from ``.venv-studio``, which the copy links to the
repository's own (as each worktree does), so that it is not installed again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Callable

import pytest

from forumkit.coding.codebook import load_codebook, resolve_codebook, taxonomy_name
from forumkit.fakes.discourse import FakeDiscourse, generate_forum
from forumkit.fakes.hub import FakeHub, generate_models
from .demo_checks import check_demo

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

# README command (comments dropped, spaces collapsed) -> the command run instead, and why.
# {hf}, {pt}: fake Discourse forums on loopback standing in for discuss.huggingface.co and discuss.pytorch.org;
# {hub}: a fake Hub standing in for huggingface.co. --rate 0: the polite default (60 requests/min) is for real
# forums; a loopback fake needs no pacing.
SUBSTITUTIONS: dict[str, tuple[str, str]] = {
    ".ci/setup && python3 -m venv .venv && .venv/bin/pip install -q torch==2.13.0 && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest -q -rs":
        (".ci/setup && python3 -m venv .venv && .venv/bin/pip install -q torch==2.13.0 && .venv/bin/pip install -q -e '.[test]' "
         "&& .venv/bin/python -m pytest -q -rs --collect-only",
         "this test is part of that suite (running it here would recurse); the setup, the install of the test "
         "extra and the collection of every test module run as written, and .ci/run runs the suite itself"),
    "forumkit scrape https://discuss.huggingface.co --db hf.db":
        ("forumkit scrape {hf} --db hf.db --rate 0", "discuss.huggingface.co is on the internet"),
    "forumkit scrape --db hf.db":
        ("forumkit scrape {hf} --db hf.db --rate 0", "the default forum is discuss.huggingface.co"),
    "forumkit scrape https://discuss.pytorch.org --db pt.db --categories vision,nlp --since 2023-01-01":
        ("forumkit scrape {pt} --db pt.db --categories vision,nlp --since 2023-01-01 --rate 0",
         "discuss.pytorch.org is on the internet; the fake has categories vision and nlp"),
    "forumkit hub crawl --db hf.db":
        ("forumkit hub crawl --db hf.db --endpoint {hub} --rate 0", "the default Hub is huggingface.co"),
    "forumkit hub crawl --db hf.db --since 2023-01-01 --pipeline-tag text-generation --limit 5000":
        ("forumkit hub crawl --db hf.db --since 2023-01-01 --pipeline-tag text-generation --limit 5000 "
         "--endpoint {hub} --rate 0", "the default Hub is huggingface.co"),
}
OTHER_HOST = re.compile(r"https?://(?!127\.0\.0\.1[:/])[\w.-]+")


def strip_comment(line: str) -> str:
    """The line without its shell comment: a # at the start of a word, outside quotes."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def bash_commands(text: str) -> list[str]:
    """The commands of every ```bash block, in order: continuation lines joined, comments and blank lines dropped."""
    commands = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M):
        pending = ""
        for line in block.splitlines():
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            command = strip_comment(pending + line)
            pending = ""
            if command.strip():
                commands.append(command.strip())
    return commands


def key(command: str) -> str:
    return " ".join(command.split())


def test_the_readme_parser_sees_every_command():
    commands = bash_commands(README.read_text(encoding="utf-8"))
    assert commands[0].startswith("python3 -m venv .venv && .venv/bin/pip install -q torch==2.13.0 && .venv/bin/pip install -q -e . &&")
    assert "forumkit studio up" in commands and "forumkit studio down" in commands
    assert not [c for c in commands if re.search(r"[\[\]]", c.replace("'.[test]'", ""))]  # no [placeholders]
    assert strip_comment("forumkit x --item-col 'Topic#' --y 1   # note") == "forumkit x --item-col 'Topic#' --y 1"


def test_ci_runs_exactly_the_readme_test_command():
    """`.ci/run` runs the README's test command, and nothing else but its `cd` to the repository."""
    readme = bash_commands(README.read_text(encoding="utf-8"))
    test_command = next(c for c in readme if "pytest" in c)
    run = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
           if line.strip() and not line.startswith("#")]
    assert run == ["set -euo pipefail", 'cd "$(dirname "$0")/.."', test_command]


def test_readme_commands_use_relative_paths():
    for command in bash_commands(README.read_text(encoding="utf-8")):
        assert not re.search(r"(^|\s)(/|~)", command.replace(" && ", " ")), command


# -- what a person does between two commands ----------------------------------------------------------------------

def _studio_login(workdir: Path) -> tuple[str, str]:
    """URL and API token of the server `forumkit studio up` started from ``workdir`` (its own files)."""
    server = json.loads((workdir / "server.json").read_text(encoding="utf-8"))
    token = server.get("token") or json.loads((workdir / "login.json").read_text(encoding="utf-8"))["token"]
    return server["url"], token


def code_in_the_browser(clone: Path) -> None:
    """Two coders code every task of the one project with one of three categories: the same one mostly,
    different ones on every third task (so that the consensus holds several codes for the audit to compare)."""
    from label_studio_sdk.client import LabelStudio

    url, token = _studio_login(clone / "forumkit-work" / "studio")
    ls = LabelStudio(base_url=url, api_key=token)
    (project,) = list(ls.projects.list())
    tasks = list(ls.tasks.list(project=project.id))
    assert tasks, "studio push made no tasks"
    book = load_codebook(resolve_codebook("hf-challenges"))
    codes = [category.id for category in book.categories[:3]]
    coders = [int(ls.users.create(email=f"coder{n}@study.example", username=f"coder{n}").id) for n in (1, 2)]
    for i, task in enumerate(tasks):
        agreed = codes[i % 3]
        for coder, code in zip(coders, (agreed, agreed if i % 3 else codes[(i + 1) % 3])):
            path = [c.id for c in book.path_of(code)]
            ls.annotations.create(id=task.id, completed_by=coder, lead_time=12.0, result=[
                {"from_name": taxonomy_name(book), "to_name": "item", "type": "taxonomy",
                 "value": {"taxonomy": [path]}}])


def adjudicate_in_the_browser(clone: Path) -> None:
    """The adjudicator takes the first code each disputed item's coders chose between, with a reason."""
    from label_studio_sdk.client import LabelStudio

    url, token = _studio_login(clone / "forumkit-work" / "studio")
    ls = LabelStudio(base_url=url, api_key=token)
    (queue,) = [p for p in ls.projects.list() if p.title.endswith("(adjudication)")]
    tasks = list(ls.tasks.list(project=queue.id))
    assert tasks, "forumkit adjudicate queued nothing, though every third task has two codes"
    book = load_codebook(resolve_codebook("hf-challenges"))
    lead = int(ls.users.create(email="lead@study.example", username="lead").id)
    code = book.categories[0].id
    for task in tasks:
        ls.annotations.create(id=task.id, completed_by=lead, lead_time=20.0, result=[
            {"from_name": taxonomy_name(book), "to_name": "item", "type": "taxonomy",
             "value": {"taxonomy": [[c.id for c in book.path_of(code)]]}},
            {"from_name": "reason", "to_name": "item", "type": "textarea", "value": {"text": ["the first fits"]}}])


def demo_as_a_new_user_runs_it(clone: Path) -> None:
    """The README's first command ran the whole study: check its numbers against the coding key, look at the
    report, and stop the Label Studio the demo left running for the user."""
    demo = clone / "forumkit-work" / "demo"
    try:
        check_demo(demo)
    finally:
        from forumkit.coding.studio.server import stop

        stop(demo / "studio")


AFTER: dict[str, Callable[[Path], None]] = {
    "python3 -m venv .venv && .venv/bin/pip install -q torch==2.13.0 && .venv/bin/pip install -q -e . && "
    ".venv/bin/forumkit demo": demo_as_a_new_user_runs_it,
    "forumkit studio push --db hf.db --sample round1 --codebook hf-challenges --codebook hf-benefits --coders 2 "
    "--suggestions suggestions.csv":
        code_in_the_browser,
    "forumkit adjudicate --db hf.db --project 1 --adjudicator lead@study.example": adjudicate_in_the_browser,
}


# -- the run ---------------------------------------------------------------------------------------------------

def _clone(dest: Path) -> Path:
    """The repository as a fresh clone has it (tracked and new files, nothing ignored), with ../shared beside it."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    clone = dest / "forumkit"
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file() and not src.is_symlink():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, clone / name)
    (dest / "shared").symlink_to((ROOT.parent / "shared").resolve())
    # The repository's Label Studio environment, made here if this is the first test to need it (a fresh
    # clone has none yet), so that the copy's link points at a real one and it is installed once per checkout.
    from forumkit.coding.studio.server import ensure_venv

    ensure_venv(ROOT / ".venv-studio")
    (clone / ".venv-studio").symlink_to((ROOT / ".venv-studio").resolve())
    return clone


def _forums():
    """The stand-ins: a Hugging Face-like forum, a PyTorch-like one with vision and nlp categories, a Hub."""
    hf = generate_forum(n_topics=60, seed=21)
    pt = generate_forum(n_topics=20, seed=22, start="2022-06-01", months=18, hostname="discuss.pytorch.test")
    author = next(iter(pt.ground_truth()["users"]))
    for name in ("vision", "nlp"):
        category = pt.add_category(name, description=f"Questions about {name}.")
        for n in range(3):
            pt.add_topic(category, f"A {name} question {n}", author, f"<p>How do I do {name} thing {n}?</p>",
                         created_at=f"2023-0{n + 2}-10T12:00:00Z")
    return FakeDiscourse(hf), FakeDiscourse(pt), FakeHub(generate_models(300, seed=23), page_size=100)


@pytest.mark.slow
@pytest.mark.timeout(5400)
def test_readme_commands_run_as_written(tmp_path):
    commands = bash_commands(README.read_text(encoding="utf-8"))
    clone = _clone(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "FORUMKIT_STUDIO_TOKEN")}
    env.update(PATH=f"{clone / '.venv' / 'bin'}{os.pathsep}{env['PATH']}", PYTHONUNBUFFERED="1")
    hf, pt, hub = _forums()
    used: set[str] = set()
    with hf, pt, hub:
        urls = {"hf": hf.url, "pt": pt.url, "hub": hub.url}
        try:
            for command in commands:
                run, _why = SUBSTITUTIONS.get(key(command), (command, ""))
                if key(command) in SUBSTITUTIONS:
                    used.add(key(command))
                run = run.format(**urls)
                assert not OTHER_HOST.search(run), f"a README command reaches the internet, add it to SUBSTITUTIONS: {run}"
                res = subprocess.run(["bash", "-c", f"set -euo pipefail\n{run}"], cwd=clone, env=env,
                                     capture_output=True, text=True, timeout=2400)
                assert res.returncode == 0, (f"README command failed (exit {res.returncode}): {command}\nran: {run}\n"
                                             f"stdout: {res.stdout[-4000:]}\nstderr: {res.stderr[-4000:]}")
                assert "Traceback" not in res.stderr, f"{command}\n{res.stderr[-4000:]}"
                if key(command) in AFTER:
                    AFTER[key(command)](clone)
        finally:
            if (clone / "forumkit-work" / "studio" / "server.json").exists() and (clone / ".venv" / "bin").exists():
                subprocess.run(["bash", "-c", "forumkit studio down"], cwd=clone, env=env, capture_output=True,
                               timeout=120)
    assert used == set(SUBSTITUTIONS), f"SUBSTITUTIONS lists commands the README no longer has: {set(SUBSTITUTIONS) - used}"
    assert set(AFTER) <= {key(c) for c in commands}
    # What the commands were for is there: the demo, the coded project, the report and the Hub trends.
    assert (clone / "forumkit-work" / "demo" / "report" / "index.html").exists()
    assert (clone / "agreement" / "overall.csv").exists() and (clone / "study.qdpx").exists()
    assert (clone / "report" / "index.html").exists() and any((clone / "hub").glob("*.csv"))
    coded = (clone / "coded.csv").read_text(encoding="utf-8").splitlines()
    assert len(coded) > 10 and "consensus" in coded[0]
