"""Codebooks: import of the paper's spreadsheets, validation with line numbers, lookups, Label Studio configs."""

from __future__ import annotations

import difflib
import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from label_studio_sdk.label_interface import LabelInterface
from typer.testing import CliRunner

from forumkit.cli import app
from forumkit.coding.codebook import (TABLE_COLUMNS, Code, Codebook, CodebookError, import_codebook, label_config,
                               load_codebook, taxonomy_name, validate_codebook)
from forumkit.errors import UsageError

from .conftest import SHARED, cli, needs_saner2024

ROOT = Path(__file__).resolve().parents[1]
CHALLENGES_YAML = ROOT / "forumkit" / "codebooks" / "hf-challenges.yaml"
BENEFITS_YAML = ROOT / "forumkit" / "codebooks" / "hf-benefits.yaml"
needs_shared = needs_saner2024

# The paper's names, written out here so that a change in the import (or in the data) shows up.
CHALLENGE_CATEGORIES = [
    "Model Usage and Understanding", "Training Pipeline", "Memory & Performance", "External Platforms & Libraries",
    "Tutorial & Documentation", "Dataset Acquisition & Usage", "Specific Solution Need", "Incomprehensible output",
    "HF Libraries' Features", "API Usage", "Website & Pricing", "Lack of Support", "Spaces",
    "Inference & Deployment", "Privacy & Security", "Onboarding", "Other Issues",
]
CHALLENGE_SUBCATEGORIES = {
    "Model Usage and Understanding": ["Understanding Model Function", "Customizing Model",
                                      "Model Evaluation & Comparison", "Model Converting (ONNX Library)",
                                      "Loading/Saving Models", "Model Configuration", "Model card"],
    "Memory & Performance": ["GPU & Optimization", "Speed", "Memory", "Large Files"],
    "External Platforms & Libraries": ["External Platform/Library", "Amazon", "Gradio", "Kaggle", "Databricks",
                                       "DL framework", "Google Colab"],
    "API Usage": ["API usage", "REST API"],
    "Spaces": [],
    "Other Issues": [],
}
BENEFIT_CATEGORIES = ["Expert Opinion and Clarification", "Collaboration to Solve Issues", "Acknowledgement of help",
                      "Call for collaboration", "Announcements", "People from Other Domains"]
BENEFIT_SUBCATEGORIES = {
    "Expert Opinion and Clarification": ["on Datasets", "on Training and Inference",
                                         "on Models, their Functionality and Output", "on API usage",
                                         "on External Platforms", "on Availability of Features",
                                         "Shared Link to Resources/Guidelines", "Sharing External Resources",
                                         "Other Solutions"],
    "Acknowledgement of help": ["Thanks for Solution", "Feedback on Solution"],
    "People from Other Domains": [],
}


def forumkit(*args: str) -> subprocess.CompletedProcess:
    """The `forumkit` command, in this process (tests/conftest.py: cli)."""
    return cli(*args)


def norm(text: str | None) -> str:
    return " ".join((text or "").split())


def tree(codebook: Codebook) -> dict[str, list[str]]:
    return {norm(c.name): [norm(s.name) for s in c.children] for c in codebook.categories}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


SMALL = """\
id: small
name: Small
version: "2"
codes:
  - id: A
    name: Alpha & Co
    definition: Things about "alpha" <and> more.
    children:
      - id: A.ONE
        name: One
        definition: |
          First line.
          Second line.
        include: when it is one
        examples: [an example, another]
      - id: A.TWO
        name: Two
  - id: B
    name: Beta
"""


# -- import ------------------------------------------------------------------------------------------------------
@needs_shared
def test_import_challenges_csv_gives_the_papers_taxonomy():
    cb = import_codebook(SHARED / "Challenges.csv", id="hf-challenges", name="HF challenges", id_prefix="CH")
    names = tree(cb)
    assert list(names) == CHALLENGE_CATEGORIES
    for category, subcategories in CHALLENGE_SUBCATEGORIES.items():
        assert names[category] == subcategories
    assert sum(map(len, names.values())) == 40 and len(cb) == 57
    speed = cb.find("CH.MEMORY_AND_PERFORMANCE.SPEED")
    assert speed.definition.startswith("Issues about the slow speed") and speed.examples[0].startswith("T16328")
    assert cb.find("CH.SPECIFIC_SOLUTION_NEED").definition  # a category without subcategories keeps its row's text
    assert cb.find("CH.MODEL_USAGE_AND_UNDERSTANDING").definition == ""


