"""The notebooks in notebooks/: stored without outputs, and run top to bottom on the shipped sample.

01 scrapes the shipped forum snapshot into a work folder, 02 codes a sample of it in a real Label Studio (started
from the session's migrated template, so in seconds) with the simulated coders, 03 analyses what 02 coded; they
share one work folder, so they run in order in one test. Each notebook ends with a cell that puts every number
its markdown states into a dict ``facts``: the test checks that the prose states exactly those numbers, and
recomputes each one here from an independent source (the snapshot's ground truth, the shipped coding key, the
suggestions file, the replication package), not from the notebook's own tables.

``saner2024_figures.ipynb`` is run by tests/test_paper.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbclient import NotebookClient

from forumkit.coding.studio import server as studio_server

from .conftest import SHARED, SHARED_FILES, require_files
from .studio_fixtures import VENV

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks"
PIPELINE = ("01_explore_a_forum", "02_code_with_suggestions", "03_topic_trends")
ELSEWHERE = {"saner2024_figures": "tests/test_paper.py"}  # run by another test
#: A number in prose: a quarter, a month, or digits with thousands separators and decimals (not part of a name
#: such as gpt2 or BM25).
NUMBER = re.compile(r"(?<![A-Za-z0-9])(?:\d{4}-Q\d|\d{4}-\d{2}|\d+(?:[.,]\d+)*)(?![A-Za-z])")
#: Numbers in prose that are names, not findings.
NAMES = {"2024"}  # SANER 2024


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(FOLDER / f"{name}.ipynb", as_version=4)


# -- as stored ----------------------------------------------------------------------------------------------------

def test_every_notebook_is_run_by_a_test():
    stored = {p.stem for p in FOLDER.glob("*.ipynb")}
    assert stored == set(PIPELINE) | set(ELSEWHERE)
    for name, test in ELSEWHERE.items():
        assert f"{name}.ipynb" in (ROOT / test).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [*PIPELINE, *ELSEWHERE])
def test_notebook_is_stored_without_outputs(name):
    nb = _read(name)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("name", PIPELINE)
def test_defaults_work_for_a_user_running_it_from_its_folder(name, monkeypatch):
    """The parameters cell alone: its paths are relative to notebooks/ and point into the repository."""
    nb = _read(name)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and params[0].cell_type == "code"
    monkeypatch.chdir(FOLDER)
    scope: dict = {}
    exec(params[0].source, scope)
    assert scope["WORK"].resolve() == ROOT / "forumkit-work" / "notebooks"  # ignored by git
    if "STUDIO_VENV" in scope:
        assert scope["STUDIO_VENV"].resolve() == VENV.resolve() and scope["STUDIO_TEMPLATE"] is None
    if "SANER_DATA" in scope:
        assert scope["SANER_DATA"].resolve() == SHARED.resolve()
    # the last cell computes the facts the test reads
    assert nb.cells[-1].cell_type == "code" and nb.cells[-1].source.rstrip().endswith("facts")


# -- run ----------------------------------------------------------------------------------------------------------

def _kernel_here(tmp: Path, monkeypatch) -> None:
    """Make the kernel named python3 this interpreter, with this checkout first on its path (a kernel spec in
    JUPYTER_PATH wins over any the user has installed)."""
    spec = tmp / "kernels" / "python3"
    spec.mkdir(parents=True)
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "forumkit tests", "language": "python", "env": {"PYTHONPATH": path}}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp))


def _execute(name: str, parameters: str) -> tuple[nbformat.NotebookNode, dict]:
    """Run the notebook with ``parameters`` injected after its parameters cell; its cells and its ``facts``."""
    nb = _read(name)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(parameters))
    nb.cells.append(nbformat.v4.new_code_cell("import json\nprint('FACTS ' + json.dumps(facts))"))
    NotebookClient(nb, kernel_name="python3", timeout=240,
                   resources={"metadata": {"path": str(FOLDER)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    printed = next(o["text"] for o in outputs if o.get("text", "").startswith("FACTS "))
    return nb, json.loads(printed.removeprefix("FACTS "))


def _pieces(value) -> list[str]:
    if isinstance(value, dict):
        return [p for v in value.values() for p in _pieces(v)]
    if isinstance(value, list):
        return [p for v in value for p in _pieces(v)]
    return [str(value)]


def _prose(nb, *, code: bool = True) -> str:
    """Every markdown cell; without inline code (file names such as `02_code_with_suggestions`) unless ``code``."""
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return text if code else re.sub(r"`[^`]*`", "", text)


def _states_exactly(nb, facts: dict, stated: dict) -> None:
    """The prose states each fact in ``stated`` (the ones it is about) and no number that no fact holds."""
    missing = [p for p in _pieces(stated) if p not in _prose(nb)]
    assert not missing, f"the notebook computes values its prose does not state: {missing}"
    computed = {n for p in _pieces(facts) for n in NUMBER.findall(p)}
    stated_numbers = set(NUMBER.findall(_prose(nb, code=False))) - NAMES
    assert sorted(stated_numbers - computed) == [], "the prose states a number no cell computes"


def _check_01(facts: dict, db: Path) -> None:
    """Against the snapshot's ground truth (what the fake forum serves), not the store."""
    from forumkit.collect.mentions import ModelVocabulary
    from forumkit.fakes.discourse import load_sample

    truth = load_sample().ground_truth()
    topics = pd.DataFrame(truth["topics"].values())
    posts = pd.DataFrame(truth["posts"].values())
    counted = topics[~topics["pinned"]]  # pinned: the announcements and the categories' About topics
    regular = posts[posts["topic_id"].isin(counted["id"]) & (posts["post_type"] == 1)]
    created = pd.to_datetime(counted["created_at"], utc=True).dt.tz_localize(None).dt.to_period("Q")
    per_quarter = created.value_counts()
    names = {c["id"]: c for c in truth["categories"].values()}

    def top_level(category_id):
        while names[category_id]["parent_category_id"]:
            category_id = names[category_id]["parent_category_id"]
        return names[category_id]["name"]

    per_category = counted["category_id"].map(top_level).value_counts()
    per_topic = regular.groupby("topic_id").size()
    asked = counted.set_index("id")["created_at"].map(pd.Timestamp)
    # a reply: a later post by someone other than the asker, written at or after the topic (not moved in from
    # an older one)
    others = regular[(regular["post_number"] > 1)
                     & (regular["user_id"] != regular["topic_id"].map(counted.set_index("id")["user_id"]))
                     & (regular["created_at"].map(pd.Timestamp) >= regular["topic_id"].map(asked))]
    vocabulary = ModelVocabulary.default()
    mentioned: dict[str, set] = {}
    for topic_id, part in regular.groupby("topic_id"):
        text = " ".join([counted.set_index("id").loc[topic_id, "title"],
                         *(re.sub(r"<[^>]+>", " ", c) for c in part["cooked"])])
        for model in vocabulary.find(text):
            mentioned.setdefault(model, set()).add(topic_id)
    n = len(counted)
    assert facts["topics stored"] == f"{len(topics):,}" and facts["posts stored"] == f"{len(posts):,}"
    assert facts["topics counted"] == f"{n:,}" and facts["posts counted"] == f"{len(regular):,}"
    assert (facts["first quarter"], facts["last quarter"]) == (str(created.min()).replace("Q", "-Q"),
                                                                 str(created.max()).replace("Q", "-Q"))
    assert facts["busiest quarter"] == str(per_quarter.idxmax()).replace("Q", "-Q")
    assert facts["its topics"] == str(per_quarter.max())
    assert facts["largest categories"] == list(per_category.index[:2])
    assert facts["their topics"] == [str(v) for v in per_category.iloc[:2]]
    assert facts["mean posts per topic"] == f"{len(regular) / n:.1f}"
    assert facts["median posts per topic"] == f"{per_topic.reindex(counted['id'], fill_value=0).median():.0f}"
    assert facts["most posts in a topic"] == str(per_topic.max())
    no_reply = n - others["topic_id"].nunique()
    assert facts["topics without a reply"] == str(no_reply)
    assert facts["share without a reply"] == f"{100 * no_reply / n:.1f} %"
    accepted = int(counted["has_accepted_answer"].sum())
    assert facts["topics with an accepted answer"] == str(accepted)
    assert facts["share with an accepted answer"] == f"{100 * accepted / n:.1f} %"
    first = others.groupby("topic_id")["created_at"].min().map(pd.Timestamp)
    hours = ((first - asked.reindex(first.index)).dt.total_seconds() / 3600)
    assert facts["median hours to the first reply"] == f"{hours.median():.1f}"
    for model, count in zip(facts["most mentioned models"], facts["their mention topics"]):
        assert len(mentioned[model]) == int(count), model
    assert db.is_file()


