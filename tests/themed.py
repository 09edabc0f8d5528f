"""Items with known codes for suggestion tests and benchmarks: the generated forum's question themes, each mapped
to the hf-challenges subcategory it is about (forumkit's judgement, made once, here).

The text of an item is what the fake forum writes for a first post: a title and a question of the theme, with
its placeholders filled from a seeded random generator, so a seed gives the same items every time.
"""

from __future__ import annotations

import random

from forumkit.fakes.discourse import corpus, writing

#: theme index (forumkit.fakes.discourse.corpus.THEMES) -> hf-challenges code.
THEME_CODES = {
    0: "CH.MEMORY_AND_PERFORMANCE.MEMORY",
    1: "CH.TRAINING_PIPELINE.TOKENIZATION",
    2: "CH.INFERENCE_AND_DEPLOYMENT.INFERENCE_PIPELINE",
    3: "CH.DATASET_ACQUISITION_AND_USAGE.LOADING_SAVING_DATASETS",
    4: "CH.SPACES",
    5: "CH.MODEL_USAGE_AND_UNDERSTANDING.LOADING_SAVING_MODELS",
    6: "CH.WEBSITE_AND_PRICING.PRICING",
    7: "CH.MODEL_USAGE_AND_UNDERSTANDING.MODEL_CONVERTING_ONNX_LIBRARY",
    8: "CH.MEMORY_AND_PERFORMANCE.GPU_AND_OPTIMIZATION",
    9: "CH.TUTORIAL_AND_DOCUMENTATION.OFFICIAL_EXAMPLES_AND_TUTORIALS",
    10: "CH.EXTERNAL_PLATFORMS_AND_LIBRARIES.AMAZON",
    11: "CH.EXTERNAL_PLATFORMS_AND_LIBRARIES.DL_FRAMEWORK",
    12: "CH.INCOMPREHENSIBLE_OUTPUT",
    13: "CH.WEBSITE_AND_PRICING.WEBSITE",
}


def themed_items(per_theme: int, seed: int = 0, *, titles_only: bool = False) -> list[tuple[str, str, str]]:
    """(item id, text, code id) for ``per_theme`` items of each theme, themes interleaved, ids ``q0001``..."""
    rng = random.Random(seed)
    out = []
    for k in range(per_theme):
        for index, theme in enumerate(corpus.THEMES):
            values = writing.topic_values(rng, rng.choice(corpus.MODELS))
            title = writing.fill(rng.choice(theme.titles), values)
            text = title if titles_only else f"{title}\n\n{writing.fill(rng.choice(theme.questions), values)}"
            out.append((f"q{len(out) + 1:04d}", text, THEME_CODES[index]))
    return out
