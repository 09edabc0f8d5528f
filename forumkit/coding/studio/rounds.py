"""Coding rounds with blind coders: a balanced, seeded assignment, and one Label Studio server per coder.

A round is a sample, the codebooks it is coded with and the coders assigned to it: ``forumkit studio push
--round N --coders a@x,b@y,c@z --per-item 2`` gives each item to ``per_item`` of the coders (:func:`assign`),
so that each coder gets n*k/m items give or take one, pairs of coders share items as evenly as the greedy
choice allows, and the same seed gives the same assignment.

Why one server per coder. Blind coding needs each coder unable to see the others' codes. The community
edition of Label Studio cannot do that on one server, whatever the project settings: it has one
organization, and every member of it may list every project and read every task with its annotations
through the API with their own token (projects are filtered by organization only; per-project roles and
annotator isolation are Enterprise features: HumanSignal/label-studio issues #2905 and #742, "supported in
Enterprise version only"). ``tests/test_rounds.py`` shows it: a plain user who signed up with an invite link
reads another coder's annotation and memo. Hiding projects in the web interface, or giving each coder a
project of their own on the same server, hides nothing from the API. Separate organizations on one server
are not offered either: creating one is off unless the undocumented ``ALLOW_ORGANIZATION_CREATION`` is set,
the endpoint is left out of the API schema, new users join the first organization, and nothing in the
interface moves between them. So the mechanism is ``server-per-coder``: each coder has a Label Studio
server of their own (own data folder ``<workdir>/coders/<coder>/``, own port, own login, made from a
pristine migrated data folder so it starts in seconds), holding one project with that coder's assigned
tasks and nothing else. The coder's account is that server's user, with its own password and API token
(``forumkit studio login --workdir <workdir>/coders/<coder>`` prints what to hand the coder); that token is
unknown to every other server. The blank data folder's own user, copied into every coder's server, gets a new
token nobody knows there, so no token opens two coders' servers. ``studio pull --round N`` pulls each coder's project from its server, and
the coded dataset (:mod:`forumkit.coding.coded`) reads a round's projects as one coding of the sample.
"""

from __future__ import annotations

import json
import logging
import random
import re
import secrets
from collections import Counter
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Callable, Iterable, Sequence

import httpx
import pandas as pd

from forumkit.coding.codebook import Codebook
from forumkit.errors import StudioError, UsageError
from forumkit.store import Store
from . import server
from .client import PAGE_SIZE, Studio, fit_title
from .pull import PullResult, pull
from .push import push

__all__ = ["MECHANISM", "CoderPush", "RoundResult", "assign", "coder_studio", "coder_workdir", "parse_coders",
           "pull_round", "push_round"]

log = logging.getLogger(__name__)

#: How a round keeps its coders apart (``rounds.mechanism``).
MECHANISM = "server-per-coder"
_EMAIL = re.compile(r"^[^@\s,/\\]+@[^@\s,/\\]+$")


def parse_coders(text: str | Iterable[str]) -> tuple[str, ...]:
    """The coders' e-mails from ``a@x,b@y`` (or a list), in the order given; one-line errors for bad ones."""
    parts = [p.strip() for p in (text.split(",") if isinstance(text, str) else text)]
    coders = [p for p in parts if p]
    if not coders:
        raise UsageError("no coders given", hint="list their e-mails: --coders a@uni.edu,b@uni.edu")
    bad = [c for c in coders if not _EMAIL.match(c)]
    if bad:
        raise UsageError(f"'{bad[0]}' is not a coder's e-mail address",
                         hint="give e-mails separated by commas, e.g. --coders a@uni.edu,b@uni.edu")
    if server.ADMIN_EMAIL in coders:
        raise UsageError(f"{server.ADMIN_EMAIL} is forumkit's own Label Studio account", hint="give the coders' e-mails")
    doubled = [c for c, n in Counter(c.lower() for c in coders).items() if n > 1]
    if doubled:
        raise UsageError(f"coder {doubled[0]} is listed twice", hint="list each coder once")
    return tuple(coders)


