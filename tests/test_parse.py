"""parse_cooked on the HTML Discourse cooks, with hand-checked expected values."""

from __future__ import annotations

import dataclasses
import random

import pytest

from forumkit.collect.discourse.parse import ParsedPost, parse_cooked

EMPTY = ParsedPost("", "", 0, 0, 0, (), 0, (), 0, (), ())

AVATAR = '<img alt="" width="24" height="24" src="/user_avatar/discuss.huggingface.co/bob/48/1_2.png" class="avatar">'
QUOTE = (
    '<aside class="quote no-group" data-username="bob" data-post="2" data-topic="123">\n'
    '<div class="title">\n<div class="quote-controls"></div>\n'
    f"{AVATAR} bob:</div>\n"
    "<blockquote>\n<p>quoted words</p>\n</blockquote>\n</aside>\n"
)
SMILE = (
    '<img src="https://emoji.discourse-cdn.com/apple/slight_smile.png?v=12" title=":slight_smile:" '
    'class="emoji" alt=":slight_smile:" loading="lazy" width="20" height="20">'
)
LIGHTBOX = (
    '<div class="lightbox-wrapper"><a class="lightbox" href="https://global.discourse-cdn.com/hf/original/2X/a/abc.png" '
    'data-download-href="/uploads/short-url/x.png?dl=1" title="image">'
    '<img src="https://global.discourse-cdn.com/hf/optimized/2X/a/abc_2_690x388.png" alt="image" '
    'data-base62-sha1="x" width="690" height="388"><div class="meta">'
    '<svg class="fa d-icon d-icon-far-image svg-icon" aria-hidden="true"><use href="#far-image"></use></svg>'
    '<span class="filename">image</span><span class="informations">1920×1080 200 KB</span>'
    '<svg class="fa d-icon d-icon-discourse-expand svg-icon" aria-hidden="true"><use href="#discourse-expand"></use></svg>'
    "</div></a></div>"
)
SETUP_URL = "https://github.com/huggingface/transformers/blob/main/setup.py"
GITHUB_ONEBOX = (
    f'<aside class="onebox githubblob" data-onebox-src="{SETUP_URL}">\n'
    f'<header class="source">\n<a href="{SETUP_URL}" target="_blank" rel="noopener">github.com</a>\n</header>\n'
    '<article class="onebox-body">\n'
    f'<h4><a href="{SETUP_URL}" target="_blank" rel="noopener">setup.py</a></h4>\n'
    '<pre><code class="lang-py">from setuptools import setup</code></pre>\n'
    "</article>\n"
    '<div class="onebox-metadata">\n</div>\n<div style="clear: both"></div>\n'
    "</aside>\n"
)


def fields(post: ParsedPost) -> dict:
    return {f.name: getattr(post, f.name) for f in dataclasses.fields(ParsedPost)}


# -- empty and trivial input --------------------------------------------------


@pytest.mark.parametrize("html", [None, "", "   \n", "<p>", "<p></p>", "</p>", "<!-- only a comment -->", "<br>"])
def test_empty_input_gives_an_empty_post(html):
    assert parse_cooked(html) == EMPTY


def test_hidden_and_deleted_posts_parse_normally():
    hidden = parse_cooked("<p>This post was flagged by the community and is temporarily hidden.</p>")
    assert hidden == dataclasses.replace(
        EMPTY, text="This post was flagged by the community and is temporarily hidden."
    )
    assert parse_cooked("<p>(post deleted by author)</p>").text == "(post deleted by author)"


# -- text layout --------------------------------------------------------------


def test_paragraphs_line_breaks_and_lists():
    html = (
        "<p>line one<br>\nline two</p>\n<p>para   two</p>\n"
        "<ul>\n<li>item a</li>\n<li>item <strong>b</strong></li>\n</ul>\n"
        "<h2>Heading</h2>\n<ol>\n<li><p>first</p></li>\n<li>second</li>\n</ol>"
    )
    assert parse_cooked(html).text == (
        "line one\nline two\n\npara two\n\nitem a\nitem b\n\nHeading\n\nfirst\n\nsecond"
    )


def test_double_br_is_a_blank_line():
    assert parse_cooked("<p>x<br><br>y<br></p><p>z</p>").text == "x\n\ny\n\nz"


