"""Contract tests: the fake forum and the collect decoders against Discourse's own published API schema.

``../shared/data/discourse/openapi.json`` is Discourse's OpenAPI description (discourse/discourse_api_docs, MIT;
see SOURCE.md there), generated from Discourse's request specs. Every JSON response the fake forum serves for
the endpoints the crawl reads must validate against the 200-response schema of its path, so the fake cannot
drift from the real API; and the decoders must read documents built from the schema alone.

Where the schema and the fake disagree, the schema wins and the fake was fixed. Where the schema is known to be
incomplete, :data:`GAPS` amends a copy of it, each amendment with its evidence. The schema was generated for a
core install (no plugins) and mostly with a logged-in user, so the gaps are of four kinds: values an anonymous
reader gets as null, fields the real site sends that the schema lacks or forbids, fields of the discourse-solved
plugin (which discuss.huggingface.co runs), and tags as strings (Discourse before 2026; the schema has objects).

This version of the schema has no examples of any response, so the decoders also read documents generated from
the schema itself: one with only the required fields and null wherever null is allowed, one with every field.
Examples, when a version of the schema brings them, are parsed too.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from forumkit.collect.discourse.decode import (categories_from_site, latest_posts_from_json, posts_from_json,
                                               topic_page_from_json, topic_view_from_json)
from forumkit.fakes.discourse import FakeDiscourse, generate_forum

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "shared" / "data" / "discourse" / "openapi.json"
SPEC_URI = "urn:discourse:openapi"
CHUNK = 20  # post ids per /t/{id}/posts.json request, as the crawl asks

NOTES = "shared/notes/discourse-api.md"
SOLVED = ("discourse-solved plugin.rb add_to_serializer(:post, ...) and topic_answer_mixin.rb "
          f"(see {NOTES} §1 and §2); discuss.huggingface.co runs the plugin")


@dataclass(frozen=True)
class Gap:
    """One known incompleteness of the schema: at ``where`` in ``endpoint``'s response, ``field`` is ...

    ``nullable``: also null; ``allowed``: allowed with ``schema`` (the schema lacks or forbids it);
    ``optional``: not required.
    """

    endpoints: tuple[str, ...]
    where: str  # dotted path of object schemas from the response root; "[]" steps into array items
    field: str
    kind: str
    why: str
    schema: dict | None = None


TOPIC_POSTS = ("/t/{id}.json", "post_stream.posts[]")
FEED_POSTS = ("/posts.json", "latest_posts[]")
BOOL, INT, STR = {"type": "boolean"}, {"type": "integer"}, {"type": "string"}
TAG_OBJECTS = {"type": "array", "items": {"type": "object", "properties": {"id": INT, "name": STR, "slug": STR},
                                          "required": ["id", "name", "slug"]}}

GAPS: tuple[Gap, ...] = (
    # -- values an anonymous reader gets as null --------------------------------------------------------------
    *(Gap(("/latest.json",), "topic_list.topics[]", field, "nullable",
          f"ListableTopicSerializer#{field}: `object.user_data && object.user_data.{field}` is nil without a "
          "user (the /c/{slug}/{id}.json schema in this file allows null)") for field in ("bookmarked", "liked")),
    Gap(("/latest.json",), "topic_list.topics[]", "image_url", "nullable",
        "Topic#image_url is nil for a topic without an image (the /c/{slug}/{id}.json schema allows null)"),
    Gap(("/latest.json", "/c/{slug}/{id}.json"), "topic_list.topics[].posters[]", "extras", "nullable",
        "TopicPosterSerializer#extras is set only for the latest poster ('latest', 'latest single'), null for the "
        f"others ({NOTES} §1, example)"),
    Gap(("/t/{id}.json",), "suggested_topics[].posters[]", "extras", "nullable",
        "TopicPosterSerializer#extras: null but for the latest poster, as in topic lists"),
    Gap(("/site.json",), "categories[]", "permission", "nullable",
        "app/models/site.rb Site#categories sets category[:permission] only for categories the user may create "
        "topics in (or for admins): never for an anonymous reader"),
    Gap(("/site.json",), "categories[]", "topic_url", "nullable",
        "Category#topic_url is `topic_only_relative_url.try(:relative_url)`: nil for a category without a "
        "definition topic (Uncategorized)"),
    # -- what the real site sends that the schema lacks, forbids or types otherwise ----------------------------
    Gap(("/latest.json", "/c/{slug}/{id}.json"), "topic_list.topics[].posters[]", "flair_group_id", "allowed",
        "TopicPosterSerializer carries the poster's flair group (the /t/ participants schema has it)",
        {"type": ["integer", "null"]}),
    Gap(("/c/{slug}/{id}.json",), "", "flair_groups", "allowed",
        "the same TopicListSerializer as /latest.json, whose schema in this file lists flair_groups",
        {"type": "array"}),
    Gap(("/c/{slug}/{id}.json",), "topic_list.topics[]", "tags", "allowed",
        "TopicListItemSerializer includes TopicTagsMixin on every topic list, /latest.json's too", TAG_OBJECTS),
    Gap(("/c/{slug}/{id}.json",), "topic_list.topics[]", "tags_descriptions", "allowed",
        "TopicTagsMixin sends tags_descriptions with the tags",
        {"type": "object"}),
    *(Gap((endpoint,), f"{where}.actions_summary[]", "count", "allowed",
          "PostSerializer#actions_summary: `summary = { id: id, count: count }`, `can_act` only when the user may "
          "act: anonymous readers get like counts (the schema was made by a user who can act)", INT)
      for endpoint, where in (TOPIC_POSTS, FEED_POSTS)),
    *(Gap((endpoint,), f"{where}.actions_summary[]", "can_act", "optional",
          "PostSerializer#actions_summary sets can_act only when the reader may act: never for anonymous readers")
      for endpoint, where in (TOPIC_POSTS, FEED_POSTS)),
    *(Gap((endpoint,), where, "reply_to_post_number", "allowed",
          "PostSerializer#reply_to_post_number is the integer column posts.reply_to_post_number: a number on the "
          f"real site ({NOTES} §2), a string only in the schema", {"type": ["integer", "string", "null"]})
      for endpoint, where in (TOPIC_POSTS, FEED_POSTS, ("/t/{id}/posts.json", "post_stream.posts[]"))),
    *(Gap(("/t/{id}.json",), "post_stream.posts[]", field, "allowed", f"PostSerializer#{field} ({why})", schema)
      for field, why, schema in (
          ("flair_group_id", "an attribute; the /posts.json schema lists it", {"type": ["integer", "null"]}),
          ("action_code", "include_action_code? on small-action posts", STR),
          ("reply_to_user", "include_reply_to_user? on replies not quoting their target", {"type": "object"}),
          ("cooked_hidden", f"BasicPostSerializer, on hidden posts ({NOTES} §7)", BOOL))),
    Gap(FEED_POSTS[:1], FEED_POSTS[1], "reply_to_user", "allowed",
        "PostSerializer#include_reply_to_user? does not depend on a topic view", {"type": "object"}),
    Gap(("/t/{id}.json",), "details", "can_remove_self_id", "optional",
        "TopicViewDetailsSerializer sends it (the reader's own user id) only to a user who may leave a private "
        "message; an anonymous reader has no id"),
    # -- the discourse-solved plugin ------------------------------------------------------------------------
    Gap(("/t/{id}.json",), "", "accepted_answer", "allowed", SOLVED, {"type": "object"}),
    *(Gap((endpoint,), where, field, "allowed", SOLVED, BOOL)
      for endpoint, where in (TOPIC_POSTS, FEED_POSTS)
      for field in ("accepted_answer", "topic_accepted_answer", "can_accept_answer", "can_unaccept_answer")),
    *(Gap(("/c/{slug}/{id}.json",), "topic_list.topics[]", field, "allowed", SOLVED, BOOL)
      for field in ("has_accepted_answer", "can_have_answer")),
    Gap(("/t/{id}.json",), "suggested_topics[]", "has_accepted_answer", "allowed", SOLVED, BOOL),
)

# Discourse before 2026 sends tags as strings (app/serializers/concerns/topic_tags_mixin.rb, older versions;
# discuss.huggingface.co's version is unknown): the fake serves either, so both are checked.
TAG_NAMES = {"type": "array", "items": STR}
TAG_STRINGS: tuple[Gap, ...] = tuple(
    Gap((endpoint,), where, field, "allowed", f"topic_tags_mixin.rb and Tag.top_tags before 2026 ({NOTES} §1)",
        TAG_NAMES)
    for endpoint, where, field in (("/t/{id}.json", "", "tags"), ("/t/{id}.json", "suggested_topics[]", "tags"),
                                   ("/c/{slug}/{id}.json", "topic_list.topics[]", "tags"),
                                   ("/site.json", "", "top_tags")))


# -- the schema -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec() -> dict:
    if not SCHEMA_PATH.exists():
        pytest.fail(f"Discourse's API schema is missing: {SCHEMA_PATH} (CI has ../shared beside the clone; "
                    "see shared/data/discourse/SOURCE.md for where it comes from)")
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def response_pointer(endpoint: str) -> str:
    escaped = endpoint.replace("~", "~0").replace("/", "~1")
    return f"/paths/{escaped}/get/responses/200/content/application~1json/schema"


def response_schema(spec: dict, endpoint: str) -> dict:
    return spec["paths"][endpoint]["get"]["responses"]["200"]["content"]["application/json"]["schema"]


def node(schema: dict, where: str) -> dict:
    """The object schema at a dotted path ("a.b[].c"), creating nothing."""
    for step in filter(None, where.split(".")):
        name, items = (step[:-2], True) if step.endswith("[]") else (step, False)
        schema = schema["properties"][name]
        if items:
            schema = schema["items"]
    return schema


def amend(spec: dict, gaps: tuple[Gap, ...]) -> dict:
    """A copy of ``spec`` with the known gaps filled in (later gaps replace earlier ones)."""
    spec = copy.deepcopy(spec)
    for gap in gaps:
        for endpoint in gap.endpoints:
            target = node(response_schema(spec, endpoint), gap.where)
            if gap.kind == "nullable":
                kind = target["properties"][gap.field]["type"]
                target["properties"][gap.field]["type"] = sorted({*([kind] if isinstance(kind, str) else kind), "null"})
            elif gap.kind == "allowed":
                target.setdefault("properties", {})[gap.field] = gap.schema
            elif gap.kind == "optional":
                target["required"] = [f for f in target.get("required", []) if f != gap.field]
            else:
                raise AssertionError(gap.kind)
    return spec


def validator(spec: dict, endpoint: str) -> Draft202012Validator:
    """A validator of ``endpoint``'s 200 response that resolves the document's $refs."""
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"{SPEC_URI}#{response_pointer(endpoint)}"}, registry=registry)


# -- what the fake serves ---------------------------------------------------------------------------------------


def served(server: FakeDiscourse) -> Iterator[tuple[str, str, Any]]:
    """(schema path, URL, JSON) of every document the crawl could read: every page of every list, every topic,
    every post of every topic by id, every page of the post feed."""
    with httpx.Client(base_url=server.url, timeout=30, follow_redirects=True) as http:
        def get(path: str, params: Any = None) -> tuple[str, Any]:
            response = http.get(path, params=params)
            assert response.status_code == 200 and "json" in response.headers["Content-Type"], (path, response)
            return str(response.url), response.json()

        url, site = get("/site.json")
        yield "/site.json", url, site
        topic_ids: set[int] = set()
        lists = [("/latest.json", "/latest.json")] + [
            ("/c/{slug}/{id}.json", f"/c/{c['slug']}/{c['id']}.json") for c in site["categories"]]
        for endpoint, path in lists:
            page = 0
            while True:
                url, doc = get(path, {"page": page} if page else None)
                yield endpoint, url, doc
                topic_ids.update(t["id"] for t in doc["topic_list"]["topics"])
                if "more_topics_url" not in doc["topic_list"]:
                    break
                page += 1
        for topic_id in sorted(topic_ids):
            url, doc = get(f"/t/{topic_id}.json")
            yield "/t/{id}.json", url, doc
            stream = doc["post_stream"]["stream"]
            for start in range(0, len(stream), CHUNK):
                url, more = get(f"/t/{topic_id}/posts.json", [("post_ids[]", i) for i in stream[start:start + CHUNK]])
                yield "/t/{id}/posts.json", url, more
        before: int | None = None
        while True:
            url, doc = get("/posts.json", {"before": before} if before else None)
            yield "/posts.json", url, doc
            if not doc["latest_posts"]:
                break
            before = min(p["id"] for p in doc["latest_posts"])


@pytest.mark.parametrize("tags_as_objects", [True, False], ids=["tags-as-objects", "tags-as-strings"])
def test_every_response_of_the_fake_forum_matches_discourses_schema(spec, tags_as_objects):
    amended = amend(spec, GAPS if tags_as_objects else GAPS + TAG_STRINGS)
    validators = {endpoint: validator(amended, endpoint) for endpoint in DECODERS}
    counts = dict.fromkeys(DECODERS, 0)
    problems: list[str] = []
    with FakeDiscourse(generate_forum(n_topics=60, seed=11), tags_as_objects=tags_as_objects) as server:
        for endpoint, url, doc in served(server):
            counts[endpoint] += 1
            for error in validators[endpoint].iter_errors(doc):
                where = "/".join(str(p) for p in error.absolute_path)
                problems.append(f"{url} at /{where}: {error.message[:200]}")
    assert all(counts.values()), counts
    assert counts["/t/{id}.json"] >= 60 and counts["/t/{id}/posts.json"] >= 60, counts
    assert not problems, f"{len(problems)} schema violations, e.g.:\n" + "\n".join(problems[:25])


def test_every_gap_is_needed_and_explained(spec):
    """Each amendment names its evidence and changes something the schema really lacks."""
    for gap in GAPS + TAG_STRINGS:
        assert len(gap.why) > 10, gap
        for endpoint in gap.endpoints:
            target = node(response_schema(spec, endpoint), gap.where)
            present = target.get("properties", {}).get(gap.field)
            if gap.kind == "nullable":
                kind = present["type"]
                assert "null" not in ([kind] if isinstance(kind, str) else kind), gap
            elif gap.kind == "optional":
                assert gap.field in target.get("required", []), gap
            else:
                assert present != gap.schema, gap


# -- the decoders on what the schema promises ---------------------------------------------------------------------

DECODERS: dict[str, Callable[[Any], Any]] = {
    "/site.json": categories_from_site,
    "/latest.json": topic_page_from_json,
    "/c/{slug}/{id}.json": topic_page_from_json,
    "/t/{id}.json": topic_view_from_json,
    "/t/{id}/posts.json": posts_from_json,
    "/posts.json": latest_posts_from_json,
}


def instance(schema: dict, *, minimal: bool, name: str = "") -> Any:
    """A document the schema accepts: ``minimal`` has only the required fields (all of them where the schema
    says nothing) and null wherever null is allowed; otherwise every property with a non-null value."""
    kinds = schema.get("type", "object")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    if minimal and "null" in kinds:
        return None
    kind = next(k for k in kinds if k != "null")
    if kind == "object":
        properties = schema.get("properties", {})
        wanted = schema.get("required", list(properties)) if minimal else list(properties)
        return {key: instance(properties.get(key, {}), minimal=minimal, name=key) for key in wanted}
    if kind == "array":
        return [instance(schema.get("items") or {"type": "integer"}, minimal=minimal, name=name)]
    return {"integer": 7, "number": 1.5, "boolean": False,
            "string": "2024-01-02T03:04:05.000Z" if name.endswith("_at") else "7"}[kind]


def examples(content: dict) -> list[Any]:
    """The schema's own examples of a whole response: the media type's ``example``/``examples`` (Example
    Objects) and the response schema's ``example``/``examples``."""
    found = [content["example"]] if "example" in content else []
    found += [e.get("value") for e in (content.get("examples") or {}).values() if isinstance(e, dict)]
    schema = content.get("schema", {})
    found += [schema["example"]] if "example" in schema else []
    return found + list(schema.get("examples") or [])


@pytest.mark.parametrize("endpoint", list(DECODERS))
def test_the_decoders_read_what_the_schema_promises(spec, endpoint):
    schema = response_schema(spec, endpoint)
    content = spec["paths"][endpoint]["get"]["responses"]["200"]["content"]["application/json"]
    whole = examples(content)  # none in this version of the schema; parsed when a version has them
    check = validator(spec, endpoint)
    documents = whole + [instance(schema, minimal=True), instance(schema, minimal=False)]
    for doc in documents[len(whole):]:
        assert not list(check.iter_errors(doc)), "the generated document does not match the schema"
    for doc in documents:
        records = DECODERS[endpoint](doc)
        if endpoint == "/site.json":
            assert [c.id for c in records] == [7]
        elif endpoint in ("/latest.json", "/c/{slug}/{id}.json"):
            assert [t.id for t in records.topics] == [7] and records.topics[0].created_at
        elif endpoint == "/t/{id}.json":
            assert records.topic.id == 7 and [p.id for p in records.posts] == [7] and records.stream == [7]
        else:
            assert [(p.id, p.topic_id, p.post_number) for p in records] == [(7, 7, 7)]
