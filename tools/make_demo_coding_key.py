"""Write forumkit/data/demo_coding_key.csv: the seeded coding key the demo's simulated coders follow.

The key says, for every topic of the shipped forum snapshot and each of two simulated coders, which codes
of the two shipped codebooks the coder ends up with. It is made from the snapshot's ground truth, so the
demo's coded numbers can be checked against it:

* hf-challenges: the code the snapshot's generator planted in the topic (``ground_truth()["planted"]``:
  a category, or its subcategory when the theme has one); topics written from no theme get none.
* hf-benefits: a rule on the topic's replies: an accepted answer -> BE.EXPERT_OPINION_AND_CLARIFICATION;
  else three or more posts -> BE.COLLABORATION_TO_SOLVE_ISSUES; else two posts -> BE.ACKNOWLEDGEMENT_OF_HELP
  for half of them (seeded); one post -> none.
* Departures, so that agreement is high but not perfect: each coder departs from the truth on a seeded share
  of topics (coder1 10 %, coder2 15 % for challenges; 8 % and 12 % for benefits), choosing another category,
  stopping at the category of a subcategory, or (benefits) seeing none; a departure writes a memo saying why.

Run it again (same seed, same snapshot) and the file comes out byte-identical:
    python tools/make_demo_coding_key.py
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from forumkit.fakes.discourse import load_sample

OUT = Path(__file__).resolve().parents[1] / "forumkit" / "data" / "demo_coding_key.csv"
SEED = 2024
CODERS = {"coder1": (0.10, 0.08), "coder2": (0.15, 0.12)}  # departure rates: challenges, benefits
BENEFITS = ("BE.EXPERT_OPINION_AND_CLARIFICATION", "BE.COLLABORATION_TO_SOLVE_ISSUES", "BE.ACKNOWLEDGEMENT_OF_HELP")


def truth() -> dict[int, tuple[list[str], list[str]]]:
    """topic id -> (challenge codes, benefit codes) of the snapshot."""
    rng = random.Random(SEED)
    found = load_sample().ground_truth()
    planted = found["planted"]
    key = {}
    for topic_id, topic in sorted(found["topics"].items()):
        challenges = [planted[topic_id]["codes"][-1]] if topic_id in planted else []
        if topic["has_accepted_answer"]:
            benefits = [BENEFITS[0]]
        elif topic["posts_count"] >= 3:
            benefits = [BENEFITS[1]]
        elif topic["posts_count"] == 2 and rng.random() < 0.5:
            benefits = [BENEFITS[2]]
        else:
            benefits = []
        key[int(topic_id)] = (challenges, benefits)
    return key


def depart(rng: random.Random, codes: list[str], others: list[str]) -> tuple[list[str], str]:
    """A coder's departure from ``codes``: its category instead of a subcategory, or another category."""
    if codes and codes[0].count(".") == 2 and rng.random() < 0.5:
        parent = codes[0].rsplit(".", 1)[0]
        return [parent], f"only sure of the category {parent}"
    choice = rng.choice([c for c in others if not codes or not codes[0].startswith(c)])
    return [choice], f"reads it as {choice}" + (f" rather than {codes[0]}" if codes else "")


def main() -> None:
    key = truth()
    categories = sorted({c.split(".")[0] + "." + c.split(".")[1] for ch, _ in key.values() for c in ch})
    rows = []
    for coder, (p_ch, p_be) in CODERS.items():
        rng = random.Random(f"{SEED}-{coder}")
        for topic_id, (challenges, benefits) in key.items():
            memos = []
            if challenges and rng.random() < p_ch:
                challenges, memo = depart(rng, challenges, categories)
                memos.append(memo)
            if benefits and rng.random() < p_be:
                if rng.random() < 0.5:
                    benefits, memo = depart(rng, benefits, list(BENEFITS))
                else:
                    benefits, memo = [], f"sees no benefit where the key has {benefits[0]}"
                memos.append(memo)
            rows.append({"item_id": topic_id, "coder": coder, "hf-challenges": "|".join(challenges),
                         "hf-benefits": "|".join(benefits), "memo": "; ".join(m for m in memos if m)})
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} rows -> {OUT}")


if __name__ == "__main__":
    main()
