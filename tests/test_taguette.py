"""forumkit's codebooks in a real QDA tool: Taguette, started on loopback, imports them through its web pages.

Taguette (1.5) reads codebooks only as CSV (a ``tag`` and a ``description`` column; see docs/interop.md): it
exports REFI-QDA .qdc but cannot import one. So the test imports `forumkit codebook export ... --out x.csv`
exactly as a browser does (log in with the single-user token, create a project, upload the file on "Import
codebook", submit the confirmation form with its cookies and XSRF field, text boxes as a browser sends them),
then reads the project's tags back through Taguette's own exports (codebook.csv and codebook.qdc). It also
checks that Taguette refuses forumkit's .qdc, and that `forumkit export qdc|taguette` from a store writes the
project's codebooks (the .qdc valid against the REFI-QDA Codebook schema, with the .qdpx's GUIDs).

Taguette runs from its own virtual environment, ``.venv-taguette`` at the repository root, made on first use
with pip (about 25 s with an empty pip cache); each run starts a server with a fresh database in a temporary
folder and stops it at the end.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
import httpx
from lxml import etree

from forumkit.coding.codebook import load_codebook
from forumkit.coding.qdc import CODEBOOK_NAMESPACE, taguette_rows
from forumkit.coding.qdpx import NAMESPACE, export_qdpx
from forumkit.coding.studio.server import free_port
from forumkit.store import Store

from .conftest import cli
from .test_qdpx import coded  # noqa: F401  (the store with pushed codebooks and coded items)

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-taguette"
TAGUETTE = "taguette==1.5.2"
#: The tag Taguette gives every new project.
DEFAULT_TAG = {"interesting": "Further review required"}
CODEBOOK_XSD = etree.XMLSchema(etree.parse(str(Path(__file__).parent / "data" / "refi-qda-codebook-1.0.xsd")))

# A codebook with what a naive import loses: non-ASCII text (a short UTF-8 file without a byte-order mark is
# read as Latin-1 by Taguette's encoding guess), line breaks, markup characters, a "/" in a name, three levels.
SMALL = """\
id: interop
name: Interop check
version: "2"
codes:
  - id: IO.TOOLS
    name: Tools & <editors>
    definition: |-
      Posts about the tools people use: naïve — ✓ 日本.
      A second line.
    include: Editors, "IDEs" and notebooks.
    children:
      - id: IO.TOOLS.CLI
        name: CLI / shell
        definition: Command lines.
        examples: [runs it with nohup, pipes it to jq]
        children:
          - id: IO.TOOLS.CLI.PIPES
            name: Pipes
            definition: Shell pipelines.
  - id: IO.OTHER
    name: Other
    definition: Everything else.
