"""The fake Hub: the query, paging and field semantics of GET /api/models, its faults, and that
huggingface_hub's own HfApi.list_models reads it (so the fake speaks the real shapes)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from forumkit.fakes.hub import PLACEHOLDER, FakeHub, Fault, ListingQuery, generate_models
from forumkit.fakes.hub.generate import model_types
from forumkit.fakes.hub.query import DEFAULT_KEYS

VOCABULARY = Path(__file__).resolve().parents[1] / "forumkit" / "data" / "model_vocabulary.csv"


@pytest.fixture(scope="module")
def models():
    return generate_models(240, seed=11)


@pytest.fixture
def hub(models):
    with FakeHub([dict(m) for m in models], page_size=50) as server:
        yield server


def get(hub: FakeHub, query: str) -> httpx.Response:
    return httpx.get(f"{hub.url}/api/models?{query}", timeout=10)


def walk(hub: FakeHub, query: str) -> tuple[list[dict], list[httpx.Response]]:
    """Every item of a listing, following the Link URLs as given."""
    items, responses = [], []
    url: str | None = f"{hub.url}/api/models?{query}"
    while url:
        response = httpx.get(url, timeout=10)
        assert response.status_code == 200, response.text
        responses.append(response)
        items += response.json()
        url = response.links.get("next", {}).get("url")
    return items, responses


def ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


# -- generated models ---------------------------------------------------------------------------

def test_generated_models_look_like_the_hub(models):
    assert generate_models(240, seed=11) == models  # deterministic
    assert len({m["id"] for m in models}) == len({m["_id"] for m in models}) == len(models)
    assert all("/" in m["id"] and m["modelId"] == m["id"] and len(m["_id"]) == 24 for m in models)
    placeholder = [m for m in models if m["createdAt"] == PLACEHOLDER]
    assert 0.05 < len(placeholder) / len(models) < 0.5
    real = [m for m in models if m["createdAt"] != PLACEHOLDER]
    assert all(ts(m["lastModified"]) >= ts(m["createdAt"]) for m in real)
    assert all(m["createdAt"].endswith("Z") and m["lastModified"].endswith("Z") for m in models)
    # growth: more models in the second half of the period than in the first
    years = [m["createdAt"][:4] for m in real]
    assert years.count("2023") + years.count("2022") > years.count("2019") + years.count("2020")
    # model types come from the vocabulary, bert and gpt2 among the most common
    names, _ = model_types()
    types = [m["config"]["model_type"] for m in models if m.get("config", {}).get("model_type")]
    assert len(types) > 0.6 * len(models) and set(types) <= set(names)
    top = sorted(set(types), key=types.count, reverse=True)[:6]
    assert "bert" in top
    assert all(m["config"]["model_type"] in m["tags"] for m in models if m.get("config", {}).get("model_type"))
    # card metadata for a share that grows over time, licenses also as tags
    cards = [m for m in models if m.get("cardData")]
    assert 0.3 < len(cards) / len(models) < 0.95
    early = [m for m in models if m["_id"] < models[len(models) // 3]["_id"]]
    late = models[2 * len(models) // 3:]
    share = lambda group: sum(bool(m.get("cardData")) for m in group) / len(group)  # noqa: E731
    assert share(late) > share(early)
    licensed = [m for m in cards if m["cardData"].get("license")]
    assert licensed and all(f"license:{m['cardData']['license']}" in m["tags"] for m in licensed)
    assert any("model-index" in m["cardData"] for m in cards) and any("base_model" in m["cardData"] for m in cards)
    assert any("pipeline_tag" not in m for m in models)  # left out when a repo has none


def test_types_are_read_from_the_shipped_vocabulary():
    names, weights = model_types()
    assert names[:3] == ("bert", "gpt2", "distilbert") and weights[0] > weights[1] > weights[-1]
    assert "stable-diffusion" not in names  # a diffusers pipeline, not a config model_type
    assert len(names) > 150 and all(n in VOCABULARY.read_text() for n in names)


# -- paging --------------------------------------------------------------------------------------

def test_pages_link_absolute_urls_with_every_parameter(hub, models):
    query = "author=&sort=lastModified&full=true&config=true&cardData=true&filter=region%3Aus"
    items, responses = walk(hub, query)
    assert [len(r.json()) for r in responses] == [50, 50, 50, 50, 40]
    assert "link" not in responses[-1].headers
    for response in responses[:-1]:
        link = response.headers["link"]
        assert link.startswith(f"<{hub.url}/api/models?") and link.endswith('>; rel="next"')
        next_query = urlsplit(response.links["next"]["url"]).query
        assert next_query.startswith(query + "&cursor=")  # every original parameter, in order
    assert [i["id"] for i in items] == [m["id"] for m in sorted(models, key=lambda m: (-ts(m["lastModified"]),
                                                                                          m["_id"]))]
    assert len({i["id"] for i in items}) == len(models)


@pytest.mark.parametrize("sort", ["createdAt", "lastModified", "downloads", "likes", "trendingScore"])
def test_every_sort_is_descending_and_direction_is_ignored(hub, models, sort):
    items, _ = walk(hub, f"sort={sort}&direction=1&full=true&limit=100")
    key = (lambda i: ts(i[sort])) if sort.endswith("At") or sort == "lastModified" else (lambda i: i[sort])
    assert all(key(a) >= key(b) for a, b in zip(items, items[1:]))
    assert len(items) == len(models)


def test_limit_is_the_page_size_and_the_default_sort_is_named_in_the_next_url(hub):
    response = get(hub, "limit=7")
    assert len(response.json()) == 7
    assert dict(parse_qsl(urlsplit(response.links["next"]["url"]).query))["sort"] == "trendingScore"
    assert len(get(hub, "limit=5000").json()) == 50  # never more than the server's page size


def test_pages_do_not_shift_when_models_change_between_them(hub, models):
    first = get(hub, "sort=lastModified&full=true")
    seen = {i["id"] for i in first.json()}
    hub.add_model()
    hub.modify_model(first.json()[10]["id"], downloads=1)  # jumps to the top: already behind the cursor
    rest, _ = walk(hub, urlsplit(first.links["next"]["url"]).query)
    assert len(seen) + len(rest) == len(models)  # nothing repeated, nothing skipped among unchanged models
    assert not seen & {i["id"] for i in rest}


# -- field selection ------------------------------------------------------------------------------

def test_default_full_config_and_card_fields(hub):
    plain = get(hub, "limit=50&sort=likes").json()
    assert all(set(i) <= {*DEFAULT_KEYS, "likes"} for i in plain)
    assert all(list(i)[:2] == ["_id", "id"] for i in plain)
    assert not any("cardData" in i or "config" in i or "author" in i or "siblings" in i for i in plain)
    assert all("lastModified" in i for i in get(hub, "sort=lastModified").json())  # the sort key is added

    full = get(hub, "limit=50&full=true").json()
    assert all({"author", "sha", "lastModified", "gated", "siblings"} <= set(i) for i in full)
    assert not any("cardData" in i or "config" in i for i in full)
    assert all(isinstance(s["rfilename"], str) for i in full for s in i["siblings"])

    both = get(hub, "limit=50&full=True&config=TRUE&cardData=true").json()  # booleans in any case
    assert any("cardData" in i for i in both) and any("config" in i for i in both)
    card_only = get(hub, "limit=50&cardData=true").json()
    assert any("cardData" in i for i in card_only) and not any("config" in i for i in card_only)


def test_expand_returns_only_the_listed_properties(hub):
    for param in ("expand", "expand[]"):
        items = get(hub, f"{param}=createdAt&{param}=cardData&limit=50").json()
        assert all(set(i) <= {"_id", "id", "createdAt", "cardData"} for i in items)
        assert all("createdAt" in i for i in items) and any("cardData" in i for i in items)


@pytest.mark.parametrize("query, says", [
    ("expand=nonsense", '"expand" contains an invalid value'),
    ("expand=author&full=true", "cannot be used together"),
    ("expand=author&cardData=true", "cannot be used together"),
    ("sort=id", '"sort" must be one of'),
    ("limit=ten", '"limit" must be a number'),
    ("limit=0", "greater than or equal to 1"),
    ("cursor=", '"cursor" is not allowed to be empty'),
    ("cursor=bm90LWEtY3Vyc29y", '"cursor" is invalid'),
])
def test_bad_queries_are_answered_400_with_a_json_error(hub, query, says):
    response = get(hub, query)
    assert response.status_code == 400 and response.headers["content-type"].startswith("application/json")
    assert says in response.json()["error"]


def test_filters(hub, models):
    author = max({m["author"] for m in models}, key=lambda a: sum(m["author"] == a for m in models))
    items, _ = walk(hub, f"author={author}&full=true")
    assert {i["id"] for i in items} == {m["id"] for m in models if m["author"] == author}
    items, _ = walk(hub, "pipeline_tag=text-classification")
    assert {i["id"] for i in items} == {m["id"] for m in models if m.get("pipeline_tag") == "text-classification"}
    items, _ = walk(hub, "filter=pytorch&filter=bert")
    assert {i["id"] for i in items} == {m["id"] for m in models if {"pytorch", "bert"} <= set(m["tags"])}
    needle = models[7]["id"].split("/")[1][:6]
    items, _ = walk(hub, f"search={needle}")
    assert models[7]["id"] in {i["id"] for i in items} and all(needle.lower() in i["id"].lower() for i in items)
    assert httpx.get(f"{hub.url}/api/datasets", timeout=5).status_code == 404


# -- faults and quota -------------------------------------------------------------------------------

def test_faults(hub):
    hub.add_fault(Fault("rate_limit", path="limit=1&", times=1, retry_after=3))
    limited = get(hub, "limit=1&x=1")
    assert limited.status_code == 429 and limited.headers["ratelimit"] == '"api";r=0;t=3'
    assert "q=500;w=300" in limited.headers["ratelimit-policy"] and "rate limit" in limited.json()["error"]
    assert get(hub, "limit=1&x=1").status_code == 200  # times=1: spent

    hub.add_fault(Fault("retry_after", times=1, retry_after=2))
    assert get(hub, "limit=1").headers["retry-after"] == "2"
    hub.add_fault(Fault("status", times=1, status=503))
    assert get(hub, "limit=1").status_code == 503
    hub.add_fault(Fault("html", times=1))
    assert get(hub, "limit=1").headers["content-type"].startswith("text/html")
    hub.add_fault(Fault("truncated", times=1))
    with pytest.raises(json.JSONDecodeError):
        json.loads(get(hub, "limit=5").content)
    hub.add_fault(Fault("reset", times=1))
    with pytest.raises(httpx.TransportError):
        get(hub, "limit=1")
    hub.add_fault(Fault("slow", times=1, delay=0.6))
    start = time.monotonic()
    assert get(hub, "limit=1").status_code == 200 and time.monotonic() - start >= 0.6
    statuses = [r.status for r in hub.requests]
    assert statuses == [429, 200, 429, 503, 200, 200, 0, 200]
    with pytest.raises(ValueError):
        Fault("meteor")


def test_quota_answers_429_with_ratelimit_headers(models):
    with FakeHub(models[:10], quota=2, window=1.0) as hub:
        first, second, third = (get(hub, "limit=1") for _ in range(3))
        assert first.headers["ratelimit"].startswith('"api";r=1;') and second.headers["ratelimit"].startswith(
            '"api";r=0;')
        assert third.status_code == 429 and third.headers["ratelimit"] == '"api";r=0;t=1'
        time.sleep(1.05)
        assert get(hub, "limit=1").status_code == 200


def test_added_and_modified_models_come_first_and_change_the_truth(hub, models):
    added = hub.add_model()
    changed = hub.modify_model(models[3]["id"], cardData={"license": "mit"})
    top = get(hub, "sort=lastModified&limit=2&full=true&cardData=true").json()
    assert [i["id"] for i in top] == [changed["id"], added["id"]]
    assert top[0]["cardData"] == {"license": "mit"} and top[0]["lastModified"] > top[1]["lastModified"]
    truth = hub.ground_truth()
    assert len(truth) == len(models) + 1 and truth[changed["id"]]["license"] == "mit"
    assert truth[added["id"]]["created_known"] and truth[added["id"]]["created_at"] == added["createdAt"]
    hub.add_model({"_id": "0" * 24, "cardData": "oops"})
    assert len(hub.ground_truth()) == len(models) + 1 and len(hub.malformed()) == 1


# -- huggingface_hub reads the fake -----------------------------------------------------------------

def test_hfapi_list_models_reads_every_page(hub, models):
    from huggingface_hub import HfApi
    from huggingface_hub.repocard_data import ModelCardData

    api = HfApi(endpoint=hub.url, token=False)
    got = list(api.list_models(full=True, cardData=True, fetch_config=True, sort="last_modified"))
    assert len(got) == len(models) and len(hub.requests) == 5
    assert all(a.last_modified >= b.last_modified for a, b in zip(got, got[1:]))
    by_id = {m["id"]: m for m in models}
    for info in got:
        raw = by_id[info.id]
        assert info.author == raw["author"] and info.downloads == raw["downloads"] and info.tags == raw["tags"]
        assert info.created_at.tzinfo is timezone.utc
        assert info.created_at == datetime.fromisoformat(raw["createdAt"].replace("Z", "+00:00"))
        assert info.config == raw.get("config")
        assert (info.card_data is None) == (not raw.get("cardData"))
        if raw.get("cardData"):
            assert isinstance(info.card_data, ModelCardData)
            assert info.card_data.license == raw["cardData"].get("license")
        assert [s.rfilename for s in info.siblings] == [s["rfilename"] for s in raw["siblings"]]
    assert all(r.authorization is None for r in hub.requests)  # token=False: no token sent
    assert all("hf_hub/" in r.user_agent for r in hub.requests)


def test_hfapi_filters_limit_expand_and_errors(hub, models):
    from huggingface_hub import HfApi
    from huggingface_hub.errors import BadRequestError

    api = HfApi(endpoint=hub.url, token=False)
    author = models[-1]["author"]
    got = list(api.list_models(author=author, limit=3, sort="created_at"))
    assert 1 <= len(got) <= 3 and all(m.author is None and m.id.startswith(f"{author}/") for m in got)
    assert hub.requests[-1].query == f"author={author}&sort=createdAt&limit=3"
    expanded = list(api.list_models(expand=["createdAt", "likes"], limit=60))
    assert len(expanded) == 60 and all(m.downloads is None and m.created_at is not None for m in expanded)
    with pytest.raises(BadRequestError, match="invalid value"):
        list(api.list_models(expand=["nonsense"]))


def test_hfapi_retries_a_429_with_ratelimit_headers(hub, models):
    from huggingface_hub import HfApi

    hub.add_fault(Fault("rate_limit", path="cursor=", times=1, retry_after=0))
    got = list(HfApi(endpoint=hub.url, token=False).list_models(full=True, sort="last_modified"))
    assert len(got) == len(models) and [r.status for r in hub.requests].count(429) == 1


def test_served_from_the_command_line():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "forumkit.fakes.hub", "--models", "30", "--port", str(port),
                             "--page-size", "20"], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert "fake Hub at" in proc.stdout.readline()
        response = httpx.get(f"http://127.0.0.1:{port}/api/models?full=true", timeout=10)
        assert len(response.json()) == 20 and response.links["next"]["url"].startswith(f"http://127.0.0.1:{port}/")
        proc.send_signal(signal.SIGINT)  # Ctrl-C stops it as it stops any forumkit command: exit 130
        assert proc.wait(timeout=10) == 130
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)


def test_listing_query_parses_without_http():
    q = ListingQuery.parse("filter=a&filter=b&author=x&sort=likes&direction=-1&full=TRUE")
    assert q.filters == ("a", "b") and q.author == "x" and q.sort == "likes" and q.full and q.sort_given
