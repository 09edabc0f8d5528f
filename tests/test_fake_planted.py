"""The generated forum's planted codes: every theme names real hf-challenges codes, and the ground truth says
which theme and codes each question topic was written from (tests and benchmarks of suggestions read it)."""

from __future__ import annotations

from forumkit.coding.codebook import load_codebook, resolve_codebook
from forumkit.fakes.discourse import generate_forum, load_sample
from forumkit.fakes.discourse.corpus import THEMES


def test_every_theme_plants_a_category_then_maybe_one_of_its_subcategories() -> None:
    codebook = load_codebook(resolve_codebook("hf-challenges"))
    for theme in THEMES:
        assert 1 <= len(theme.planted) <= 2, theme.titles[0]
        category, *sub = theme.planted
        assert len(codebook.path_of(category)) == 1, category
        if sub:
            assert codebook.parent_of(sub[0]).id == category, sub[0]


def test_ground_truth_records_the_theme_and_codes_of_each_question_topic() -> None:
    forum = generate_forum(60, seed=2)
    truth = forum.ground_truth()
    planted = truth["planted"]
    assert planted and set(planted) <= set(truth["topics"])
    for topic_id, row in planted.items():
        assert row["topic_id"] == topic_id and row["codes"] == list(THEMES[row["theme"]].planted)
    # pinned announcements, foreign-language and staff topics plant nothing
    pinned = {tid for tid, t in truth["topics"].items() if t["pinned"]}
    assert pinned and not pinned & set(planted)
    assert len(load_sample().ground_truth()["planted"]) > 200  # the shipped sample carries them too