def test_whitespace_collapsed_within_lines():
    html = "<p>  lots   of\n  space\t here </p>\n\n\n<p>\n  next\n</p>"
    assert parse_cooked(html).text == "lots of space here\n\nnext"


def test_inline_elements_do_not_split_words():
    html = '<p>Use <strong>fp16</strong>=<em>True</em> with <a href="https://x.org/a">acc<b>elerate</b></a>.</p>'
    assert parse_cooked(html).text == "Use fp16=True with accelerate."


def test_table_rows_are_lines_and_cells_words():
    html = (
        '<div class="md-table">\n<table>\n<thead>\n<tr>\n<th>model</th>\n<th>F1</th>\n</tr>\n</thead>\n'
        "<tbody>\n<tr>\n<td>bert</td>\n<td>0.91</td>\n</tr>\n<tr>\n<td>roberta</td>\n<td>0.93</td>\n</tr>\n"
        "</tbody>\n</table>\n</div>"
    )
    assert parse_cooked(html).text == "model F1\nbert 0.91\nroberta 0.93"


def test_non_ascii_text_is_nfc_normalised():
    html = "<p>Cafe\u0301 déjà vu — 東京で<code>bert</code>を使う 🤗 👩\u200d💻</p>"
    post = parse_cooked(html)
    assert post.text == "Café déjà vu — 東京でbertを使う 🤗 👩\u200d💻"
    assert post.inline_code == 1


def test_nbsp_and_zero_width_characters_cleaned():
    html = "<p>a&nbsp;b\u200bc \u00a0 d\ufeffe\u2060f  g&#8203;h\u00adi</p>"
    assert parse_cooked(html).text == "a bc def ghi"


def test_entities_unescaped():
    assert parse_cooked("<p>x &lt; 3 &amp;&amp; y &gt; 2 &quot;ok&quot; caf&eacute;</p>").text == 'x < 3 && y > 2 "ok" café'


# -- code ---------------------------------------------------------------------


def test_code_block_goes_to_code_and_inline_code_stays_in_text():
    html = (
        "<p>Try this:</p>\n"
        '<pre><code class="lang-python">import torch\nx = torch.zeros(2) &lt; 3\n</code></pre>\n'
        "<p>Then run <code>pip install transformers</code>.</p>"
    )
    assert fields(parse_cooked(html)) == fields(
        dataclasses.replace(
            EMPTY,
            text="Try this:\n\nThen run pip install transformers.",
            code="import torch\nx = torch.zeros(2) < 3",
            code_blocks=1,
            inline_code=1,
        )
    )


def test_code_blocks_keep_exact_text_and_are_joined_by_a_blank_line():
    html = (
        '<pre><code class="lang-python">def f(x):\n    if x:\n\n        return  "a  b"\n</code></pre>\n'
        "<p>and</p>\n"
        '<pre><code class="lang-auto">$ python f.py\n\tTab &amp; &lt;tag&gt;\n</code></pre>\n'
        "<pre>plain pre</pre>"
    )
    post = parse_cooked(html)
    assert post.code == 'def f(x):\n    if x:\n\n        return  "a  b"\n\n$ python f.py\n\tTab & <tag>\n\nplain pre'
    assert post.code_blocks == 3
    assert post.inline_code == 0
    assert post.text == "and"


def test_details_with_traceback():
    html = (
        "<details>\n<summary>Traceback</summary>\n"
        '<pre><code class="lang-plaintext">Traceback (most recent call last):\n  File "train.py", line 3\n'
        "RuntimeError: CUDA error\n</code></pre>\n</details>\n<p>Any idea?</p>"
    )
    post = parse_cooked(html)
    assert post.text == "Traceback\n\nAny idea?"
    assert post.code == 'Traceback (most recent call last):\n  File "train.py", line 3\nRuntimeError: CUDA error'
    assert post.code_blocks == 1


# -- quotes -------------------------------------------------------------------


def test_quote_of_another_post_is_removed_and_identified():
    post = parse_cooked(QUOTE + "<p>my reply</p>")
    assert fields(post) == fields(
        dataclasses.replace(EMPTY, text="my reply", quotes=1, quoted_posts=((123, 2, "bob"),))
    )
    assert "quoted" not in post.text and "bob" not in post.text