@needs_shared
def test_import_benefits_csv_with_trailing_empty_columns():
    cb = import_codebook(SHARED / "Benefits.csv")
    assert (cb.id, cb.name) == ("benefits", "Benefits")
    assert [c.id for c in cb.categories][:2] == ["BE.EXPERT_OPINION_AND_CLARIFICATION",
                                                 "BE.COLLABORATION_TO_SOLVE_ISSUES"]
    names = tree(cb)
    assert list(names) == BENEFIT_CATEGORIES
    for category, subcategories in BENEFIT_SUBCATEGORIES.items():
        assert names[category] == subcategories
    assert sum(map(len, names.values())) == 21


@needs_shared
def test_import_xlsx_sheets_match_the_csvs():
    default = import_codebook(SHARED / "Codebook.xlsx", id_prefix="CH")  # first sheet with the columns
    assert "Challenges" in default.description
    benefits = import_codebook(SHARED / "Codebook.xlsx", sheet="Benefits", id_prefix="BE")
    for book, csv_name, prefix in ((default, "Challenges.csv", "CH"), (benefits, "Benefits.csv", "BE")):
        from_csv = import_codebook(SHARED / csv_name, id_prefix=prefix)
        assert tree(book) == tree(from_csv)
        assert book.code_ids() == from_csv.code_ids()
        assert [norm(c.definition) for _, c in book.codes()] == [norm(c.definition) for _, c in from_csv.codes()]
    with pytest.raises(CodebookError, match="no sheet 'Nope'.*Challenges, Benefits, Overview"):
        import_codebook(SHARED / "Codebook.xlsx", sheet="Nope")


def test_import_dirty_csv_layout(tmp_path):
    csv_file = write(tmp_path, "Mine.csv",
                     '#,Category,Subcategory,Definition,Example,,\n'
                     '1,  Data  Stuff ,Loading/Saving ,"Reading, writing", "T1: ""quoted""" ,,\n'
                     ',,Loading/Saving,,second example,,\n'
                     '\n'
                     ',,,,,,\n'
                     ",,Other's things,Rest,,,\n"
                     '2,Lonely,,Only a category,ex,,\n')
    cb = import_codebook(csv_file, id="mine", id_prefix="MI")
    assert tree(cb) == {"Data Stuff": ["Loading/Saving", "Other's things"], "Lonely": []}
    loading = cb.by_path(["Data Stuff", "Loading/Saving"])
    assert loading.id == "MI.DATA_STUFF.LOADING_SAVING"
    assert loading.definition == "Reading, writing" and loading.examples == ('T1: "quoted"', "second example")
    assert cb.find("MI.DATA_STUFF.OTHERS_THINGS").definition == "Rest"
    assert cb.find("MI.LONELY").definition == "Only a category"
    assert Codebook.from_yaml(cb.to_yaml()) == cb


def test_import_missing_column_is_one_clear_error(tmp_path):
    csv_file = write(tmp_path, "codes.csv", "Topic#,Tag,Code\n1,Beginners,something\n")
    with pytest.raises(CodebookError) as caught:
        import_codebook(csv_file)
    line = caught.value.one_line()
    assert "codes.csv" in line and "Category or Subcategory" in line and "Topic#, Tag, Code" in line
    res = forumkit("codebook", "import", str(csv_file))
    assert res.returncode == 1 and res.stdout == ""
    assert res.stderr.strip().count("\n") == 0 and res.stderr.startswith("error: codes.csv has no Category")
    assert "Traceback" not in res.stderr


# -- shipped codebooks ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [CHALLENGES_YAML, BENEFITS_YAML], ids=lambda p: p.name)
def test_shipped_codebooks_validate_cleanly(path):
    assert validate_codebook(path) == []
    cb = load_codebook(path)
    assert "Taraghi" in cb.citation and "SANER" in cb.citation and "2401.13177" in cb.citation
    for _, code in cb.codes():
        assert code.definition, f"{code.id} has no definition"
        assert code.is_leaf is False or code.examples, f"{code.id} has no example"


