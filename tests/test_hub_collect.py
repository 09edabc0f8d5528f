"""The Hub collector against the fake Hub over real HTTP: exact store, resume after kill -9,
incremental runs, malformed entries, rate limits, errors, filters and the export."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from forumkit.fakes.hub import PLACEHOLDER, FakeHub, Fault, generate_models
from forumkit.collect.hub import HubClient, HubCollector, HubOptions, HubRefused, HubUnavailable, parse_model
from forumkit.store import Store

from .conftest import cli

FLAGS = ("created_known", "has_card", "has_metrics", "has_model_index")
LISTS = ("base_models", "tags", "languages", "datasets")


@pytest.fixture(scope="module")
def generated():
    return generate_models(400, seed=21)


@pytest.fixture
def hub(generated):
    with FakeHub([dict(m) for m in generated], page_size=50) as server:
        yield server


def collect(hub: FakeHub, db: Path, options: HubOptions = HubOptions(), **client_args):
    client_args = {"rate": 0, "backoff": 0.01, **client_args}
    with Store(db) as store, HubClient(hub.url, **client_args) as client:
        return HubCollector(client, store, options).run()


def hub_cli(db: Path, *args: str, endpoint: str | None = None, env: dict | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """`forumkit hub crawl` as a user runs it: in its own process when ``env`` matters (the Hub client reads
    HF_ENDPOINT once, at import), else in this one (tests/conftest.py: cli)."""
    cmd = ["hub", "crawl", "--db", str(db), "--rate", "0", "-q", "--backoff", "0.01",
           *(["--endpoint", endpoint] if endpoint else []), *args]
    if env is None:
        return cli(*cmd)
    return subprocess.run([sys.executable, "-m", "forumkit", *cmd], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONUNBUFFERED": "1", **env})


def stored(db: Path) -> dict[str, dict]:
    """hub_models rows in the shape of FakeHub.ground_truth()."""
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    out = {}
    for r in con.execute("SELECT * FROM hub_models"):
        row = {k: r[k] for k in r.keys() if k not in ("endpoint", "fetched_at")}
        for k in LISTS:
            row[k] = json.loads(row[k])
        for k in FLAGS:
            row[k] = bool(row[k])
        row["card_data"] = json.loads(row["card_data"]) if row["card_data"] is not None else None
        out[row["id"]] = row
    con.close()
    return out


def assert_matches_truth(db: Path, hub: FakeHub, only: set[str] | None = None) -> None:
    truth = hub.ground_truth()
    if only is not None:
        truth = {k: v for k, v in truth.items() if k in only}
    got = stored(db)
    assert set(got) == set(truth)
    bad = {k: {c: (got[k][c], v[c]) for c in v if got[k][c] != v[c]} for k, v in truth.items() if got[k] != v}
    assert not bad, f"{len(bad)} models differ, e.g. {list(bad.items())[:3]}"


def runs(db: Path) -> list[dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM hub_runs ORDER BY id")]
    con.close()
    return rows


def listing_requests(hub: FakeHub) -> list:
    return [r for r in hub.requests if r.path == "/api/models"]


# -- full crawl ------------------------------------------------------------------------------------

def test_full_crawl_equals_ground_truth(hub, tmp_path):
    db = tmp_path / "h.db"
    result = collect(hub, db)
    assert_matches_truth(db, hub)
    assert result.models_stored == 400 and result.pages == result.requests == 8 and result.stopped == "end"
    (run,) = runs(db)
    assert run["status"] == "done" and run["next_url"] is None and run["models"] == 400 and run["requests"] == 8
    assert run["max_modified"] == max(m["lastModified"] for m in hub.models)
    rows = stored(db).values()
    assert any(not r["created_known"] and r["created_at"] == PLACEHOLDER for r in rows)
    assert any(r["model_type"] == "bert" for r in rows) and any(r["has_card"] for r in rows)
    assert all(r.user_agent.startswith("forumkit/") and r.authorization is None for r in hub.requests)


def test_first_request_is_what_list_models_sends(hub, tmp_path):
    from huggingface_hub import HfApi

    author = hub.models[-1]["author"]
    api = HfApi(endpoint=hub.url, token=False)
    next(iter(api.list_models(full=True, cardData=True, fetch_config=True, sort="last_modified", author=author,
                              pipeline_tag="text-generation", limit=10)), None)
    theirs = hub.requests[-1].query
    hub.clear_requests()
    collect(hub, tmp_path / "h.db", HubOptions(author=author, pipeline_tag="text-generation", limit=10))
    assert hub.requests[0].query == theirs
    assert theirs == (f"author={author}&pipeline_tag=text-generation&sort=lastModified&limit=10"
                      "&full=true&config=true&cardData=true")


def test_endpoint_comes_from_hf_endpoint(hub, tmp_path):
    res = hub_cli(tmp_path / "h.db", "--limit", "5", env={"HF_ENDPOINT": hub.url + "/"})
    assert res.returncode == 0, res.stderr
    assert len(stored(tmp_path / "h.db")) == 5 and runs(tmp_path / "h.db")[0]["endpoint"] == hub.url


# -- resume after kill -9 --------------------------------------------------------------------------

@pytest.mark.slow
def test_killed_crawls_resume_to_the_same_store(generated, tmp_path):
    db = tmp_path / "k.db"
    rng = random.Random(5)
    with FakeHub([dict(m) for m in generated], page_size=8, latency=0.08) as hub:  # 50 pages, >= 4 s
        kills = 0
        for _ in range(5):
            proc = subprocess.Popen([sys.executable, "-m", "forumkit", "hub", "crawl", "--db", str(db),
                                     "--endpoint", hub.url, "--rate", "0", "-q"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(1.0, 1.6))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait()
        assert kills >= 3, "the crawl finished too fast to be killed; raise the latency"
        done = hub_cli(db, endpoint=hub.url)
        assert done.returncode == 0, done.stderr
        assert_matches_truth(db, hub)
        # resumed from the committed cursor: at most one page fetched twice per kill
        assert len(listing_requests(hub)) <= 50 + kills
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM hub_models").fetchone()[0] == 400  # no duplicates
        assert con.execute("SELECT count(*) FROM hub_runs WHERE status = 'running'").fetchone()[0] == 0
        assert con.execute("SELECT count(*), sum(models) FROM hub_runs").fetchone() == (1, 400)


# -- incremental ------------------------------------------------------------------------------------

def test_rerun_fetches_only_what_changed(hub, generated, tmp_path):
    db = tmp_path / "h.db"
    collect(hub, db)
    added = [hub.add_model() for _ in range(3)]
    old = sorted(generated, key=lambda m: m["lastModified"])
    hub.modify_model(old[0]["id"], cardData={"license": "mit", "base_model": "google/bert-base"}, downloads=7)
    hub.modify_model(old[100]["id"], config={"model_type": "llama", "architectures": ["LlamaForCausalLM"]})
    hub.clear_requests()
    result = collect(hub, db)
    assert len(listing_requests(hub)) == 1 and result.stopped == "watermark"
    assert_matches_truth(db, hub)
    got = stored(db)
    assert all(m["id"] in got for m in added)
    assert got[old[0]["id"]]["license"] == "mit" and got[old[0]["id"]]["base_models"] == ["google/bert-base"]
    assert got[old[100]["id"]]["model_type"] == "llama"
    assert runs(db)[-1]["since_modified"] == runs(db)[0]["max_modified"]

    hub.clear_requests()  # nothing changed: one request, a handful of models within the margin
    again = collect(hub, db)
    assert len(listing_requests(hub)) == 1 and again.models_stored <= 6
    assert runs(db)[-1]["max_modified"] == runs(db)[-2]["max_modified"]

    hub.clear_requests()
    refresh = collect(hub, db, HubOptions(full_refresh=True))
    assert refresh.models_stored == 403 and len(listing_requests(hub)) == 9
    assert_matches_truth(db, hub)


def test_a_watermark_serves_only_runs_with_the_same_filters(hub, tmp_path):
    db = tmp_path / "h.db"
    author = max({m["author"] for m in hub.models}, key=lambda a: sum(m["author"] == a for m in hub.models))
    collect(hub, db, HubOptions(author=author))
    hub.clear_requests()
    collect(hub, db)  # another scope: a full listing, not stopped by the author run's watermark
    assert len(listing_requests(hub)) == 8
    assert_matches_truth(db, hub)


# -- malformed entries ------------------------------------------------------------------------------

def test_malformed_entries_are_recorded_and_never_crash(hub, tmp_path):
    base = {"author": "odd", "tags": ["transformers"], "lastModified": "2023-07-01T00:00:00.000Z",
            "private": False, "downloads": 1, "likes": 0}
    hub.add_model({**base, "id": "odd/no-created-at"})
    hub.add_model({**base, "createdAt": "2023-06-01T00:00:00.000Z"})  # no id
    hub.add_model({**base, "id": "odd/card-as-string", "createdAt": "2023-06-01T00:00:00.000Z",
                   "cardData": "---\nlicense: mit\n---"})
    hub.add_model({**base, "id": "odd/unknown-fields", "createdAt": "2023-06-01T00:00:00.000Z",
                   "brandNewField": {"x": 1}, "cardData": {"license": "mit", "newKey": [1, 2]}})
    hub.add_model({**base, "id": "odd/null-card", "createdAt": "2023-06-01T00:00:00.000Z", "cardData": None})
    hub.add_model({**base, "id": "odd/bad-date", "createdAt": "last tuesday"})
    hub.add_model({**base, "id": "odd/config-list", "createdAt": "2023-06-01T00:00:00.000Z", "config": [1]})
    hub.add_model({**base, "id": "odd/bad-model-index", "createdAt": "2023-06-01T00:00:00.000Z",
                   "cardData": {"license": ["mit", "apache-2.0"], "model-index": {"name": "not a list"}}})
    hub.add_model({**base, "id": "odd/placeholder", "createdAt": PLACEHOLDER, "tags": ["license:mit"]})
    db = tmp_path / "m.db"
    res = hub_cli(db, endpoint=hub.url)
    assert res.returncode == 0 and "Traceback" not in res.stderr and not res.stderr.strip(), res.stderr
    assert_matches_truth(db, hub)
    got = stored(db)
    assert got["odd/no-created-at"]["created_at"] is None and not got["odd/no-created-at"]["created_known"]
    assert not got["odd/placeholder"]["created_known"] and got["odd/placeholder"]["license"] == "mit"
    assert not got["odd/null-card"]["has_card"] and got["odd/unknown-fields"]["card_data"]["newKey"] == [1, 2]
    assert got["odd/bad-model-index"]["has_model_index"] and not got["odd/bad-model-index"]["has_metrics"]
    assert got["odd/bad-model-index"]["license"] == "mit,apache-2.0"
    with sqlite3.connect(db) as con:
        problems = dict(con.execute("SELECT coalesce(model_id, '-'), problem FROM hub_malformed"))
        (count,) = con.execute("SELECT malformed FROM hub_runs").fetchone()
    assert count == len(problems) == 4
    assert problems["-"] == "entry has no id"
    assert problems["odd/card-as-string"] == "cardData is string, not an object"
    assert problems["odd/config-list"] == "config is array, not an object"
    assert "last tuesday" in problems["odd/bad-date"]


def test_parse_model_is_pure():
    model = parse_model({"id": "a/b", "createdAt": "2023-01-02T03:04:05Z", "lastModified": "2023-01-02T03:04:05.5Z",
                         "config": {"model_type": "gpt2"}, "baseModels": {"relation": "finetune",
                                                                          "models": [{"_id": "x", "id": "c/d"}]},
                         "cardData": {"language": "en", "datasets": "squad", "metrics": ["f1"]}})
    assert model.created_at == "2023-01-02T03:04:05.000Z" and model.last_modified == "2023-01-02T03:04:05.500Z"
    assert model.model_type == "gpt2" and model.base_models == ("c/d",) and model.author == "a"
    assert model.languages == ("en",) and model.datasets == ("squad",) and model.has_metrics and model.has_card


def test_one_placeholder_rule_for_datetimes_and_stored_strings():
    from datetime import datetime, timezone

    from forumkit.collect.hub import is_placeholder

    for value in ("2022-03-02T23:29:04.000Z", "2022-03-02T23:29:59.999Z", "2022-03-02T23:29:04+00:00", None, "junk",
                  datetime(2022, 3, 2, 23, 29, 30, tzinfo=timezone.utc)):
        assert is_placeholder(value), value
    for value in ("2022-03-02T23:30:00.000Z", "2022-03-02T23:29:03.999Z",
                  datetime(2022, 3, 2, 23, 30, tzinfo=timezone.utc)):
        assert not is_placeholder(value), value
    placeholder_second = parse_model({"id": "a/b", "createdAt": "2022-03-02T23:29:45.000Z"})
    assert not placeholder_second.created_known and placeholder_second.created_at == "2022-03-02T23:29:45.000Z"


# -- politeness and errors -------------------------------------------------------------------------

def test_429_ratelimit_and_retry_after_are_honoured(hub, tmp_path):
    hub.add_fault(Fault("rate_limit", path="cursor=", times=1, retry_after=1))
    hub.add_fault(Fault("retry_after", path="cursor=", times=1, retry_after=1))
    collect(hub, tmp_path / "h.db")
    log = listing_requests(hub)
    limited = [i for i, r in enumerate(log) if r.status == 429]
    assert len(limited) == 2
    for i in limited:
        assert log[i + 1].time - log[i].time >= 1.0, "a request came before the rate-limit window reset"
    assert_matches_truth(tmp_path / "h.db", hub)


def test_a_spent_quota_blocks_the_next_request_before_any_429(generated, tmp_path):
    with FakeHub([dict(m) for m in generated[:150]], page_size=50, quota=2, window=1.0) as hub:
        collect(hub, tmp_path / "h.db")
        log = listing_requests(hub)
        assert [r.status for r in log] == [200, 200, 200]
        assert log[2].time - log[1].time >= 1.0
        assert_matches_truth(tmp_path / "h.db", hub)


def test_client_side_rate_limit(hub, tmp_path):
    collect(hub, tmp_path / "h.db", HubOptions(limit=200), rate=600)  # 10 requests a second
    times = [r.time for r in listing_requests(hub)]
    gaps = [b - a for a, b in zip(times, times[1:])]
    # paced at the client (0.1 s apart); arrival times at the server jitter by some milliseconds on a busy
    # machine, and the first request also opens the connection, so its arrival lags more than the others'
    assert len(times) == 4 and min(gaps) >= 0.07 and sum(gaps) / len(gaps) >= 0.09, gaps


def test_transient_errors_are_retried(hub, tmp_path):
    hub.add_fault(Fault("status", path="cursor=", times=1, status=503))
    hub.add_fault(Fault("status", path="cursor=", times=1, status=502))
    hub.add_fault(Fault("reset", path="cursor=", times=1))
    hub.add_fault(Fault("truncated", path="cursor=", times=1))
    hub.add_fault(Fault("html", times=1))
    hub.add_fault(Fault("slow", path="cursor=", times=1, delay=1.5))
    collect(hub, tmp_path / "h.db", timeout=0.5, retries=7)
    assert_matches_truth(tmp_path / "h.db", hub)


def test_a_500_storm_stops_with_one_line_and_resumes(hub, tmp_path):
    db = tmp_path / "s.db"
    hub.add_fault(Fault("status", path="cursor=", times=-1, status=500))
    res = hub_cli(db, "--retries", "2", endpoint=hub.url)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: ") and f"{hub.url}/api/models?" in lines[0] and "cursor=" in lines[0]
    assert "HTTP 500" in lines[0] and "run the same command again" in lines[0]
    kept = stored(db)
    assert len(kept) == 50  # the first page, committed before the storm
    (run,) = runs(db)
    assert run["status"] == "running" and "cursor=" in run["next_url"]
    with pytest.raises(HubUnavailable) as info:
        collect(hub, db, retries=0)
    assert info.value.url == run["next_url"] and info.value.status == 500

    hub.clear_faults()
    hub.clear_requests()
    res = hub_cli(db, endpoint=hub.url)
    assert res.returncode == 0, res.stderr
    assert all("cursor=" in r.query for r in listing_requests(hub))  # resumed: page 1 not fetched again
    assert_matches_truth(db, hub)
    assert [r["status"] for r in runs(db)] == ["done"]


def test_a_refusal_names_the_url_and_the_error(hub, tmp_path):
    with HubClient(hub.url, rate=0) as client:
        with pytest.raises(HubRefused) as info:
            client.get_page(f"{hub.url}/api/models?expand=nonsense")
    assert info.value.status == 400 and info.value.url.endswith("expand=nonsense")
    assert "answered HTTP 400: \"expand\" contains an invalid value" in info.value.one_line()
    assert info.value.one_line().endswith("check --author, --pipeline-tag and --limit")


# -- filters ----------------------------------------------------------------------------------------

def test_filters_author_pipeline_tag_dates_and_limit(hub, tmp_path):
    models = hub.models
    author = max({m["author"] for m in models}, key=lambda a: sum(m["author"] == a for m in models))
    db = tmp_path / "a.db"
    assert hub_cli(db, "--author", author, endpoint=hub.url).returncode == 0
    assert_matches_truth(db, hub, only={m["id"] for m in models if m["author"] == author})

    db = tmp_path / "p.db"
    collect(hub, db, HubOptions(pipeline_tag="text-classification"))
    assert_matches_truth(db, hub, only={m["id"] for m in models if m.get("pipeline_tag") == "text-classification"})

    db = tmp_path / "d.db"
    hub.clear_requests()
    res = hub_cli(db, "--since", "2022-06-01", "--until", "2023-01-01", endpoint=hub.url)
    assert res.returncode == 0, res.stderr
    wanted = {m["id"] for m in models if "2022-06-01" <= m["createdAt"] < "2023-01-01"}
    assert wanted and len(listing_requests(hub)) == 8  # sorted by modification: every page is read
    assert_matches_truth(db, hub, only=wanted)

    db = tmp_path / "l.db"
    result = collect(hub, db, HubOptions(limit=120))
    newest = sorted(sorted(models, key=lambda m: m["_id"]), key=lambda m: m["lastModified"], reverse=True)
    assert result.stopped == "limit" and set(stored(db)) == {m["id"] for m in newest[:120]}
    assert runs(db)[0]["max_modified"] is None  # stopped by --limit: no watermark for later runs
    assert_matches_truth(db, hub, only=set(stored(db)))


def test_bad_dates_are_usage_errors(hub, tmp_path):
    res = hub_cli(tmp_path / "h.db", "--since", "last year", endpoint=hub.url)
    assert res.returncode == 2 and res.stderr.startswith("error: --since 'last year' is not a date")


# -- export -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_export_round_trips(hub, tmp_path, fmt):
    db = tmp_path / "h.db"
    collect(hub, db)
    out = tmp_path / f"models.{fmt}"
    res = cli("hub", "export", "--db", db, "--format", fmt, "--out", out)
    assert res.returncode == 0, res.stderr
    frame = {"parquet": pd.read_parquet, "csv": pd.read_csv,
             "jsonl": lambda p: pd.read_json(p, lines=True, dtype=False)}[fmt](out)
    assert len(frame) == 400 and frame["endpoint"].eq(hub.url).all()
    truth = hub.ground_truth()
    for record in frame.to_dict("records"):
        want = truth[record["id"]]
        tags = json.loads(record["tags"]) if fmt == "csv" else list(record["tags"])
        assert tags == want["tags"]
        assert (json.loads(record["card_data"]) if want["card_data"] is not None else None) == want["card_data"]
        assert bool(record["has_card"]) == want["has_card"] and bool(record["created_known"]) == want["created_known"]
    if fmt != "csv":
        assert frame["has_card"].dtype == bool and frame["created_known"].dtype == bool
    assert cli("hub", "export", "--db", tmp_path / "nope.db", "--out", out).returncode == 1
