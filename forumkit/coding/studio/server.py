"""Run a real Label Studio server headless on 127.0.0.1, from its own virtual environment.

Label Studio pins its own Django stack and SDK, so it lives in a separate
virtual environment (``.venv-studio`` by default), created on first use. Its
data directory, log and login live under the working folder
(``forumkit-work/studio/`` by default); ``server.json`` there says how to
reach the running server, so that ``forumkit studio push`` and ``pull`` find it.

Facts that shape this module (measured with label-studio 1.23.2 on 2 cores):
the first start of a new data directory runs migrations for about a minute;
a restart takes a few seconds; the admin user and its legacy API token are
created from environment variables on that first start only; and a busy port
makes label-studio silently take another one, so we pick a free port and check
that /health answers on it.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import httpx

from forumkit.errors import StudioError

log = logging.getLogger(__name__)

LABEL_STUDIO_VERSION = "1.23.2"
DEFAULT_VENV = Path(".venv-studio")
DEFAULT_WORKDIR = Path("forumkit-work") / "studio"
ADMIN_EMAIL = "admin@forumkit.local"
FIRST_START_TIMEOUT = 300.0
RESTART_TIMEOUT = 120.0


@dataclass(frozen=True)
class ServerInfo:
    """How to reach a Label Studio server forumkit started (stored as server.json)."""

    url: str
    token: str
    email: str
    password: str
    pid: int
    port: int
    data_dir: str
    log_file: str

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.chmod(tmp, 0o600)  # holds a password and a token
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "ServerInfo":
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            raise StudioError(f"no Label Studio server was started from {path.parent}",
                              hint="start one with `forumkit studio up`") from None
        except (ValueError, TypeError) as exc:
            raise StudioError(f"{path} is damaged: {exc}", hint="delete it and run `forumkit studio up`") from exc


def studio_bin(venv: Path) -> Path:
    return venv / "bin" / "label-studio"


def ensure_venv(venv: Path = DEFAULT_VENV, *, on_step: Callable[[str], None] | None = None) -> Path:
    """The label-studio executable in ``venv``; creates the environment and installs it if missing (~1 GB)."""
    exe = studio_bin(venv)
    if exe.exists():
        return exe
    if on_step:
        on_step(f"installing label-studio {LABEL_STUDIO_VERSION} into {venv} (once; about 2 minutes)")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, text=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                        f"label-studio=={LABEL_STUDIO_VERSION}"], check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr or exc.stdout or "").strip().splitlines()[-1:] or ["no output"]
        raise StudioError(f"installing label-studio into {venv} failed: {last[0]}",
                          hint="check the network to the package index, or pass --venv to an existing one") from exc
    if not exe.exists():
        raise StudioError(f"{venv} has no label-studio executable after installing it",
                          hint="delete the folder and try again")
    return exe


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _log_tail(log_file: Path, lines: int = 3) -> str:
    try:
        text = log_file.read_text(errors="replace").strip().splitlines()
    except FileNotFoundError:
        return "no log"
    interesting = [line for line in text if "Error" in line or "error" in line] or text
    return " | ".join(interesting[-lines:])


def start(workdir: Path = DEFAULT_WORKDIR, *, venv: Path = DEFAULT_VENV, port: int | None = None,
          template: Path | None = None, on_step: Callable[[str], None] | None = None) -> ServerInfo:
    """Start Label Studio headless on 127.0.0.1 and wait until /health answers.

    Returns the running server if server.json points at a healthy one. ``template``
    is a data directory already migrated (copied, to skip a minute of migrations).
    """
    workdir = Path(workdir)
    info_path = workdir / "server.json"
    if info_path.exists():
        info = ServerInfo.load(info_path)
        if _pid_alive(info.pid) and healthy(info.url):
            return info
    exe = ensure_venv(venv, on_step=on_step)
    data_dir = workdir / "data"
    first_start = not (data_dir / "label_studio.sqlite3").exists()
    if first_start and template is not None:
        shutil.copytree(template, data_dir, dirs_exist_ok=True)
        first_start = False
    login_path = workdir / "login.json"
    if login_path.exists():
        login = json.loads(login_path.read_text())
    else:
        login = {"email": ADMIN_EMAIL, "password": secrets.token_urlsafe(12), "token": secrets.token_hex(20)}
        if template is not None and (template.parent / "login.json").exists():
            login = json.loads((template.parent / "login.json").read_text())
        workdir.mkdir(parents=True, exist_ok=True)
        login_path.write_text(json.dumps(login))
        os.chmod(login_path, 0o600)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log_file = workdir / "label-studio.log"
    env = {
        **os.environ,
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir.resolve()),
        "LABEL_STUDIO_USERNAME": login["email"],
        "LABEL_STUDIO_PASSWORD": login["password"],
        "LABEL_STUDIO_USER_TOKEN": login["token"],
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": "", "COLLECT_ANALYTICS": "false",
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    if on_step:
        on_step("starting Label Studio" + (" (first start: migrating its database, about a minute)"
                                           if first_start else ""))
    with open(log_file, "ab") as logf:
        proc = subprocess.Popen(
            [str(exe), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port)],
            stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=str(workdir),
            start_new_session=True,  # outlives the command that started it; `studio down` stops it
        )
    deadline = time.monotonic() + (FIRST_START_TIMEOUT if first_start else RESTART_TIMEOUT)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StudioError(f"Label Studio exited during start (code {proc.returncode}): {_log_tail(log_file)}",
                              hint=f"see {log_file}")
        if healthy(url):
            info = ServerInfo(url=url, token=login["token"], email=login["email"], password=login["password"],
                              pid=proc.pid, port=port, data_dir=str(data_dir), log_file=str(log_file))
            info.save(info_path)
            return info
        time.sleep(0.5)
    _kill(proc.pid)
    raise StudioError(f"Label Studio did not answer on {url}/health in time", hint=f"see {log_file}")


def _kill(pid: int, grace: float = 15.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return
        try:  # reap it if it is our child
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop(workdir: Path = DEFAULT_WORKDIR) -> bool:
    """Stop the server started from ``workdir``. Returns False if none was running."""
    info_path = Path(workdir) / "server.json"
    if not info_path.exists():
        return False
    info = ServerInfo.load(info_path)
    running = _pid_alive(info.pid)
    if running:
        _kill(info.pid)
    info_path.unlink()
    return running


def status(workdir: Path = DEFAULT_WORKDIR) -> ServerInfo | None:
    """The server started from ``workdir`` if it is up and healthy."""
    info_path = Path(workdir) / "server.json"
    if not info_path.exists():
        return None
    info = ServerInfo.load(info_path)
    return info if _pid_alive(info.pid) and healthy(info.url) else None