@needs_shared
@pytest.mark.parametrize("path, csv_name, prefix, categories, codes",
                         [(CHALLENGES_YAML, "Challenges.csv", "CH", 17, 57),
                          (BENEFITS_YAML, "Benefits.csv", "BE", 6, 27)], ids=["challenges", "benefits"])
def test_shipped_codebooks_have_the_papers_names_in_our_own_words(path, csv_name, prefix, categories, codes):
    ours, paper = load_codebook(path), import_codebook(SHARED / csv_name, id_prefix=prefix)
    assert (len(ours.categories), len(ours)) == (categories, codes)
    assert tree(ours) == tree(paper)
    assert ours.code_ids() == paper.code_ids()  # a re-import of the paper's file gives our ids
    for (_, mine), (_, theirs) in zip(ours.codes(), paper.codes()):
        if theirs.definition:
            ratio = difflib.SequenceMatcher(None, norm(mine.definition).lower(),
                                            norm(theirs.definition).lower()).ratio()
            assert ratio < 0.8, f"{mine.id}: definition too close to the paper's ({ratio:.2f})"
        for example in mine.examples:
            assert not example.startswith("T") or not example[1:2].isdigit(), f"{mine.id} quotes a coded topic"
            for quoted in theirs.examples:
                assert difflib.SequenceMatcher(None, example.lower(), quoted.lower()).ratio() < 0.6


# -- validation ----------------------------------------------------------------------------------------------------
HEAD = 'id: t\nname: T\nversion: "1"\ncodes:\n'


@pytest.mark.parametrize("body, line, message", [
    ("  - id: A\n    name: Alpha\n  - id: B\n    name: Beta\n    children:\n      - id: A\n        name: Again\n",
     10, "duplicate id 'A' (first used at line 5)"),
    ("  - id: A\n    name: ''\n", 6, "code 'A' has an empty name"),
    ("  - id: A\n    name: Alpha\n  - name: Nameless\n", 7, "code 'Nameless' has no id"),
    ("  - &loop\n    id: A\n    name: Alpha\n    children:\n      - *loop\n",
     9, "cycle: a YAML alias puts code 'A' (line 5) inside itself"),
    ("  - id: A\n    name: Alpha\n    children:\n      - id: A\n        name: Inner\n",
     8, "cycle: code 'A' has the id of its own ancestor (line 5)"),
    ("  - id: A\n    name: [unclosed\n  - id: B\n", 7, "YAML syntax error: expected ',' or ']', but got ':'"),
    ("  - id: A\n    name: Alpha\n    examples: just one\n", 7,
     "'examples' of code 'A' must be a list of strings, not text"),
    ("  - id: A\n    name: Alpha\n    children: {id: B, name: Beta}\n", 7,
     "'children' of code 'A' must be a list of codes, not a mapping"),
], ids=["duplicate", "empty-name", "no-id", "alias-cycle", "id-cycle", "bad-yaml", "examples-type", "children-type"])
def test_each_problem_is_one_line_with_its_line_number(tmp_path, body, line, message):
    problems = validate_codebook(write(tmp_path, "cb.yaml", HEAD + body))
    assert len(problems) == 1, problems
    assert problems[0].line == line and problems[0].message.startswith(message) and problems[0].is_error


def test_missing_top_level_fields_and_unknown_keys(tmp_path):
    problems = validate_codebook(write(tmp_path, "cb.yaml", "id: t\ncodes:\n  - id: A\n    name: A\n    colour: red\n"))
    assert [(p.line, p.severity) for p in problems] == [(1, "error"), (1, "error"), (5, "warning")]
    assert "missing top-level field 'name'" in problems[0].message
    assert "missing top-level field 'version'" in problems[1].message
    assert "unknown key 'colour'" in problems[2].message
    only_warning = write(tmp_path, "only-warning.yaml", HEAD + "  - id: A\n    name: A\n    x: 1\n")
    assert [p.severity for p in validate_codebook(only_warning)] == ["warning"]
    load_codebook(tmp_path / "only-warning.yaml")  # warnings do not stop loading


