"""What the forum crawl and the Hub collector share: the error tree, the polite client base, run bookkeeping."""

from __future__ import annotations

import ast
import importlib
from datetime import timedelta
from pathlib import Path

import pytest

from forumkit import errors
from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.hub import HubClient
from forumkit.collect.polite import PoliteClient
from forumkit.collect.runstate import Bookkeeper, Progress, shift
from forumkit.errors import (BadResponse, ForumError, ForumkitError, ForumUnavailable, HubBadResponse, HubError,
                             HubRefused, HubUnavailable, RemoteError)
from forumkit.fakes.discourse import FakeDiscourse, Fault
from forumkit.fakes.hub import FakeHub, Fault as HubFault, generate_models

PACKAGE = Path(__file__).resolve().parents[1] / "forumkit"

# Exceptions that never leave the module that raises them: each is turned into a ForumkitError there.
INTERNAL_SIGNALS = {
    "forumkit.collect.polite.Transient": "retried, then raised as the client's unavailable/bad_response error",
    "forumkit.collect.polite.RateLimited": "waited out, then retried",
    "forumkit.collect.discourse.decode.SchemaError": "the crawl raises it as BadResponse naming the URL",
    "forumkit.collect.hub.records.MalformedModel": "the entry is stored in hub_malformed, the crawl goes on",
    "forumkit.fakes.discourse.views._InvalidParameter": "the fake forum answers 400, as Discourse does",
    "forumkit.fakes.hub.query.BadQuery": "the fake Hub answers 400, as the Hub does",
}


def _exception_classes() -> dict[str, type]:
    """Every class defined in forumkit whose bases name an exception, by dotted name."""
    found: dict[str, type] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and any(
            "Error" in ast.unparse(b) or "Exception" in ast.unparse(b) or "Interrupt" in ast.unparse(b)
            or ast.unparse(b) in {"NotFound", "Transient"} for b in node.bases)]
        if not names:
            continue
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        loaded = importlib.import_module(module)
        found.update({f"{module}.{name}": getattr(loaded, name) for name in names})
    return found


def test_every_forumkit_error_is_in_the_one_tree():
    classes = _exception_classes()
    assert len(classes) >= 20, sorted(classes)
    outside = {name for name, cls in classes.items()
               if issubclass(cls, BaseException) and not issubclass(cls, ForumkitError)}
    assert outside == set(INTERNAL_SIGNALS), "errors outside forumkit.errors.ForumkitError: " \
                                             f"{sorted(outside - set(INTERNAL_SIGNALS))}"
    defined_elsewhere = {name for name, cls in classes.items()
                         if issubclass(cls, ForumkitError) and not name.startswith("forumkit.errors.")}
    assert not defined_elsewhere, f"define these in forumkit/errors.py: {sorted(defined_elsewhere)}"
    # the old homes still give the same classes
    from forumkit.coding.codebook import CodebookError
    from forumkit.coding.studio.server import StudioError
    from forumkit.collect import hub

    assert (CodebookError, StudioError, hub.HubError) == (errors.CodebookError, errors.StudioError, errors.HubError)
    for cls in (ForumError, ForumUnavailable, BadResponse, HubError, HubUnavailable, HubBadResponse, HubRefused):
        assert issubclass(cls, RemoteError)


def test_both_clients_share_the_base_and_raise_remote_errors_with_url_and_status(tmp_path):
    assert issubclass(DiscourseClient, PoliteClient) and issubclass(HubClient, PoliteClient)
    with FakeDiscourse(_small_forum()) as forum:
        forum.add_fault(Fault("status", path=r"^/site", times=-1, status=503))
        with DiscourseClient(forum.url, rate=0, retries=1, backoff=0.01) as client, \
                pytest.raises(RemoteError) as failed:
            client.get_json("/site.json")
    assert isinstance(failed.value, ForumUnavailable)
    assert failed.value.url == f"{forum.url}/site.json" and failed.value.status == 503
    assert "nothing stored was lost" in failed.value.one_line()

    with FakeHub(generate_models(20, seed=1)) as hub:
        hub.add_fault(HubFault("status", path="", times=-1, status=503))
        with HubClient(hub.url, rate=0, retries=1, backoff=0.01) as client, pytest.raises(RemoteError) as failed:
            client.get_page(client.models_url(limit=5))
        assert isinstance(failed.value, HubUnavailable) and failed.value.status == 503
        assert failed.value.url.startswith(f"{hub.url}/api/models?")
        hub.clear_faults()
        hub.add_fault(HubFault("html", path="", times=-1))
        with HubClient(hub.url, rate=0, retries=1, backoff=0.01) as client, pytest.raises(HubBadResponse) as bad:
            client.get_page(client.models_url(limit=5))
        assert "instead of JSON" in str(bad.value) and bad.value.status == 200
        assert client.requests == 2  # one try and one retry, then the error


def test_one_watermark_shift_keeps_milliseconds():
    assert shift("2024-03-01T00:00:00.250Z", -timedelta(minutes=5)) == "2024-02-29T23:55:00.250Z"
    assert shift("2024-03-01T00:00:00.999999+00:00", timedelta(0)) == "2024-03-01T00:00:00.999Z"  # truncated
    assert shift("2024-03-01T01:00:00+01:00", timedelta(days=1)) == "2024-03-02T00:00:00.000Z"  # to UTC
    from forumkit.collect.discourse import crawl
    from forumkit.collect.hub import collect

    assert not hasattr(crawl, "_shift") and not hasattr(collect, "_shift")


def test_bookkeeping_counts_requests_once_and_shows_waits():
    seen: list[tuple[int, float, str]] = []
    with FakeDiscourse(_small_forum()) as forum:
        forum.add_fault(Fault("rate_limit_text", path=r"^/latest", times=1, retry_after=1))
        with DiscourseClient(forum.url, rate=0, respect_robots=False) as client:
            books = Bookkeeper(client, Progress(), lambda s: seen.append((s.requests, s.waiting, s.wait_reason)))
            client.get_json("/site.json")
            assert books.new_requests() == 1 and books.new_requests() == 0
            client.get_json("/latest.json")  # a 429, a wait of about 1 s (shown), the retry
            books.tick()
    assert books.new_requests() == 2 and books.requests == 3
    assert seen[0][0] == 2 and 0.5 <= seen[0][1] <= 1.0 and seen[0][2] == "rate limit"
    assert seen[-1] == (3, 0.0, "")


def _small_forum():
    from forumkit.fakes.discourse import generate_forum

    return generate_forum(n_topics=5, seed=1)