def assign(item_ids: Sequence[int], coders: Sequence[str], per_item: int, seed: int = 0) -> dict[int, tuple[str, ...]]:
    """item id -> the ``per_item`` coders (sorted) who code it, balanced and seeded.

    Items are taken in a seeded shuffled order; each takes, one coder at a time, a coder of the least load among
    those not chosen yet (so loads never differ by more than one), preferring the one that has shared the fewest
    items with the coders already chosen for it (pairs as even as a greedy choice gets), ties drawn from the
    seeded generator. The coders' order does not matter; the same items, coders and seed give the same result.
    """
    people = sorted(set(coders))
    if per_item < 1:
        raise UsageError(f"--per-item {per_item} is not a positive number", hint="give 1 or more coders per item")
    if per_item > len(people):
        raise UsageError(f"--per-item {per_item} is more than the {len(people)} coders given",
                         hint=f"give --per-item {len(people)} or less, or list more --coders")
    rng = random.Random(seed)
    order = list(dict.fromkeys(item_ids))
    rng.shuffle(order)
    load = dict.fromkeys(people, 0)
    pairs: Counter[tuple[str, str]] = Counter()
    chosen_for: dict[int, tuple[str, ...]] = {}
    for item in order:
        chosen: list[str] = []
        for _ in range(per_item):
            rest = [c for c in people if c not in chosen]
            low = min(load[c] for c in rest)
            shared = {c: sum(pairs[tuple(sorted((c, d)))] for d in chosen) for c in rest if load[c] == low}
            fewest = min(shared.values())
            chosen.append(rng.choice([c for c, n in shared.items() if n == fewest]))
        for coder in chosen:
            load[coder] += 1
        pairs.update(tuple(sorted(pair)) for pair in combinations(chosen, 2))
        chosen_for[item] = tuple(sorted(chosen))
    return {item: chosen_for[item] for item in dict.fromkeys(item_ids)}


def coder_workdir(workdir: Path, coder: str) -> Path:
    """The folder of ``coder``'s own Label Studio server under the main server's work folder."""
    return Path(workdir) / "coders" / re.sub(r"[^a-z0-9]+", "-", coder.lower()).strip("-")


def template_data(workdir: Path, venv: Path, on_step: Callable[[str], None] | None = None) -> Path:
    """A migrated data folder with no project in it, made once (a minute) under ``<workdir>/coders/template``;
    each coder's server starts from a copy of it in seconds."""
    folder = Path(workdir) / "coders" / "template"
    if not (folder / "data" / "label_studio.sqlite3").exists():
        if on_step:
            on_step("preparing a blank Label Studio data folder for the coders' servers (once; about a minute)")
        server.start(folder, venv=venv, on_step=on_step)
        server.stop(folder)
    return folder / "data"