def test_shared_examples_through_an_alias_are_fine_but_a_reused_code_is_not(tmp_path):
    ok = HEAD + "  - id: A\n    name: A\n    examples: &ex [one, two]\n  - id: B\n    name: B\n    examples: *ex\n"
    assert validate_codebook(write(tmp_path, "ok.yaml", ok)) == []
    assert load_codebook(tmp_path / "ok.yaml").find("B").examples == ("one", "two")
    reuse = HEAD + "  - &a\n    id: A\n    name: A\n  - id: B\n    name: B\n    children:\n      - *a\n"
    problems = validate_codebook(write(tmp_path, "reuse.yaml", reuse))
    assert [(p.line, p.message[:40]) for p in problems] == [(11, "a YAML alias repeats the code of line 5 ")]
    deep = HEAD + ("  - &top\n    id: A\n    name: A\n    children:\n"
                   "      - id: B\n        name: B\n        children: [*top]\n")
    assert "cycle" in validate_codebook(write(tmp_path, "deep.yaml", deep))[0].message


def test_load_codebook_raises_listing_the_problems(tmp_path):
    path = write(tmp_path, "bad.yaml", HEAD + "  - id: A\n    name: A\n  - id: A\n    name: ''\n")
    with pytest.raises(CodebookError) as caught:
        load_codebook(path)
    assert "line 7: duplicate id 'A'" in caught.value.message
    assert "line 8: code 'A' has an empty name" in caught.value.message
    assert len(caught.value.problems) == 2
    with pytest.raises(CodebookError, match="does not exist"):
        load_codebook(tmp_path / "missing.yaml")


def test_validate_cli_prints_file_line_message_and_exit_codes(tmp_path):
    dup = write(tmp_path, "dup.yaml", HEAD + "  - id: A\n    name: A\n  - id: A\n    name: B\n")
    res = forumkit("codebook", "validate", str(dup))
    assert res.returncode == 1
    assert res.stdout.splitlines() == [f"{dup}:7: duplicate id 'A' (first used at line 5)"]
    assert "Traceback" not in res.stdout + res.stderr

    runner = CliRunner()  # the same command in process: faster
    broken = write(tmp_path, "broken.yaml", HEAD + "  - id: A\n    name: [unclosed\n  - id: B\n")
    res = runner.invoke(app, ["codebook", "validate", str(broken)])
    assert res.exit_code == 1 and len(res.stdout.splitlines()) == 1
    assert res.stdout.startswith(f"{broken}:7: YAML syntax error") and "Traceback" not in res.stdout

    res = runner.invoke(app, ["codebook", "validate", str(CHALLENGES_YAML)])
    assert (res.exit_code, res.stdout) == (0, "ok: 17 categories, 57 codes\n")
    warned = write(tmp_path, "warned.yaml", HEAD + "  - id: A\n    name: A\n    colour: red\n")
    res = runner.invoke(app, ["codebook", "validate", str(warned)])
    assert res.exit_code == 0 and res.stdout.splitlines() == [
        f"{warned}:7: warning: unknown key 'colour' in code 'A' is ignored "
        "(known: id, name, definition, include, exclude, examples, keywords, children)",
        "ok: 1 category, 1 code, 1 warning"]


# -- the model -------------------------------------------------------------------------------------------------
def test_yaml_round_trip(tmp_path):
    cb = Codebook.from_yaml(SMALL)
    assert cb.version == "2" and cb.find("A.ONE").definition == "First line.\nSecond line."
    text = cb.to_yaml()
    assert Codebook.from_yaml(text) == cb and Codebook.from_yaml(text).to_yaml() == text
    assert Codebook.from_dict(json.loads(json.dumps(cb.to_dict()))) == cb
    saved = cb.save(tmp_path / "out.yaml")
    assert validate_codebook(saved) == [] and load_codebook(saved) == cb
    shipped = load_codebook(CHALLENGES_YAML)
    assert Codebook.from_yaml(shipped.to_yaml()) == shipped