def test_quoted_links_code_images_and_mentions_are_not_the_posts():
    html = (
        '<aside class="quote" data-username="alice" data-post="5" data-topic="77">\n'
        f'<div class="title">\n<div class="quote-controls"></div>\n{AVATAR} alice:</div>\n<blockquote>\n'
        '<p>Ask <a class="mention" href="/u/carol">@carol</a>, see <a href="https://example.com/a">this</a> '
        '<img src="https://example.com/x.png" alt="x" width="10" height="10"> and <code>x()</code></p>\n'
        "<pre><code>quoted code\n</code></pre>\n"
        "</blockquote>\n</aside>\n"
        f"{QUOTE}"
        "<p>Thanks both!</p>"
    )
    assert fields(parse_cooked(html)) == fields(
        dataclasses.replace(
            EMPTY, text="Thanks both!", quotes=2, quoted_posts=((77, 5, "alice"), (123, 2, "bob"))
        )
    )


def test_plain_blockquote_is_a_quote():
    html = "<p>The docs say:</p>\n<blockquote>\n<p>Use <code>fp16</code> on GPU.</p>\n</blockquote>\n<p>but it fails.</p>"
    post = parse_cooked(html)
    assert post.text == "The docs say:\n\nbut it fails."
    assert (post.quotes, post.quoted_posts, post.inline_code) == (1, (), 0)


def test_blockquote_inside_an_aside_is_not_a_separate_quote():
    html = '<aside class="something"><blockquote><p>x</p></blockquote></aside><p>y</p>'
    post = parse_cooked(html)
    assert (post.text, post.quotes) == ("y", 0)


def test_quote_with_missing_or_bad_attributes():
    html = (
        '<aside class="quote"><blockquote><p>a</p></blockquote></aside>'
        '<aside class="quote" data-post="x2" data-topic=" 9 " data-username=""><blockquote><p>b</p></blockquote></aside>'
    )
    post = parse_cooked(html)
    assert post.quoted_posts == ((None, None, None), (9, None, None))
    assert (post.text, post.quotes) == ("", 2)


# -- oneboxes, links, mentions, hashtags ---------------------------------------


def test_onebox_card_is_reduced_to_its_url():
    post = parse_cooked("<p>See this file:</p>\n" + GITHUB_ONEBOX + "<p>line 12</p>")
    assert fields(post) == fields(
        dataclasses.replace(
            EMPTY,
            text=f"See this file:\n\n{SETUP_URL}\n\nline 12",
            links=1,
            link_urls=(SETUP_URL,),
            oneboxes=(SETUP_URL,),
        )
    )


def test_onebox_without_src_uses_its_first_link():
    html = (
        '<aside class="onebox allowlistedgeneric">\n<header class="source">'
        '<img src="https://pytorch.org/favicon.ico" class="site-icon" width="32" height="32">'
        '<a href="https://pytorch.org/docs/stable/amp.html" target="_blank" rel="noopener">pytorch.org</a></header>\n'
        '<article class="onebox-body"><img src="https://pytorch.org/thumb.png" class="thumbnail" width="100" height="100">'
        '<h3><a href="https://pytorch.org/docs/stable/amp.html">Automatic Mixed Precision</a></h3>'
        "<p>Long description of the page.</p></article>\n</aside>"
    )
    post = parse_cooked(html)
    url = "https://pytorch.org/docs/stable/amp.html"
    assert (post.text, post.oneboxes, post.link_urls, post.images) == (url, (url,), (url,), 0)


def test_inline_onebox_link():
    html = (
        '<p><a href="https://huggingface.co/bert-base-uncased" class="onebox" target="_blank" rel="noopener">'
        "https://huggingface.co/bert-base-uncased</a></p>"
    )
    url = "https://huggingface.co/bert-base-uncased"
    post = parse_cooked(html)
    assert (post.text, post.links, post.link_urls, post.oneboxes) == (url, 1, (url,), (url,))


