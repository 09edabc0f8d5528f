"""The errors a new user meets first: each is one line that says what is wrong and what to do, with the right exit
code and no traceback, through the real command line (`python -m forumkit` in a subprocess).

Label Studio not installable or its port busy, no network, a URL that is not a Discourse forum, an empty store,
a sample name that does not exist. None of them starts a Label Studio server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from forumkit.fakes.discourse import FakeDiscourse, generate_forum
from forumkit.store import Store

ROOT = Path(__file__).resolve().parents[1]


def forumkit(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k != "FORUMKIT_STUDIO_TOKEN"}
    return subprocess.run([sys.executable, "-m", "forumkit", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env={**base, **(env or {})})


def error_line(res: subprocess.CompletedProcess, code: int = 1) -> str:
    """The one `error: <what>; <what to do>` line, last on stderr (a progress line may come before it)."""
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert res.returncode == code and len(errors) == 1 and lines[-1] == errors[0], res.stderr
    assert "Traceback" not in res.stderr and "; " in errors[0], res.stderr
    return errors[0]


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, Path]:
    """An empty store (no forum), and a store of a forum whose scrape found no topics (--since in the future)."""
    folder = tmp_path_factory.mktemp("stores")
    empty, none = folder / "empty.db", folder / "no-topics.db"
    Store(empty).close()
    with FakeDiscourse(generate_forum(n_topics=3, seed=5)) as server:
        res = forumkit("scrape", server.url, "--db", str(none), "--since", "2099-01-01", "-q")
    assert res.returncode == 0, res.stderr
    with Store(none) as store:
        assert store.forums() and store.counts()["topics"] == 0
    return {"empty": empty, "no topics": none}


@pytest.mark.parametrize("kind, command", [("no topics", ["sample", "--name", "round1"]),
                                           ("no topics", ["report", "--out", "{tmp}/report"]),
                                           ("empty", ["export", "posts", "--out", "{tmp}/posts.csv"])])
def test_a_store_without_topics(stores, tmp_path, kind, command):
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    line = error_line(forumkit(*args, "--db", str(stores[kind])))
    assert ("holds no forum" in line or "holds no topics" in line) and "forumkit scrape URL --db PATH" in line
    assert not (tmp_path / "posts.csv").exists() and not (tmp_path / "report" / "index.html").exists()


@pytest.mark.parametrize("command", [
    ["studio", "push", "--sample", "nope", "--codebook", "hf-challenges", "--url", "http://127.0.0.1:9"],
    ["suggest", "codes", "--sample", "nope", "--codebook", "hf-challenges", "--out", "{tmp}/suggestions.csv"],
])
def test_a_sample_that_does_not_exist(stores, tmp_path, command):
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    line = error_line(forumkit(*args, "--db", str(stores["empty"]), env={"FORUMKIT_STUDIO_TOKEN": "x"}), code=2)
    assert "no sample" in line and "'nope'" in line and "forumkit sample" in line and "--name nope" in line


def test_no_network(tmp_path):
    """Nothing listens on the port (what a missing network, a wrong host or a typo in the port look like)."""
    line = error_line(forumkit("scrape", "http://127.0.0.1:9/", "--db", str(tmp_path / "f.db"), "--retries", "0"))
    assert "Connection refused" in line and "check the URL and the network connection" in line


@pytest.fixture
def web_site(tmp_path):
    """A plain web site on loopback: an HTML home page, 404 for everything else."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<html><body><h1>Not a forum</h1></body></html>")
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "site")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_url_that_is_not_a_discourse_forum(web_site, tmp_path):
    line = error_line(forumkit("scrape", web_site, "--db", str(tmp_path / "f.db"), "--retries", "0"))
    assert f"{web_site} does not look like a Discourse forum" in line
    assert "give the base URL of a Discourse forum" in line


def test_label_studio_port_busy(tmp_path):
    """A port in use fails at once, before Label Studio is installed or started (it would take another port)."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        res = forumkit("studio", "up", "--port", str(port), "--workdir", str(tmp_path / "studio"),
                       "--venv", str(tmp_path / "no-venv-yet"))
        took = time.monotonic() - started
    line = error_line(res)
    assert f"port {port} on 127.0.0.1 is in use" in line and "--port" in line
    assert took < 60 and not (tmp_path / "no-venv-yet").exists() and not (tmp_path / "studio" / "data").exists()


def test_label_studio_venv_cannot_be_made(tmp_path):
    (tmp_path / "a-file").write_text("")
    line = error_line(forumkit("studio", "up", "--workdir", str(tmp_path / "studio"),
                               "--venv", str(tmp_path / "a-file" / "venv")))
    assert "cannot create a virtual environment" in line and "pass --venv to" in line


def test_label_studio_cannot_be_installed_without_the_package_index(tmp_path):
    """pip cannot reach the package index: the error says so and what to do (about 20 s: the venv is real)."""
    offline = {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "0", "PIP_TIMEOUT": "2",
               "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "", "PIP_NO_INDEX": ""}
    line = error_line(forumkit("studio", "up", "--workdir", str(tmp_path / "studio"),
                               "--venv", str(tmp_path / "venv"), env=offline))
    assert "installing label-studio into" in line and "failed" in line
    assert "check the network to the package index" in line and "--venv" in line