def test_lookups_by_path_and_category():
    cb = Codebook.from_yaml(SMALL)
    assert [(path, code.id) for path, code in cb.codes()] == [
        (("Alpha & Co",), "A"), (("Alpha & Co", "One"), "A.ONE"), (("Alpha & Co", "Two"), "A.TWO"), (("Beta",), "B")]
    assert cb.by_path(["Alpha & Co", "One"]).id == "A.ONE"  # names, as without alias
    assert cb.by_path(("A", "A.TWO")).id == "A.TWO"  # ids, as Label Studio reports them with alias
    assert cb.by_path(["A", "  one "]).id == "A.ONE"  # mixed, spacing and case forgiven
    assert cb.by_path("Beta").id == "B"
    assert cb.category_of("A.ONE") == ("Alpha & Co", "One")
    assert cb.category_of("B") == ("Beta", None)
    assert cb.parent_of("A.TWO").id == "A" and cb.parent_of("A") is None
    assert "A.ONE" in cb and "Z" not in cb and len(cb) == 4
    with pytest.raises(CodebookError, match="no code 'Three' under Alpha & Co"):
        cb.by_path(["Alpha & Co", "Three"])
    with pytest.raises(CodebookError) as caught:
        cb.find("A.ONF")
    assert "did you mean A.ONE" in caught.value.one_line()
    with pytest.raises(CodebookError, match="twice"):
        Codebook(id="x", name="X", categories=[Code("A", "A"), Code("B", "B", children=[Code("A", "C")])])


def test_table_is_flat_and_depth_first():
    frame = load_codebook(CHALLENGES_YAML).table()
    assert tuple(frame.columns) == TABLE_COLUMNS and len(frame) == 57
    first, second = frame.iloc[0], frame.iloc[1]
    assert (first.code_id, first.depth, first.category) == ("CH.MODEL_USAGE_AND_UNDERSTANDING", 0,
                                                             "Model Usage and Understanding")
    assert frame.parent_id.isna().sum() == 17 and frame.subcategory.isna().sum() == 17
    assert (second.parent_id, second.depth, second.subcategory, second["name"]) == (
        "CH.MODEL_USAGE_AND_UNDERSTANDING", 1, "Understanding Model Function", "Understanding Model Function")


# -- Label Studio ------------------------------------------------------------------------------------------------
def choices(element: ET.Element) -> list:
    return [(c.get("alias"), c.get("value"), choices(c)) for c in element.findall("Choice")]


def expected(codes) -> list:
    return [(c.id, c.name, expected(c.children)) for c in codes]


@pytest.mark.parametrize("unit", ["topic", "post"])
@pytest.mark.parametrize("memo", [True, False], ids=["memo", "no-memo"])
def test_label_config_is_valid_for_label_studio(unit, memo):
    books = [load_codebook(CHALLENGES_YAML), load_codebook(BENEFITS_YAML)]
    config = label_config(books, unit=unit, memo=memo)
    interface = LabelInterface(config)
    interface.validate()
    assert set(interface._controls) == {"hf_challenges", "hf_benefits"} | ({"memo"} if memo else set())
    root = ET.fromstring(config)
    assert root.find("HyperText").attrib == {"name": "item", "value": "$html"}
    assert root.find("Header").get("value") == "$title"
    assert (unit == "topic") == ("whole topic" in config) and (unit == "post") == ("this one post" in config)
    for book in books:
        taxonomy = root.find(f"Taxonomy[@name='{taxonomy_name(book)}']")
        assert taxonomy.get("toName") == "item" and taxonomy.get("leafsOnly") == "false"
        assert choices(taxonomy) == expected(book.categories)  # the tree round-trips
        aliases = [c.get("alias") for c in taxonomy.iter("Choice")]
        assert sorted(aliases) == sorted(book.code_ids()) and len(set(aliases)) == len(aliases)
        assert sorted(interface.get_control(taxonomy_name(book)).labels) == sorted(book.code_ids())
    memo_tag = root.find("TextArea")
    assert (memo_tag is not None) == memo
    if memo:
        assert memo_tag.get("toName") == "item" and memo_tag.get("editable") == "true"