def test_youtube_lazy_video_is_a_onebox():
    html = (
        '<div class="youtube-onebox lazy-video-container" data-video-id="abc" data-video-title="Course" '
        'data-provider-name="youtube"><a href="https://www.youtube.com/watch?v=abc" target="_blank" rel="noopener">'
        '<img class="youtube-thumbnail" src="https://img.youtube.com/vi/abc/maxresdefault.jpg" title="Course" '
        'width="690" height="388"></a></div>'
    )
    url = "https://www.youtube.com/watch?v=abc"
    post = parse_cooked(html)
    assert (post.text, post.oneboxes, post.links, post.images) == (url, (url,), 1, 0)


def test_links_exclude_mentions_hashtags_anchors_and_lightboxes():
    html = (
        '<p>See <a href="https://pytorch.org/docs" rel="noopener nofollow ugc">the docs</a>, '
        '<a href="#step-2">step 2</a>, <a name="h" class="anchor" href="#h"></a>'
        '<a href="/t/some-topic/123">the other topic</a>, '
        '<a class="mention" href="/u/bob">@bob</a>, '
        '<a class="hashtag-cooked" href="/c/beginners/5" data-type="category" data-slug="beginners">'
        "<span>beginners</span></a> and "
        '<a class="hashtag" href="/tag/cuda">#<span>cuda</span></a>.</p>\n'
        f"<p>{LIGHTBOX}</p>"
    )
    assert fields(parse_cooked(html)) == fields(
        dataclasses.replace(
            EMPTY,
            text="See the docs, step 2, the other topic, @bob, #beginners and #cuda.",
            links=2,
            link_urls=("https://pytorch.org/docs", "/t/some-topic/123"),
            images=1,
            mentions=("bob",),
        )
    )


def test_mentions():
    html = (
        '<p><a class="mention" href="/u/bob">@bob</a> and <a class="mention" href="/u/alice_99">@alice_99</a> '
        'and the <a class="mention-group" href="/groups/team">@team</a></p>'
    )
    post = parse_cooked(html)
    assert (post.text, post.mentions, post.links) == ("@bob and @alice_99 and the @team", ("bob", "alice_99"), 0)


# -- images and emoji ---------------------------------------------------------


def test_emoji_become_their_alt_text():
    post = parse_cooked(f"<p>Thanks, that worked {SMILE}{SMILE.replace('slight_smile', 'tada')}</p>")
    assert (post.text, post.images) == ("Thanks, that worked :slight_smile::tada:", 0)


def test_lightbox_image_counts_once_and_leaves_no_text():
    post = parse_cooked(f"<p>Screenshot:</p>\n<p>{LIGHTBOX}</p>\n<p>see above</p>")
    assert fields(post) == fields(dataclasses.replace(EMPTY, text="Screenshot:\n\nsee above", images=1))
    assert "1920" not in post.text and "KB" not in post.text


def test_plain_images_count_avatars_do_not():
    html = (
        '<p><img src="https://example.com/loss.png" alt="loss curve" width="600" height="400"> '
        f'and {AVATAR} <img src="/uploads/default/original/1X/b.png" alt="b"></p>'
    )
    post = parse_cooked(html)
    assert (post.text, post.images) == ("and", 2)


# -- broken input ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>unclosed <b>bold <i>both", "unclosed bold both"),
        ("<div><p>a</div>b", "a\n\nb"),
        ("<p>a<p>b", "a\n\nb"),
        ("<b><i>x</b></i> y", "x y"),
        ("plain text, no tags", "plain text, no tags"),
        ("<<<>>> 1 < 2", "<<<>>> 1 < 2"),
        ("<p class='x>broken attr</p><p>after</p>", "broken attr after"),
        ("<?xml version='1.0' encoding='latin-1'?><p>xé</p>", "xé"),
        ("<meta charset='latin-1'><p>é 中文</p>", "é 中文"),
        ("a\x00b\x01c<p>d\x7f</p>", "abc\n\nd"),
        ("\ud800<p>lone surrogate</p>", "?\n\nlone surrogate"),
    ],
)
def test_broken_html_yields_its_best_text(html, text):
    assert parse_cooked(html).text == text


def test_unclosed_code_and_quote():
    post = parse_cooked('<p>see</p><pre><code class="lang-python">never closed\n  x = 1')
    assert (post.text, post.code, post.code_blocks) == ("see", "never closed\n  x = 1", 1)
    post = parse_cooked('<aside class="quote" data-post="3" data-topic="4"><blockquote><p>cut off')
    assert (post.text, post.quotes, post.quoted_posts) == ("", 1, ((4, 3, None),))