def _check_02(facts: dict, work: Path) -> None:
    """Against the shipped coding key and the suggestions file: the round trip through Label Studio kept every code
    the key gives, and the agreement and acceptance follow from the key."""
    from forumkit.coding.agreement import Agreement
    from forumkit.coding.coded import annotation_rows
    from forumkit.demo.coders import load_coding_key
    from forumkit.store import Store

    key = load_coding_key()
    with Store(work / "forum.db") as store:
        pulled = annotation_rows(store, facts["project"])
    items = sorted(set(pulled["item_id"]))
    assert facts["sample size"] == str(len(items))
    from_key = pd.DataFrame([(item, coder, code) for item in items for coder in key.coders
                             for book in ("hf-challenges", "hf-benefits") for code in key.of(item, coder, book)],
                            columns=["item", "coder", "code"])
    got = pulled.dropna(subset=["code_id"])
    got = got.assign(coder=got["coder"].str.split("@").str[0])
    assert sorted(map(tuple, got[["item_id", "coder", "code_id"]].to_numpy().tolist())) == \
        sorted(map(tuple, from_key.to_numpy().tolist()))
    assert facts["annotations"] == str(len(items) * len(key.coders)) and facts["coders"] == len(key.coders)
    annotations = pd.DataFrame([(i, c) for i in items for c in key.coders], columns=["item", "coder"])
    overall = Agreement(n_boot=0).fit(annotations, from_key).overall_.set_index("measure")["value"]
    assert facts["krippendorff alpha"] == f"{overall['krippendorff_alpha']:.2f}"
    assert facts["percent agreement"] == f"{overall['percent_agreement']:.2f}"
    suggestions = pd.read_csv(work / "suggestions.csv")
    offered = suggestions[suggestions["in_set"]]
    kept = sum(code in key.of(int(item), coder, book)
               for item, code, book in offered[["item_id", "code_id", "codebook"]].itertuples(index=False)
               for coder in key.coders)
    assert facts["codes pre-selected"] == str(len(offered))
    assert facts["items pre-selected"] == str(offered["item_id"].nunique())
    assert facts["acceptance"] == f"{100 * kept / (len(offered) * len(key.coders)):.1f} %"


