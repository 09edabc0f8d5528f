"""Run a real Label Studio server headless on 127.0.0.1, from its own virtual environment.

Label Studio pins its own Django stack and SDK, so it lives in a separate
virtual environment (``.venv-studio`` by default), created on first use. Its
data directory, log and login live under the working folder
(``forumkit-work/studio/`` by default); ``server.json`` there says how to
reach the running server, so that ``forumkit studio push`` and ``pull`` find it.

Secrets: the admin password and API token live in ``login.json`` only, created
with mode 0600 (as is ``server.json``, which holds no secret); they reach the
server through its environment, never a command line, and forumkit prints the
password only when asked (``forumkit studio login``) and the token never.
Commands take the token from ``$FORUMKIT_STUDIO_TOKEN`` or that file.

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
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable

import httpx

from forumkit.errors import StudioError

log = logging.getLogger(__name__)

LABEL_STUDIO_VERSION = "1.23.2"
DEFAULT_VENV = Path(".venv-studio")
DEFAULT_WORKDIR = Path("forumkit-work") / "studio"
ADMIN_EMAIL = "admin@forumkit.local"
TOKEN_ENV = "FORUMKIT_STUDIO_TOKEN"
FIRST_START_TIMEOUT = 300.0
RESTART_TIMEOUT = 120.0


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner only from the first byte (no window before a chmod).

    The file is made under a temporary name with mode 0600 and renamed over ``path``, so a reader sees the old
    file or the whole new one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Login:
    """The admin login of a Label Studio server forumkit started (``login.json``, mode 0600).

    The password and token never appear in a repr, a log line or a command line.
    """

    email: str
    password: str = field(repr=False)
    token: str = field(repr=False)

    @classmethod
    def new(cls) -> "Login":
        return cls(ADMIN_EMAIL, secrets.token_urlsafe(12), secrets.token_hex(20))

    def save(self, path: Path) -> None:
        write_private(path, json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> "Login":
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
            login = cls(**{name: raw[name] for name in ("email", "password", "token")})
            if not all(isinstance(v, str) and v for v in asdict(login).values()):
                raise ValueError("empty or non-text field")
            return login
        except FileNotFoundError:
            raise StudioError(f"no Label Studio login file at {path}",
                              hint="start the server with `forumkit studio up --workdir FOLDER`, "
                                   "or set FORUMKIT_STUDIO_TOKEN") from None
        except (OSError, ValueError, TypeError, KeyError) as exc:  # JSONDecodeError and UnicodeError are ValueErrors
            raise StudioError(f"the Label Studio login file {path} is damaged ({type(exc).__name__})",
                              hint="restore it from a backup, or set FORUMKIT_STUDIO_TOKEN to the API token") from None


@dataclass(frozen=True)
class ServerInfo:
    """How to reach a Label Studio server forumkit started (``server.json``, mode 0600; no secrets in it)."""

    url: str
    email: str
    pid: int
    port: int
    data_dir: str
    log_file: str
    login_file: str

    def save(self, path: Path) -> None:
        write_private(path, json.dumps(asdict(self), indent=2))

    def login(self) -> Login:
        """The admin login of this server (read from its login file)."""
        return Login.load(Path(self.login_file))

    @classmethod
    def load(cls, path: Path) -> "ServerInfo":
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if "login_file" not in raw:  # written by forumkit 0.1, which kept the login beside it
                raw["login_file"] = str(path.parent / "login.json")
            return cls(**{f.name: raw[f.name] for f in fields(cls)})
        except FileNotFoundError:
            raise StudioError(f"no Label Studio server was started from {path.parent}",
                              hint="start one with `forumkit studio up`") from None
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise StudioError(f"{path} is damaged ({type(exc).__name__})",
                              hint="delete it and run `forumkit studio up`") from None


def access(workdir: Path = DEFAULT_WORKDIR, *, url: str | None = None, token: str | None = None) -> tuple[str, str]:
    """(url, API token) of the server to use, settled once.

    The URL: ``url``, else the server `studio up` started from ``workdir``. The token: ``token`` (a command-line
    value, visible in `ps`: kept for old scripts), else ``$FORUMKIT_STUDIO_TOKEN``, else that server's login file.
    """
    info = None
    if url is None:
        info = ServerInfo.load(Path(workdir) / "server.json")
        url = info.url
    token = token or os.environ.get(TOKEN_ENV)
    if not token:
        login_file = Path(info.login_file) if info else Path(workdir) / "login.json"
        if info is None and not login_file.exists():
            raise StudioError(f"no API token for Label Studio at {url}",
                              hint=f"set {TOKEN_ENV}, or give the --workdir whose login.json belongs to that server")
        token = Login.load(login_file).token
    return url, token


def studio_bin(venv: Path) -> Path:
    return venv / "bin" / "label-studio"


def ensure_venv(venv: Path = DEFAULT_VENV, *, on_step: Callable[[str], None] | None = None) -> Path:
    """The label-studio executable in ``venv``; creates the environment and installs it if missing (~1 GB)."""
    venv = _absolute(venv)
    exe = studio_bin(venv)
    if exe.exists():
        return exe
    if on_step:
        on_step(f"installing label-studio {LABEL_STUDIO_VERSION} into {venv} (once; about 2 minutes)")
    _run_step([sys.executable, "-m", "venv", str(venv)], f"cannot create a virtual environment at {venv}",
              "pass --venv to a folder you can write to, or to a virtual environment that has label-studio "
              f"{LABEL_STUDIO_VERSION}")
    _run_step([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"label-studio=={LABEL_STUDIO_VERSION}"],
              f"installing label-studio into {venv} failed",
              f"check the network to the package index (pip installs label-studio=={LABEL_STUDIO_VERSION}; "
              "a proxy goes in HTTPS_PROXY or pip's config), or pass --venv to a virtual environment that has it")
    if not exe.exists():
        raise StudioError(f"{venv} has no label-studio executable after installing it",
                          hint="delete the folder and try again")
    return exe


def _run_step(command: list[str], failed: str, hint: str) -> None:
    """Run one step of the install; its failure is a StudioError with the last line the step printed."""
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except (subprocess.CalledProcessError, OSError) as exc:
        output = getattr(exc, "stderr", None) or getattr(exc, "stdout", None) or str(exc)
        last = output.strip().splitlines()[-1:] or ["no output"]
        raise StudioError(f"{failed}: {last[0]}", hint=hint) from exc


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:``port`` now (label-studio would silently take another)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


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

    Returns the running server if server.json points at a healthy one started there. ``template`` is a data
    directory already migrated (copied, to skip a minute of migrations), its login.json beside it. Paths are
    made absolute first: the server runs in ``workdir``, where a relative path would mean something else.
    """
    workdir, venv = _absolute(workdir), _absolute(venv)
    template = _absolute(template) if template is not None else None
    info_path = workdir / "server.json"
    if info_path.exists():
        info = ServerInfo.load(info_path)
        if _runs_our_server(info) and healthy(info.url):
            return info
    if port is not None and not port_free(port):  # before installing or starting anything: a quick, clear no
        raise StudioError(f"port {port} on 127.0.0.1 is in use by another program",
                          hint="pass another --port, or leave --port out to use a free one")
    exe = ensure_venv(venv, on_step=on_step)
    data_dir = workdir / "data"
    first_start = not (data_dir / "label_studio.sqlite3").exists()
    if first_start and template is not None:
        shutil.copytree(template, data_dir, dirs_exist_ok=True)
        first_start = False
    workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    login_path = workdir / "login.json"
    if login_path.exists():
        login = Login.load(login_path)
    else:
        template_login = template.parent / "login.json" if template is not None else None
        login = Login.load(template_login) if template_login and template_login.exists() else Login.new()
        login.save(login_path)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log_file = workdir / "label-studio.log"
    env = {  # the login goes by environment (private to the user), never by command line (visible in `ps`)
        **os.environ,
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
        "LABEL_STUDIO_USERNAME": login.email,
        "LABEL_STUDIO_PASSWORD": login.password,
        "LABEL_STUDIO_USER_TOKEN": login.token,
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": "", "COLLECT_ANALYTICS": "false",
    }
    env.pop(TOKEN_ENV, None)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if on_step:
        on_step("starting Label Studio" + (" (first start: migrating its database, about a minute)"
                                           if first_start else ""))
    log_fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(log_fd, "ab") as logf:
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
            info = ServerInfo(url=url, email=login.email, pid=proc.pid, port=port, data_dir=str(data_dir),
                              log_file=str(log_file), login_file=str(login_path))
            info.save(info_path)
            return info
        time.sleep(0.5)
    _kill(proc.pid)
    raise StudioError(f"Label Studio did not answer on {url}/health in time", hint=f"see {log_file}")