def test_very_deep_nesting():
    assert parse_cooked("<div>" * 500 + "deep" + "</div>" * 500 + "<p>after</p>").text == "deep\n\nafter"
    assert parse_cooked("<div>" * 5000 + "deep<p>after</p>").text == "deep after"


DEEP = "<div>" * 5000 + "deep<p>after</p>"  # past libxml2's 2048 levels
SWALLOWED = "<p class='x>broken attr</p><p>after</p>"  # libxml2 swallows the text into the attribute


def test_a_fallback_keeps_the_text_and_says_why():
    for html, text, why in ((DEEP, "deep after", "deeper"), (SWALLOWED, "broken attr after", "no text")):
        post = parse_cooked(html)
        assert post.text == text and post.fallback is not None and why in post.fallback
    assert all(parse_cooked(html).fallback is None for html in ("<p>fine</p>", "<p></p>", "", None, "<br>"))
    assert parse_cooked("<div>" * 500 + "deep" + "</div>" * 500).fallback is None


def test_never_raises_on_garbage():
    rng = random.Random(20240101)
    alphabet = "<>/=\"' &;#abcdpqrstu\n\t\x00\x0b\u00a0\u200bé中🤗-:!"
    pieces = ["<p>", "</p>", "<pre>", "<code>", "</code>", "<aside class=\"quote\">", "<blockquote>", "<a href=",
              "<img class=\"emoji\" alt=", "<br>", "&", "&#", "<!--", "<![CDATA[", "<?", "<svg>", "<table><td>"]
    for _ in range(300):
        n = rng.randint(0, 60)
        html = "".join(rng.choice(pieces) if rng.random() < 0.3 else rng.choice(alphabet) for _ in range(n))
        assert isinstance(parse_cooked(html), ParsedPost)
    raw = bytes(rng.randrange(256) for _ in range(2000))
    for codec in ("latin-1", "cp1252"):
        assert isinstance(parse_cooked(raw.decode(codec, "replace")), ParsedPost)
    assert isinstance(parse_cooked(raw), ParsedPost)  # bytes are decoded as UTF-8
    assert isinstance(parse_cooked("<p>" + "x" * 200_000 + "</p>"), ParsedPost)


def test_parsed_post_is_frozen():
    post = parse_cooked("<p>x</p>")
    with pytest.raises(dataclasses.FrozenInstanceError):
        post.text = "y"  # type: ignore[misc]


# -- a whole realistic post -----------------------------------------------------


def test_realistic_post():
    html = (
        f'{QUOTE}<p>Hi <a class="mention" href="/u/bob">@bob</a>, thanks! {SMILE}<br>\n'
        "I am fine-tuning <code>bert-base-uncased</code> with the <code>Trainer</code> and get:</p>\n"
        '<pre><code class="lang-python">RuntimeError: CUDA out of memory. Tried to allocate 20.00 MiB\n</code></pre>\n'
        "<p>My setup follows</p>\n"
        f"{GITHUB_ONEBOX}"
        '<p>and <a href="https://huggingface.co/docs/transformers/main_classes/trainer" rel="noopener nofollow ugc">'
        "the docs</a>. Screenshot:</p>\n"
        f"<p>{LIGHTBOX}</p>\n"
        "<ul>\n<li>transformers 4.30.2</li>\n<li>torch 2.0.1</li>\n</ul>"
    )
    assert fields(parse_cooked(html)) == fields(
        ParsedPost(
            text=(
                "Hi @bob, thanks! :slight_smile:\n"
                "I am fine-tuning bert-base-uncased with the Trainer and get:\n\n"
                f"My setup follows\n\n{SETUP_URL}\n\n"
                "and the docs. Screenshot:\n\n"
                "transformers 4.30.2\ntorch 2.0.1"
            ),
            code="RuntimeError: CUDA out of memory. Tried to allocate 20.00 MiB",
            code_blocks=1,
            inline_code=2,
            quotes=1,
            quoted_posts=((123, 2, "bob"),),
            links=2,
            link_urls=(SETUP_URL, "https://huggingface.co/docs/transformers/main_classes/trainer"),
            images=1,
            oneboxes=(SETUP_URL,),
            mentions=("bob",),
        )
    )
