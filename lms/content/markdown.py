"""Safe Markdown rendering for course content and for what people write.

CommonMark with tables, raw HTML off (it shows as text), headings with stable
``id`` anchors, and links kept only when they are safe: ``http``, ``https``
and ``mailto`` links (external ones open with ``rel="noopener noreferrer"``),
in-page ``#anchors``, and ``day:NN`` / ``day:NN#unit`` links that a caller
turns into real addresses. Anything else (``javascript:``, ``data:``, relative
paths, other schemes) keeps its words but loses its link. Images show as their
alt text so that no page fetches a remote picture.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup, escape

LinkResolver = Callable[[str], "str | None"]

# The id syntax a unit heading ends with: `## Title {#unit-id}`.
UNIT_ID_PATTERN = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_HEADING_ID = re.compile(r"\s*\{#(" + UNIT_ID_PATTERN + r")\}\s*$")
_DAY_LINK = re.compile(r"^day:(\d{1,2})(?:#(" + UNIT_ID_PATTERN + r"))?$")
_SAFE_SCHEME = re.compile(r"^(?:https?|mailto):", re.IGNORECASE)
_EXTERNAL = re.compile(r"^https?:", re.IGNORECASE)


def parse_day_link(href: str) -> tuple[int, str | None] | None:
    """Read a course link: "day:07" -> (7, None), "day:07#my-plan" -> (7, "my-plan").

    Returns None when ``href`` is not a well-formed ``day:`` link.
    """
    match = _DAY_LINK.match(href.strip())
    if match is None:
        return None
    return int(match.group(1)), match.group(2)


def heading_slug(text: str) -> str:
    """A stable anchor for a heading's text: lowercase words joined by hyphens."""
    words = re.sub(r"[^\w\s-]", "", text.lower()).replace("_", " ")
    slug = re.sub(r"[\s-]+", "-", words).strip("-")
    return slug or "section"


def render_markdown(text: str, link_resolver: LinkResolver | None = None, *,
                    anchor_prefix: str = "") -> Markup:
    """Render Markdown to HTML that is safe to put in a page.

    ``link_resolver`` gets each ``day:NN`` or ``day:NN#unit-id`` link and
    returns the address to use, or None to show the words without a link
    (the default when no resolver is given). ``anchor_prefix`` is put before
    the generated heading anchors (not before explicit ``{#id}`` ones) so that
    several rendered pieces can share one page without clashing ids.
    """
    tokens = _markdown().parse(text or "", {})
    _add_heading_anchors(tokens, anchor_prefix)
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children = _safe_links(token.children, link_resolver)
    return Markup(_markdown().renderer.render(tokens, _markdown().options, {}))


def parse_tokens(text: str) -> list[Token]:
    """The markdown-it block tokens of ``text``, parsed exactly as `render_markdown` does."""
    return _markdown().parse(text or "", {})


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # The "commonmark" preset with html off; never the default preset, which
    # lets raw HTML (and so <script>) straight through.
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.add_render_rule("image", _render_image_as_alt_text)
    return md


def _render_image_as_alt_text(self, tokens, idx, options, env) -> str:
    # No remote fetching: a picture shows as the words describing it.
    return str(escape(self.renderInlineAsText(tokens[idx].children or [], options, env)))


def _add_heading_anchors(tokens: list[Token], prefix: str) -> None:
    used: set[str] = set()
    for index, token in enumerate(tokens):
        if token.type != "heading_open" or index + 1 >= len(tokens):
            continue
        inline = tokens[index + 1]
        anchor = _take_explicit_id(inline)
        if anchor is None:
            anchor = prefix + heading_slug(inline.content)
            base, count = anchor, 1
            while anchor in used:
                count += 1
                anchor = f"{base}-{count}"
        used.add(anchor)
        token.attrSet("id", anchor)


def _take_explicit_id(inline: Token) -> str | None:
    """Remove a trailing `{#id}` from a heading and return the id, if it has one."""
    match = _HEADING_ID.search(inline.content)
    children = inline.children or []
    if match is None or not children or children[-1].type != "text":
        return None
    last = children[-1]
    stripped = _HEADING_ID.sub("", last.content)
    if stripped == last.content:
        return None
    last.content = stripped
    inline.content = _HEADING_ID.sub("", inline.content)
    return match.group(1)


def _safe_links(children: list[Token], link_resolver: LinkResolver | None) -> list[Token]:
    """Keep safe links, resolve course links, and unwrap every other link to its words."""
    kept: list[Token] = []
    unwrapping = False
    for child in children:
        if child.type == "link_open":
            href = _safe_href(str(child.attrGet("href") or ""), link_resolver)
            if href is None:
                unwrapping = True
                continue
            child.attrSet("href", href)
            if _EXTERNAL.match(href):
                child.attrSet("rel", "noopener noreferrer")
        elif child.type == "link_close" and unwrapping:
            # CommonMark links never nest, so this closes the unwrapped link.
            unwrapping = False
            continue
        kept.append(child)
    return kept


def _safe_href(href: str, link_resolver: LinkResolver | None) -> str | None:
    if href.lower().startswith("day:"):
        if link_resolver is None:
            return None
        resolved = link_resolver(href)
        # A resolver's answer is checked too: it may only point inside the site.
        if resolved and (resolved.startswith("/") or resolved.startswith("#")
                         or _SAFE_SCHEME.match(resolved)) and not resolved.startswith("//"):
            return resolved
        return None
    if _SAFE_SCHEME.match(href):
        return href
    if href.startswith("#") and len(href) > 1:
        return href
    return None