def _check_03(facts: dict, work: Path) -> None:
    """Frequencies from the key's consensus, the Hub count from the shipped sample, the SANER trends from the
    package's files."""
    from forumkit.coding.codebook import load_codebook, resolve_codebook
    from forumkit.demo.coders import load_coding_key
    from forumkit.collect.hub import is_placeholder
    from forumkit.demo.pipeline import HUB_MODELS, HUB_SEED
    from forumkit.fakes.discourse import load_sample
    from forumkit.fakes.hub import generate_models
    from forumkit.store import Store

    key = load_coding_key()
    with Store(work / "forum.db") as store:
        items = sorted(int(row[0]) for row in store.sample_item_rows("notebook"))
    book = load_codebook(resolve_codebook("hf-challenges"))
    with_category: dict[str, int] = {}
    for item in items:
        # the consensus of two coders: the codes both gave (a majority is more than half); then their categories
        agreed = set.intersection(*(set(key.of(item, coder, book.id)) for coder in key.coders))
        for category in {book.category_of(code)[0] for code in agreed}:
            with_category[category] = with_category.get(category, 0) + 1
    best = min(with_category, key=lambda name: (-with_category[name], name))
    assert facts["coded topics"] == str(len(items)) and facts["confidence"] == "95 %"
    assert facts["top challenge category"] == best
    assert facts["its topics"] == str(with_category[best])
    assert facts["its share"] == f"{100 * with_category[best] / len(items):.1f} %"
    assert facts["hub models"] == f"{HUB_MODELS:,}"
    assert int(facts["topics matching no code"]) <= int(facts["bertopic topics"])
    assert facts["forum topics"] == str(len(load_sample().ground_truth()["topics"]))  # every topic, pinned too
    generated = generate_models(HUB_MODELS, seed=HUB_SEED, start="2020-12", end="2023-06")
    dated = [m for m in generated if not is_placeholder(m.get("createdAt"))]
    types = pd.Series([m.get("config", {}).get("model_type") for m in dated]).value_counts()
    assert facts["largest hub type"] == types.index[0]
    assert (facts["its hub trend"], facts["its forum trend"]) == ("rising", "no trend")
    folder = require_files(SHARED, SHARED_FILES)
    cards = pd.read_csv(folder / "card_data_stats_months_created.csv")
    assert facts["card months"] == str(len(cards))
    assert facts["card share trend"] == "no trend" and facts["uploads trend"] == "rising"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_notebooks_run_in_order_and_compute_every_number_they_state(studio_template, tmp_path, monkeypatch):
    work = tmp_path / "work"
    _kernel_here(tmp_path / "jupyter", monkeypatch)
    monkeypatch.setenv("FORUMKIT_SAMPLE_DATA", str(require_files(SHARED, SHARED_FILES)))
    setting = f"WORK = Path({str(work)!r})\n"
    try:
        nb, facts = _execute("01_explore_a_forum", setting)
        assert any("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
        _states_exactly(nb, facts, facts)
        _check_01(facts, work / "forum.db")

        nb, facts = _execute("02_code_with_suggestions", setting + f"STUDIO_VENV = Path({str(VENV)!r})\n"
                                                                   f"STUDIO_TEMPLATE = Path({str(studio_template)!r})\n")
        _states_exactly(nb, facts, {k: v for k, v in facts.items() if k not in ("project", "coders")})
        _check_02(facts, work)
        assert studio_server.status(work / "studio") is not None  # left running to look at the coded project

        nb, facts = _execute("03_topic_trends", setting)
        _states_exactly(nb, facts, facts)
        _check_03(facts, work)
    finally:
        studio_server.stop(work / "studio")