def coder_server(workdir: Path, coder: str, *, venv: Path = server.DEFAULT_VENV,
                 template: Path | None = None) -> tuple[server.ServerInfo, str]:
    """Start (or find running) ``coder``'s own server; (how to reach it, the coder's API token).

    The coder is that server's user, made on its first start with a password and token of its own (kept in its
    ``login.json``, mode 0600). A stopped server comes back on its old port when that port is free, so the
    URL recorded with its project stays right.
    """
    folder = coder_workdir(workdir, coder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    login_path = folder / "login.json"
    if login_path.exists():
        login = server.Login.load(login_path)
        if login.email != coder:
            raise UsageError(f"{folder} holds the server of {login.email}, not of {coder}",
                             hint="coders whose e-mails differ only in punctuation need distinct e-mails")
    else:
        login = server.Login(coder, secrets.token_urlsafe(12), secrets.token_hex(20))
        login.save(login_path)
    port = None
    if (folder / "server.json").exists():
        old = server.ServerInfo.load(folder / "server.json")
        port = old.port if server.port_free(old.port) else None
    fresh = not (folder / "data" / "label_studio.sqlite3").exists()
    info = server.start(folder, venv=venv, template=template, port=port)
    if fresh and template is not None and (template.parent / "login.json").exists():
        _retire_token(info.url, server.Login.load(template.parent / "login.json").token)
    return info, login.token


def _retire_token(url: str, token: str) -> None:
    """Give the template's user on a new coder's server a new, unknown token: the copied data folder holds that
    user, and its token, the same on every copy, must open no coder's server."""
    try:
        response = httpx.post(f"{url}/api/current-user/reset-token/", headers={"Authorization": f"Token {token}"},
                              timeout=60)
    except httpx.HTTPError as exc:
        raise StudioError(f"cannot reach the coder's Label Studio at {url} ({type(exc).__name__})",
                          hint="run the same push again") from exc
    if response.status_code != 201:
        raise StudioError(f"Label Studio at {url} refused to retire the template's token: HTTP "
                          f"{response.status_code}", hint="delete the coder's folder under coders/ and push again")


@dataclass(frozen=True)
class CoderPush:
    """One coder's part of a round: their server, their project and what the push did."""

    coder: str
    url: str
    project: int  # forumkit's id (studio_projects.id)
    project_id: int  # Label Studio's id on the coder's server
    items: int
    tasks_added: int
    tasks_kept: int
    login_file: Path

    @property
    def project_url(self) -> str:
        return f"{self.url}/projects/{self.project_id}/data"


@dataclass(frozen=True)
class RoundResult:
    round: int
    created: bool  # the round was recorded by this push (not a repeat)
    per_item: int
    seed: int
    coders: tuple[CoderPush, ...]


def push_round(store: Store, codebooks: Sequence[Codebook], *, round_no: int, coders: Sequence[str], per_item: int,
               seed: int, forum_id: int, unit: str, item_ids: Sequence[int], title: str, sample: str | None,
               workdir: Path, venv: Path = server.DEFAULT_VENV, template: Path | None = None,
               suggestions: pd.DataFrame | None = None, memo: bool = True,
               on_step: Callable[[str], None] | None = None,
               progress: Callable[[int, int], None] | None = None) -> RoundResult:
    """Assign the items, record the round, and push each coder's items to a project on the coder's own server.

    Pushing the same round again (same coders, per-item and seed, same items) adds what is missing, like any
    push; a round number already used for another assignment is an error. ``template``: a migrated data folder
    to copy for new coders' servers (default: one made once under ``<workdir>/coders/template``).
    """
    if round_no < 1:
        raise UsageError(f"--round {round_no} is not a positive number", hint="number rounds 1, 2, ...")
    coders = parse_coders(coders)
    assignment = assign(item_ids, coders, per_item, seed)
    versions = [(cb.id, cb.version) for cb in codebooks]
    created = _record(store, round_no, assignment, coders=coders, per_item=per_item, seed=seed, sample=sample,
                      forum_id=forum_id, unit=unit, codebooks=versions)
    workdir = Path(workdir)
    if template is None and any(not (coder_workdir(workdir, c) / "data").exists() for c in coders):
        template = template_data(workdir, venv, on_step)
    done = []
    for n, coder in enumerate(sorted(coders), 1):
        mine = [item for item, who in assignment.items() if coder in who]
        if on_step:
            on_step(f"coder {n}/{len(coders)} {coder}: starting their Label Studio server, pushing {len(mine)} items")
        info, token = coder_server(workdir, coder, venv=venv, template=template)
        result = push(store, Studio(info.url, token), codebooks, forum_id=forum_id, unit=unit, item_ids=mine,
                      title=fit_title(f"Round {round_no}: {title}"), sample=sample, coders=1,
                      suggestions=suggestions, memo=memo, progress=progress)
        store.set_project_round(result.project, round_no, coder)
        done.append(CoderPush(coder, info.url, result.project, result.project_id, len(mine), result.tasks_added,
                              result.tasks_kept, Path(info.login_file)))
    store.set_round_codebooks(round_no, versions)
    return RoundResult(round_no, created, per_item, seed, tuple(done))


def _record(store: Store, round_no: int, assignment: dict[int, tuple[str, ...]], *, coders: Sequence[str],
            per_item: int, seed: int, sample: str | None, forum_id: int, unit: str, codebooks: list) -> bool:
    """Record a new round; True. A repeat of a recorded round: False. Another assignment under its number:
    an error that says what to do."""
    row = store.round_row(round_no)
    if row is None:
        store.add_round(round_no, sample_id=sample, forum_id=forum_id, unit=unit, codebooks=codebooks,
                        coders=coders, per_item=per_item, seed=seed, mechanism=MECHANISM, assignment=assignment)
        return True
    if store.round_assignment(round_no) == assignment and row["sample_id"] == sample:
        return False
    free = max(store.round_numbers()) + 1
    raise UsageError(f"round {round_no} is already pushed with another assignment (sample {row['sample_id'] or '(list)'}"
                     f", coders {', '.join(json.loads(row['coders']))}, --per-item {row['per_item']},"
                     f" --seed {row['seed']})",
                     hint=f"push a new round with --round {free}, or repeat round {round_no} with its own sample, "
                          f"coders, --per-item and --seed")


def coder_studio(store: Store, project: int | None, workdir: Path,
                 venv: Path = server.DEFAULT_VENV) -> Studio | None:
    """A client for the coder's own server when ``project`` is a coder's project of a round, else None."""
    row = next((r for r in store.studio_projects() if r["id"] == project), None)
    if row is None or row["coder"] is None:
        return None
    info, token = coder_server(workdir, row["coder"], venv=venv)
    return Studio(info.url, token)


def pull_round(store: Store, round_no: int, workdir: Path, *, venv: Path = server.DEFAULT_VENV,
               page_size: int = PAGE_SIZE, on_step: Callable[[str], None] | None = None) -> list[PullResult]:
    """Pull every coder's project of the round from the coder's own server (started again if it was stopped)."""
    if store.round_row(round_no) is None:
        known = store.round_numbers()
        raise UsageError(f"no round {round_no} in {store.path}",
                         hint=f"rounds pushed: {', '.join(map(str, known))}" if known else
                         "push one first: forumkit studio push --round 1 --coders ...")
    rows = store.round_projects(round_no)
    results = []
    for n, row in enumerate(rows, 1):
        if on_step:
            on_step(f"coder {n}/{len(rows)} {row['coder']}: pulling project {row['id']}")
        info, token = coder_server(workdir, row["coder"], venv=venv)
        results.append(pull(store, Studio(info.url, token), row["id"], page_size=page_size))
    return results
