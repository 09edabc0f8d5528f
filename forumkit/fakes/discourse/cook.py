"""Turn the markdown the generator writes into the HTML Discourse would "cook" from it.

Only the subset the generator emits is supported, but each construct gives the
exact markup Discourse produces, so that ``parse.py`` is exercised on realistic
HTML: paragraphs with ``<br>`` line breaks, fenced code (``lang-auto`` when no
language is given), ``[quote]`` asides, oneboxes (GitHub blobs and plain links),
upload images in a lightbox, bullet lists, inline code, links, ``@mentions`` and
``:emoji:`` images. Markdown and HTML stay in step: the raw is what ``/posts.json``
serves as ``raw``, the cooked what every endpoint serves as ``cooked``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

EMOJI_URL = "https://emoji.discourse-cdn.com/apple/{name}.png?v=12"
#: Emoji shortcodes the cooker turns into images (a closed list, so ``cuda:0:`` stays text).
EMOJI_NAMES = (
    "slight_smile", "smile", "pray", "hugs", "rocket", "thinking", "sweat_smile", "tada", "+1",
    "heart", "confused", "sob", "wink", "fire", "eyes", "raised_hands", "point_right", "wave",
)
CDN = "https://global.discourse-cdn.com/fakeforum"

#: What the GitHub oneboxes of the generated posts show, by file name (Discourse fetched it once).
_SNIPPETS = {
    "trainer.py": ("        if args.gradient_checkpointing:",
                   "            self.model.gradient_checkpointing_enable()",
                   "        total_batched_samples = 0",
                   "        for epoch in range(epochs_trained, num_train_epochs):"),
    "load.py": ("    if path.endswith(filename):", "        if os.path.isfile(path):",
                "            return LocalDatasetModuleFactoryWithScript(path, download_mode=download_mode)",
                "    raise FileNotFoundError(f\"Couldn't find a dataset script at {path}\")"),
    "accelerator.py": ("        if self.distributed_type == DistributedType.MULTI_GPU:",
                       "            kwargs = self.ddp_handler.to_kwargs() if self.ddp_handler is not None else {}",
                       "            model = torch.nn.parallel.DistributedDataParallel(model, **kwargs)"),
}
_QUOTE_OPEN = re.compile(r'^\[quote="([^,"]+), post:(\d+), topic:(\d+)"\]$')
_IMAGE = re.compile(r"^!\[([^|\]]*)\|(\d+)x(\d+)\]\(upload://(\w+)\.(\w+)\)$")
_URL_LINE = re.compile(r"^https?://\S+$")
_GITHUB_BLOB = re.compile(r"^https://github\.com/([\w.-]+/[\w.-]+)/blob/([^#\s]+?)(?:#L(\d+)(?:-L(\d+))?)?$")
_INLINE = re.compile(
    r"`(?P<code>[^`]+)`"
    r"|\[(?P<text>[^\]]+)\]\((?P<href>[^)\s]+)\)"
    r"|\*\*(?P<strong>[^*]+)\*\*"
    r"|(?P<url>https?://[^\s<>()]+[^\s<>().,;:!?'\"])"
    r"|(?<![\w@])@(?P<mention>[A-Za-z0-9_][\w.-]*[A-Za-z0-9_])"
    r"|:(?P<emoji>" + "|".join(re.escape(name) for name in EMOJI_NAMES) + r"):"
)


def escape(text: str) -> str:
    """Escape text the way markdown-it does (``&``, ``<``, ``>`` and ``"``, not ``'``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def emoji(name: str) -> str:
    """The ``<img class="emoji">`` Discourse renders for ``:name:``."""
    return (
        f'<img src="{EMOJI_URL.format(name=name)}" title=":{name}:" class="emoji" alt=":{name}:" '
        'loading="lazy" width="20" height="20">'
    )


def avatar_path(hostname: str, username: str, size: int = 48) -> str:
    """A user's avatar URL path as Discourse writes it in quotes."""
    return f"/user_avatar/{hostname}/{username.lower()}/{size}/{len(username) % 9 + 1}_2.png"


def inline(text: str) -> str:
    """Cook one paragraph's inline markdown: code, links, bold, bare URLs, mentions, emoji."""
    out: list[str] = []
    last = 0
    for match in _INLINE.finditer(text):
        out.append(escape(text[last : match.start()]))
        last = match.end()
        group = match.lastgroup
        if group == "code":
            out.append(f"<code>{escape(match['code'])}</code>")
        elif group in ("text", "href"):
            out.append(_link(match["href"], inline(match["text"])))
        elif group == "strong":
            out.append(f"<strong>{inline(match['strong'])}</strong>")
        elif group == "url":
            out.append(_link(match["url"], escape(match["url"])))
        elif group == "mention":
            name = match["mention"]
            out.append(f'<a class="mention" href="/u/{name.lower()}">@{escape(name)}</a>')
        else:
            out.append(emoji(match["emoji"]))
    out.append(escape(text[last:]))
    return "".join(out)


def cook(raw: str, hostname: str) -> str:
    """Cook a whole post's markdown into Discourse HTML (blocks joined by newlines)."""
    lines = raw.split("\n")
    blocks: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif line.startswith("```"):
            end = _find(lines, i + 1, lambda s: s.startswith("```"))
            lang = line[3:].strip() or "auto"
            blocks.append(f'<pre><code class="lang-{lang}">{escape(chr(10).join(lines[i + 1 : end]))}\n</code></pre>')
            i = end + 1
        elif quote := _QUOTE_OPEN.match(line):
            end = _find(lines, i + 1, lambda s: s == "[/quote]")
            blocks.append(_quote(quote[1], quote[2], quote[3], cook("\n".join(lines[i + 1 : end]), hostname), hostname))
            i = end + 1
        elif image := _IMAGE.match(line):
            blocks.append(f"<p>{_lightbox(*image.groups())}</p>")
            i += 1
        elif _URL_LINE.match(line):
            blocks.append(_onebox(line))
            i += 1
        elif line.startswith("- "):
            end = _find(lines, i, lambda s: not s.startswith("- "))
            items = "\n".join(f"<li>{inline(item[2:])}</li>" for item in lines[i:end])
            blocks.append(f"<ul>\n{items}\n</ul>")
            i = end
        else:
            end = _find(lines, i, lambda s: not s.strip() or s.startswith(("```", "[quote=", "- ")))
            blocks.append("<p>" + "<br>\n".join(inline(part) for part in lines[i:end]) + "</p>")
            i = end
    return "\n".join(blocks)


def _find(lines: list[str], start: int, stop: Callable[[str], bool]) -> int:
    """Index of the first line from ``start`` that ends the current block (or the end)."""
    for index in range(start, len(lines)):
        if stop(lines[index]):
            return index
    return len(lines)


def _link(href: str, label: str) -> str:
    """Discourse adds ``rel="noopener nofollow ugc"`` to user links off the site."""
    if href.startswith("/"):
        return f'<a href="{escape(href)}">{label}</a>'
    return f'<a href="{escape(href)}" rel="noopener nofollow ugc">{label}</a>'


def _quote(username: str, post_number: str, topic_id: str, body: str, hostname: str) -> str:
    return (
        f'<aside class="quote no-group" data-username="{escape(username)}" data-post="{post_number}" '
        f'data-topic="{topic_id}">\n<div class="title">\n<div class="quote-controls"></div>\n'
        f'<img alt="" width="24" height="24" src="{avatar_path(hostname, username)}" class="avatar"> '
        f"{escape(username)}:</div>\n<blockquote>\n{body}\n</blockquote>\n</aside>"
    )


def _lightbox(alt: str, width: str, height: str, sha: str, ext: str) -> str:
    digest = hashlib.sha1(sha.encode()).hexdigest()
    original = f"{CDN}/original/2X/{digest[0]}/{digest}.{ext}"
    optimized = f"{CDN}/optimized/2X/{digest[0]}/{digest}_2_{width}x{height}.{ext}"
    kb = (int(width) * int(height)) // 7000
    return (
        f'<div class="lightbox-wrapper"><a class="lightbox" href="{original}" '
        f'data-download-href="/uploads/short-url/{sha}.{ext}?dl=1" title="{escape(alt)}">'
        f'<img src="{optimized}" alt="{escape(alt)}" data-base62-sha1="{sha}" width="{width}" height="{height}" '
        f'data-dominant-color="F4F4F4"><div class="meta"><svg class="fa d-icon d-icon-far-image svg-icon" '
        f'aria-hidden="true"><use href="#far-image"></use></svg><span class="filename">{escape(alt)}</span>'
        f'<span class="informations">{width}×{height} {kb} KB</span><svg class="fa d-icon d-icon-discourse-expand '
        f'svg-icon" aria-hidden="true"><use href="#discourse-expand"></use></svg></div></a></div>'
    )


def _onebox(url: str) -> str:
    """A URL alone on its line: a GitHub blob becomes a rich onebox, anything else a link."""
    blob = _GITHUB_BLOB.match(url)
    if not blob:
        return (f'<p><a href="{escape(url)}" class="onebox" target="_blank" rel="noopener nofollow ugc">'
                f"{escape(url)}</a></p>")
    repo, path, first = blob[1], blob[2], int(blob[3] or 1)
    code = _SNIPPETS.get(path.rsplit("/", 1)[-1], ("...",))
    lines_html = (f'<pre class="onebox"><code class="lang-py">\n<ol class="start lines" start="{first}" '
                  f'style="counter-reset: li-counter {first - 1} ;">\n')
    lines_html += "".join(f"<li>{escape(line)}</li>\n" for line in code) + "</ol></code></pre>"
    return (
        f'<aside class="onebox githubblob" data-onebox-src="{escape(url)}">\n  <header class="source">\n\n'
        f'      <a href="{escape(url)}" target="_blank" rel="noopener nofollow ugc">github.com</a>\n  </header>\n\n'
        f'  <article class="onebox-body">\n    <h4><a href="{escape(url)}" target="_blank" rel="noopener nofollow ugc">'
        f"{escape(repo)}/blob/{escape(path)}</a></h4>\n\n{lines_html}\n\n  </article>\n\n"
        '  <div class="onebox-metadata">\n    \n    \n  </div>\n\n  <div style="clear: both"></div>\n</aside>'
    )
