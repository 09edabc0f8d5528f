"""Write the markdown of generated posts from the templates in :mod:`.corpus`.

Each function returns raw markdown; the generator cooks it with :func:`.cook.cook`.
All randomness comes from the ``random.Random`` passed in, so a seed gives the
same forum every time.
"""

from __future__ import annotations

import random
import re
import string

from . import corpus
from .corpus import Theme

_PLACEHOLDER = re.compile(r"\{(model|ckpt|ds|gpu|ver|n|bs|mem|chapter|family|staff|answerer)\}")
_BASE62 = string.digits + string.ascii_letters


def fill(template: str, values: dict[str, str]) -> str:
    """Substitute the known ``{placeholders}`` only; other braces (JSON, dicts) stay as they are."""
    return _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), template)


def topic_values(rng: random.Random, model: tuple[str, tuple[str, ...], tuple[str, ...], str]) -> dict[str, str]:
    """Fill-in values for one topic: one model (in one of its spellings) and its context."""
    family, spellings, checkpoints, _ = model
    return {
        "model": rng.choice(spellings), "ckpt": rng.choice(checkpoints), "family": family,
        "ds": rng.choice(corpus.DATASETS), "gpu": rng.choice(corpus.GPUS), "ver": rng.choice(corpus.VERSIONS),
        "n": str(rng.randint(2, 40)), "bs": str(rng.choice((4, 8, 16, 32, 64))), "mem": str(rng.randint(20, 900)),
        "chapter": str(rng.randint(1, 9)),
    }


def question(rng: random.Random, theme: Theme, values: dict[str, str], *, lead: str | None = None) -> str:
    """A first post: greeting, the problem, usually code and a traceback, sometimes more."""
    blocks = []
    opener = fill(rng.choice(corpus.OPENERS), values)
    body = lead if lead is not None else fill(rng.choice(theme.questions), values)
    blocks.append(f"{opener}\n{body}" if opener and rng.random() < 0.5 else (f"{opener} {body}" if opener else body))
    if theme.code and rng.random() < 0.75:
        lang = "python" if not theme.code[0].startswith(("python -m", "accelerate")) else ""
        blocks.append(f"```{lang}\n{fill(rng.choice(theme.code), values)}\n```")
    if theme.errors and rng.random() < 0.7:
        blocks.append("I get this error:")
        blocks.append(f"```{rng.choice(('', '', 'python', 'shell'))}\n{fill(rng.choice(theme.errors), values)}\n```")
    if rng.random() < 0.2:
        blocks.append(fill(corpus.ENVIRONMENT, values))
    if rng.random() < 0.08:
        blocks.append(image(rng))
    if rng.random() < 0.5:
        blocks.append(rng.choice(("Any help would be appreciated :pray:", "Thanks in advance!",
                                  "What am I doing wrong?", "Any idea? :thinking:", "Thanks! 🤗")))
    return "\n\n".join(blocks)


def answer(
    rng: random.Random, theme: Theme, values: dict[str, str], *, quote: tuple[str, int, int, str] | None = None
) -> str:
    """A reply that helps: maybe a quote of an earlier post, advice, a fix, a link or a onebox."""
    blocks = []
    if quote is not None:
        username, post_number, topic_id, text = quote
        blocks.append(f'[quote="{username}, post:{post_number}, topic:{topic_id}"]\n{text}\n[/quote]')
    blocks.append(fill(rng.choice(theme.answers), values))
    if theme.fixes and rng.random() < 0.5:
        blocks.append(f"```python\n{fill(rng.choice(theme.fixes), values)}\n```")
    roll = rng.random()
    if roll < 0.2:
        url = fill(rng.choice(corpus.DOC_LINKS), values)
        blocks.append(f"See [the documentation]({url}) for the details.")
    elif roll < 0.3:
        blocks.append("This is where it happens:")
        blocks.append(rng.choice(corpus.GITHUB_BLOBS))
    elif roll < 0.38:
        blocks.append(fill(rng.choice(corpus.DOC_LINKS), values))
    if rng.random() < 0.15:
        blocks.append(rng.choice(("Hope this helps :slight_smile:", "Let us know if it works! :+1:",
                                  "Cheers :hugs:", "Good luck with your project :rocket:")))
    return "\n\n".join(blocks)


def follow_up(rng: random.Random, values: dict[str, str]) -> str:
    """A short reply from the asker or a bystander: thanks, "me too", or "still failing"."""
    text = fill(rng.choice(corpus.THANKS), values)
    if rng.random() < 0.1:
        text += "\n\nEDIT: my mistake, I was using an old virtualenv."
    return text


def quotable(raw: str) -> str:
    """The first plain paragraph of a post, shortened, for a ``[quote]`` of it."""
    for paragraph in raw.split("\n\n"):
        if paragraph and not paragraph.startswith(("```", "[quote", "- ", "!", "http")):
            text = paragraph.replace("\n", " ")
            return text if len(text) <= 160 else text[:157].rsplit(" ", 1)[0] + "…"
    return "…"


def image(rng: random.Random) -> str:
    """An uploaded screenshot in Discourse markdown (``upload://`` short URL)."""
    sha = "".join(rng.choice(_BASE62) for _ in range(27))
    width, height = rng.choice(((690, 388), (690, 460), (512, 512), (640, 320)))
    return f"![image|{width}x{height}](upload://{sha}.png)"


def username(rng: random.Random, first: str, last: str) -> str:
    """A plausible ASCII username for a display name ("ravi_sharma", "mei92", "nlp-anna")."""
    ascii_first = first.encode("ascii", "ignore").decode().lower() or "user"
    ascii_last = last.encode("ascii", "ignore").decode().lower() or "dev"
    style = rng.randrange(5)
    if style == 0:
        return f"{ascii_first}_{ascii_last}"
    if style == 1:
        return f"{ascii_first}{rng.randint(1, 99)}"
    if style == 2:
        return f"{rng.choice(corpus.HANDLE_WORDS)}-{ascii_first}"
    if style == 3:
        return f"{ascii_first[0]}{ascii_last}"
    return f"{ascii_first}.{ascii_last}{rng.randint(0, 9)}"