def test_taxonomy_results_map_back_to_codes():
    cb = load_codebook(CHALLENGES_YAML)
    interface = LabelInterface(label_config([cb]))
    path = ["CH.MEMORY_AND_PERFORMANCE", "CH.MEMORY_AND_PERFORMANCE.SPEED"]  # what Label Studio stores: aliases
    result = {"from_name": "hf_challenges", "to_name": "item", "type": "taxonomy",
              "value": {"taxonomy": [path, ["CH.SPACES"]]}}
    assert interface.validate_prediction({"result": [result]})
    names = ["Memory & Performance", "Speed"]
    assert not interface.validate_prediction({"result": [{**result, "value": {"taxonomy": [names]}}]})
    assert cb.by_path(path) == cb.by_path(names) == cb.find("CH.MEMORY_AND_PERFORMANCE.SPEED")
    assert cb.category_of(cb.by_path(["CH.SPACES"]).id) == ("Spaces", None)


def test_label_config_escapes_text_and_rejects_bad_input():
    cb = Codebook.from_yaml(SMALL)
    config = label_config(cb, unit="post")
    LabelInterface(config).validate()
    alpha = ET.fromstring(config).find(".//Choice[@alias='A']")
    assert alpha.get("value") == "Alpha & Co" and alpha.get("hint") == 'Things about "alpha" <and> more.'
    assert ET.fromstring(config).find(".//Choice[@alias='A.ONE']").get("hint") == "First line. Second line."
    with pytest.raises(UsageError, match="unknown unit 'thread'"):
        label_config([cb], unit="thread")
    with pytest.raises(CodebookError, match="both become Taxonomy 'small'"):
        label_config([cb, cb])
    with pytest.raises(CodebookError, match="clashes"):
        label_config([Codebook(id="memo", name="M", categories=[Code("A", "A")])])


# -- the other commands, in process ----------------------------------------------------------------------------------
def test_show_config_and_import_commands(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["codebook", "show", str(BENEFITS_YAML)])
    assert res.exit_code == 0 and "HF benefits (hf-benefits v1.0): 6 categories, 27 codes" in res.stdout
    assert "BE.ANNOUNCEMENTS.OTHER_ANNOUNCEMENTS" in res.stdout
    res = runner.invoke(app, ["codebook", "config", str(CHALLENGES_YAML), str(BENEFITS_YAML), "--unit", "post",
                              "--no-memo"])
    assert res.exit_code == 0
    LabelInterface(res.stdout).validate()
    assert "TextArea" not in res.stdout and 'alias="BE.PEOPLE_FROM_OTHER_DOMAINS"' in res.stdout
    csv_file = write(tmp_path, "Codes.csv", "#,Category,Subcategory,Definition,Example\n1,Cat,Sub,Def :hugs:,[x]\n")
    res = runner.invoke(app, ["codebook", "import", str(csv_file), "--prefix", "X", "--id", "codes"])
    assert res.exit_code == 0
    cb = Codebook.from_yaml(res.stdout)
    assert cb.find("X.CAT.SUB").definition == "Def :hugs:" and cb.find("X.CAT.SUB").examples == ("[x]",)
    res = runner.invoke(app, ["codebook", "import", str(csv_file), "--out", str(tmp_path / "c.yaml")])
    assert res.exit_code == 0 and load_codebook(tmp_path / "c.yaml").find("CO.CAT").name == "Cat"


def test_keywords_are_read_kept_and_checked(tmp_path):
    good = tmp_path / "kw.yaml"
    good.write_text(HEAD + "  - id: A\n    name: A\n    keywords: [out of memory, '  oom  ', cuda]\n", encoding="utf-8")
    book = load_codebook(good)
    assert book.find("A").keywords == ("out of memory", "oom", "cuda")
    assert Codebook.from_yaml(book.to_yaml()).find("A").keywords == book.find("A").keywords
    assert book.to_dict()["codes"][0]["keywords"] == ["out of memory", "oom", "cuda"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEAD + "  - id: A\n    name: A\n    keywords:\n      - fine\n      - 404\n", encoding="utf-8")
    assert [(p.line, p.message) for p in validate_codebook(bad)] == [(9, "keyword 2 of code 'A' must be text, "
                                                                         "not a number")]
    for name in ("hf-challenges", "hf-benefits"):  # every shipped code has keywords
        assert all(code.keywords for _, code in load_codebook(name).codes())