"""


@pytest.fixture(scope="module")
def taguette(tmp_path_factory):
    """(base URL, single-user token) of a Taguette server with an empty database, stopped after the module."""
    exe = VENV / "bin" / "taguette"
    if not exe.exists():
        steps = [[str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", TAGUETTE]]
        if not (VENV / "bin" / "python").exists():
            steps.insert(0, [sys.executable, "-m", "venv", str(VENV)])
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True)
            if done.returncode:
                pytest.fail(f"{' '.join(step)} failed (the package index must be reachable): "
                            f"{(done.stderr or done.stdout)[-1500:]}", pytrace=False)
    home = tmp_path_factory.mktemp("taguette")
    port = free_port()
    log = home / "taguette.log"
    env = {**os.environ, "HOME": str(home), "TORNADO_SHUTDOWN_TIME": "0"}  # stop at once on SIGTERM
    with log.open("w") as handle:
        proc = subprocess.Popen([str(exe), "--no-browser", "--bind", "127.0.0.1", "--port", str(port),
                                 "--database", str(home / "taguette.sqlite3")],
                                cwd=home, env=env, stdout=handle, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        token = None
        while token is None:
            found = re.search(r"\?token=([0-9a-f]+)", log.read_text())
            token = found and found.group(1)
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Taguette did not start: {log.read_text()[-2000:]}", pytrace=False)
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", token
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class _Forms(HTMLParser):
    """The fields a browser submits for each form of a page: action -> [(name, value)].

    Hidden inputs, checked checkboxes ("on" unless they have a value) and text inputs, whose value loses its
    line breaks as HTML's value sanitization says; disabled inputs and submit buttons are not sent.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, list[tuple[str, str]]] = {}
        self._fields: list[tuple[str, str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._fields = self.forms.setdefault(a.get("action", ""), [])
        elif tag == "input" and self._fields is not None and a.get("name") and "disabled" not in a:
            kind = a.get("type", "text")
            if kind == "hidden":
                self._fields.append((a["name"], a.get("value", "")))
            elif kind == "text":
                self._fields.append((a["name"], re.sub("[\r\n]", "", a.get("value", ""))))
            elif kind == "checkbox" and "checked" in a:
                self._fields.append((a["name"], a.get("value") or "on"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._fields = None


def _form(page: httpx.Response, action: str) -> list[tuple[str, str]]:
    assert page.status_code == 200, (page.status_code, page.text[-500:])
    parser = _Forms()
    parser.feed(page.text)
    assert action in parser.forms, f"no form posting to {action} on {page.url}: {list(parser.forms)}"
    return parser.forms[action]


def _new_project(base: str, token: str) -> tuple[httpx.Client, int]:
    """A browser session logged in with the single-user link, and the id of a project it created."""
    browser = httpx.Client(follow_redirects=True, timeout=30)
    assert browser.get(f"{base}/?token={token}").status_code == 200
    fields = dict(_form(browser.get(f"{base}/project/new"), "/project/new"))
    fields.update(name="forumkit interop", description="codebooks exported by forumkit")
    made = browser.post(f"{base}/project/new", data=fields)
    found = re.fullmatch(rf"{re.escape(base)}/project/(\d+)", str(made.url))
    assert made.status_code == 200 and found, (made.status_code, made.url)
    return browser, int(found.group(1))


def _upload(browser: httpx.Client, base: str, project: int, path: Path, kind: str) -> httpx.Response:
    page = f"/project/{project}/import_codebook"
    fields = _form(browser.get(base + page), page)
    return browser.post(base + page, data=dict(fields), files={"file": (path.name, path.read_bytes(), kind)})


def test_taguette_imports_the_codebook_csv_with_names_definitions_and_paths(taguette, tmp_path):
    base, token = taguette
    (tmp_path / "interop.yaml").write_text(SMALL, encoding="utf-8")
    books = [load_codebook(tmp_path / "interop.yaml"), load_codebook("hf-benefits")]
    out = tmp_path / "codebook.csv"
    ok = cli("codebook", "export", tmp_path / "interop.yaml", "hf-benefits", "--out", out)
    assert ok.returncode == 0, ok.stderr
    expected = dict(taguette_rows(books))
    assert len(expected) == 4 + len(books[1]) and ok.stderr.startswith(f"{len(expected)} codes ->")
    assert expected["Interop check/Tools & <editors>/CLI - shell/Pipes"].startswith("Shell pipelines.")
    assert expected["Interop check/Tools & <editors>"].startswith(
        'Posts about the tools people use: naïve — ✓ 日本. A second line. Include: Editors, "IDEs" and notebooks.')

    browser, project = _new_project(base, token)
    confirm = _upload(browser, base, project, out, "text/csv")
    page = f"/project/{project}/import_codebook"
    fields = _form(confirm, page)
    shown = {v: dict(fields).get(k.replace("-path", "-description")) for k, v in fields if k.endswith("-path")}
    assert shown == expected  # the confirmation page lists every code, its description unchanged
    assert sum(k.endswith("-import") for k, _ in fields) == len(expected)  # all ticked for import
    done = browser.post(base + page, data=dict(fields))
    assert done.status_code == 200 and str(done.url) == f"{base}/project/{project}", (done.url, done.text[-500:])

    exported = browser.get(f"{base}/project/{project}/export/codebook.csv")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8"))))
    assert {r["tag"]: r["description"] for r in rows} == {**expected, **DEFAULT_TAG}
    # The project page (what the coder sees) has the same tags.
    page = browser.get(f"{base}/project/{project}").text
    script = re.search(r"var tags = (\{.*?\});\n", page).group(1)
    tags = json.loads(script.replace("\\x3C", "\\u003C"))  # JSON in a script, its "<" escaped the JavaScript way
    assert {t["path"]: t["description"] for t in tags.values()} == {**expected, **DEFAULT_TAG}

    # The hierarchy is the path: each sub-code's tag starts with its parent's, and Taguette's highlights of a
    # tag include those of the tags under it. A highlight on the third level shows under each of its parents.
    for path in expected:
        assert path.rpartition("/")[0] in {*expected, "Interop check", "HF benefits"}, path
    xsrf = {"_xsrf": browser.cookies["_xsrf"]}
    added = browser.post(f"{base}/api/project/{project}/document/new",
                         data={**xsrf, "name": "a post", "description": "", "text_direction": "LEFT_TO_RIGHT"},
                         files={"file": ("post.html", b"<p>I pipe the output to jq and it hangs.</p>", "text/html")})
    assert added.status_code == 200, added.text
    tag_id = {t["path"]: t["id"] for t in tags.values()}
    pipes = "Interop check/Tools & <editors>/CLI - shell/Pipes"
    highlight = browser.post(f"{base}/api/project/{project}/document/{added.json()['created']}/highlight/new",
                             params=xsrf, json={"start_offset": 2, "end_offset": 18, "tags": [tag_id[pipes]]})
    assert highlight.status_code == 200, highlight.text
    under = {path: len(browser.get(f"{base}/api/project/{project}/highlights/{quote(path, safe='')}")
                       .json()["highlights"])
             for path in (pipes, "Interop check/Tools & <editors>/CLI - shell", "Interop check/Tools & <editors>",
                          "Interop check", "Interop check/Other", "HF benefits")}
    assert under == {pipes: 1, "Interop check/Tools & <editors>/CLI - shell": 1, "Interop check/Tools & <editors>": 1,
                     "Interop check": 1, "Interop check/Other": 0, "HF benefits": 0}

    # Taguette's own .qdc is flat (every tag a top-level code named by its path) and without the descriptions;
    # its one departure from the REFI-QDA Codebook schema is an empty <Sets/> (the schema wants a <Set> in it).
    qdc = browser.get(f"{base}/project/{project}/export/codebook.qdc")
    tree = etree.fromstring(qdc.content)
    assert not CODEBOOK_XSD.validate(tree)
    assert [e.message for e in CODEBOOK_XSD.error_log] == [
        f"Element '{{{CODEBOOK_NAMESPACE}}}Sets': Missing child element(s). Expected is ( {{{CODEBOOK_NAMESPACE}}}Set )."]
    codes = tree.findall(f"{{{CODEBOOK_NAMESPACE}}}Codes/{{{CODEBOOK_NAMESPACE}}}Code")
    assert sorted(c.get("name") for c in codes) == sorted({**expected, **DEFAULT_TAG})
    assert not tree.findall(f".//{{{CODEBOOK_NAMESPACE}}}Description")
    assert not tree.findall(f".//{{{CODEBOOK_NAMESPACE}}}Code/{{{CODEBOOK_NAMESPACE}}}Code")
    browser.close()


def test_taguette_refuses_a_qdc_and_a_csv_without_byte_order_mark_loses_its_accents(taguette, tmp_path):
    base, token = taguette
    qdc = tmp_path / "codebook.qdc"
    assert cli("codebook", "export", "hf-benefits", "--out", qdc).returncode == 0
    browser, project = _new_project(base, token)
    refused = _upload(browser, base, project, qdc, "application/xml")
    assert refused.status_code == 400 and "alert" in refused.text  # "No 'tag', 'name', or 'path' column"

    # Why forumkit writes a byte-order mark: the same bytes without it are misread.
    plain = tmp_path / "plain.csv"
    plain.write_bytes("tag,description\nCafé,A place\n".encode("utf-8"))
    bom = tmp_path / "bom.csv"
    bom.write_bytes("tag,description\nCafé,A place\n".encode("utf-8-sig"))
    read = {}
    for path in (plain, bom):
        fields = _form(_upload(browser, base, project, path, "text/csv"), f"/project/{project}/import_codebook")
        read[path.name] = dict(fields)["tag0-path"]
    assert read["bom.csv"] == "Café" and read["plain.csv"] not in ("Café", ""), read
    browser.close()


def _qdc_codes(codes, above=()):
    """name path -> (guid, description, isCodable) over a REFI-QDA code tree (either namespace)."""
    out = {}
    for code in codes:
        path = above + (code.get("name"),)
        description = code.find(f"{code.tag.rpartition('}')[0]}}}Description")
        out[path] = (code.get("guid"), description.text if description is not None else None, code.get("isCodable"))
        out.update(_qdc_codes(code.findall(code.tag), path))
    return out


def test_export_qdc_and_taguette_write_the_projects_codebooks(coded, tmp_path):  # noqa: F811
    db, _, books = coded
    qdc = tmp_path / "p2.qdc"
    ok = cli("export", "qdc", "--db", db, "--project", "2", "--out", qdc)
    assert ok.returncode == 0, ok.stderr
    n_codes = 2 + len(books["hf-challenges"]) + len(books["hf-benefits"])
    assert ok.stderr.startswith(f"{n_codes} codes ->")
    tree = etree.parse(str(qdc)).getroot()
    CODEBOOK_XSD.assertValid(tree)
    assert tree.get("origin").startswith("forumkit ")
    from_qdc = _qdc_codes(tree.findall(f"{{{CODEBOOK_NAMESPACE}}}Codes/{{{CODEBOOK_NAMESPACE}}}Code"))
    assert len(from_qdc) == n_codes
    # The same tree, GUIDs and descriptions as the project file's codebook: one writer for both.
    with Store(db) as store:
        project_file = export_qdpx(store, tmp_path / "p2.qdpx", 2).path
    with zipfile.ZipFile(project_file) as archive:
        qde = etree.fromstring(archive.read("project.qde"))
    assert from_qdc == _qdc_codes(qde.findall(f"{{{NAMESPACE}}}CodeBook/{{{NAMESPACE}}}Codes/{{{NAMESPACE}}}Code"))
    assert from_qdc[("HF benefits",)][2] == "false" and from_qdc[("HF benefits",)][1].endswith("version 1.0")

    csv_path = tmp_path / "p1.csv"
    assert cli("export", "taguette", "--db", db, "--project", "1", "--out", csv_path).returncode == 0
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbftag,description\r\n")
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        assert [tuple(r) for r in csv.reader(handle)][1:] == taguette_rows([books["hf-challenges"]])

    bad = cli("export", "qdc", "--db", db, "--project", "1", "--out", tmp_path / "p1.xml")
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and ".qdc" in bad.stderr
    empty = tmp_path / "empty.db"
    with Store(empty):
        pass
    none = cli("export", "taguette", "--db", empty, "--out", tmp_path / "x.csv")
    assert none.returncode != 0 and none.stderr.startswith("error:") and len(none.stderr.strip().splitlines()) == 1