def _absolute(path: Path | str) -> Path:
    """``path`` made absolute against the current folder (``~`` expanded, symbolic links kept)."""
    return Path(os.path.abspath(Path(path).expanduser()))


def _command_line(pid: int) -> list[str] | None:
    """The arguments process ``pid`` runs with, or None if it is gone or cannot be read."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        if Path("/proc/self/cmdline").exists():
            return None  # Linux: the process is gone
        found = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True)
        return found.stdout.split() or None  # no /proc (macOS): ask ps
    except OSError:
        return None
    return [arg.decode(errors="replace") for arg in raw.split(b"\0") if arg]


def _runs_our_server(info: ServerInfo) -> bool:
    """Whether ``info.pid`` is still the Label Studio started there: label-studio, serving ``info.port``.

    A pid is reused once its process ends, so a stale server.json may name an unrelated program.
    """
    args = _command_line(info.pid)
    if not args:
        return False
    on_port = any(a == "--port" and b == str(info.port) for a, b in zip(args, args[1:]))
    return on_port and any(Path(a).name == "label-studio" for a in args)


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
    """Stop the server started from ``workdir``. Returns False if none was running.

    Only that server: a pid in server.json that now runs another program is left alone (an error says so).
    """
    info_path = _absolute(workdir) / "server.json"
    if not info_path.exists():
        return False
    info = ServerInfo.load(info_path)
    if not _pid_alive(info.pid):
        info_path.unlink()
        return False
    if not _runs_our_server(info):
        shown = " ".join(_command_line(info.pid) or ["(unreadable)"])[:120]
        raise StudioError(f"pid {info.pid} in {info_path} is not the Label Studio started there (it runs: {shown}); "
                          f"left it alone",
                          hint=f"that server is gone: delete {info_path}, or start a new one with `forumkit studio up`")
    _kill(info.pid)
    info_path.unlink()
    return True


def status(workdir: Path = DEFAULT_WORKDIR) -> ServerInfo | None:
    """The server started from ``workdir`` if it is up and healthy."""
    info_path = _absolute(workdir) / "server.json"
    if not info_path.exists():
        return None
    info = ServerInfo.load(info_path)
    return info if _runs_our_server(info) and healthy(info.url) else None
