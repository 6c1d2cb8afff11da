"""Safe Markdown: no raw HTML, no dangerous links, stable heading anchors."""

import pytest
from markupsafe import Markup

from lms.content import parse_day_link, render_markdown
from lms.content.markdown import heading_slug


def test_returns_markup():
    assert isinstance(render_markdown("Hello"), Markup)
    assert render_markdown("Hello") == Markup("<p>Hello</p>\n")


def test_script_tags_are_escaped():
    html = render_markdown("Hi <script>alert('x')</script>\n\n<script>\nalert(1)\n</script>")

    assert "<script" not in html
    assert "&lt;script&gt;" in html


def test_img_onerror_is_escaped():
    html = render_markdown('<img src="x" onerror="alert(1)">')

    assert "<img" not in html
    assert "&lt;img" in html


def test_html_blocks_and_inline_html_show_as_text():
    html = render_markdown('<div onclick="x()">Hi</div>\n\nA <b>bold</b> <a href="javascript:x">y</a>')

    assert "<div" not in html and "<b>" not in html and "<a " not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


@pytest.mark.parametrize("source", [
    "[click](javascript:alert(1))",
    "[click](JavaScript:alert(1))",
    "[click](  javascript:alert(1) )",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD4=)",
    "[click](data:image/png;base64,AAAA)",
    "<javascript:alert(1)>",
    "[click][ref]\n\n[ref]: javascript:alert(1)",
    "[click](jav&#x09;ascript:alert(1))",
    "[click](file:///etc/passwd)",
    "[click](ftp://example.org/x)",
])
def test_dangerous_links_never_become_links(source):
    html = render_markdown(source)

    assert "<a" not in html
    assert 'href="javascript' not in html.lower()


def test_relative_links_keep_their_words_only():
    html = render_markdown("[the handbook](../handbook.pdf) and [home](/)")

    assert html == Markup("<p>the handbook and home</p>\n")


def test_external_links_open_safely():
    html = render_markdown("[Mind](https://www.mind.org.uk/) and <http://example.org>")

    assert '<a href="https://www.mind.org.uk/" rel="noopener noreferrer">Mind</a>' in html
    assert '<a href="http://example.org" rel="noopener noreferrer">http://example.org</a>' in html
    assert "target=" not in html


def test_mailto_and_in_page_links_are_kept():
    html = render_markdown("[write](mailto:tutor@example.org) or [see aims](#aims)")

    assert '<a href="mailto:tutor@example.org">write</a>' in html
    assert '<a href="#aims">see aims</a>' in html


def test_course_links_are_text_without_a_resolver():
    assert render_markdown("See [day 7](day:07#my-plan).") == Markup("<p>See day 7.</p>\n")


def test_course_links_are_resolved_by_the_caller():
    seen = []

    def resolve(href):
        seen.append(href)
        return "/course/days/7#my-plan" if href == "day:07#my-plan" else None

    html = render_markdown("[plan](day:07#my-plan) and [nowhere](day:99)", resolve)

    assert seen == ["day:07#my-plan", "day:99"]
    assert '<a href="/course/days/7#my-plan">plan</a>' in html
    assert "rel=" not in html
    assert "nowhere" in html and "day:99" not in html


def test_a_resolver_cannot_smuggle_in_a_dangerous_address():
    html = render_markdown("[x](day:01)", lambda href: "javascript:alert(1)")
    assert "<a" not in html
    html = render_markdown("[x](day:01)", lambda href: "//evil.example/")
    assert "<a" not in html


def test_images_show_their_alt_text_only():
    html = render_markdown('![A *calm* room <b>](https://example.org/x.png "t")')

    assert "<img" not in html
    assert "example.org" not in html
    assert html == Markup("<p>A calm room &lt;b&gt;</p>\n")


def test_tables_are_rendered_with_header_cells():
    html = render_markdown("| Skill | Example |\n|---|---|\n| Reflecting | It sounds like |\n")

    assert "<table>" in html
    assert "<th>Skill</th>" in html
    assert "<td>Reflecting</td>" in html


def test_headings_get_stable_anchors():
    html = render_markdown("## Aims\n\n### What you'll do: *together*\n\n## Aims\n")

    assert '<h2 id="aims">Aims</h2>' in html
    assert '<h3 id="what-youll-do-together">' in html
    assert '<h2 id="aims-2">Aims</h2>' in html


def test_unit_heading_ids_are_used_and_removed_from_the_text():
    html = render_markdown("## Our community agreement {#our-community-agreement}\n")

    assert html == Markup('<h2 id="our-community-agreement">Our community agreement</h2>\n')


def test_a_malformed_heading_id_stays_as_text():
    html = render_markdown("## Title {#Not Valid}\n")

    assert "{#Not Valid}" in html
    assert 'id="title-not-valid"' in html


def test_anchor_prefix_keeps_pieces_of_one_page_apart():
    html = render_markdown("### Aims\n\n## Unit {#unit-one}", anchor_prefix="unit-one-")

    assert '<h3 id="unit-one-aims">' in html
    assert '<h2 id="unit-one">' in html


def test_heading_slug():
    assert heading_slug("Reading and resources") == "reading-and-resources"
    assert heading_slug("  Strengths -- spotting!  ") == "strengths-spotting"
    assert heading_slug("***") == "section"


@pytest.mark.parametrize("href, target", [
    ("day:07", (7, None)), ("day:7", (7, None)), ("day:07#my-plan", (7, "my-plan")),
    ("day:seven", None), ("day:07#Bad_Id", None), ("https://x", None), ("day:", None),
])
def test_parse_day_link(href, target):
    assert parse_day_link(href) == target


def test_empty_text_renders_nothing():
    assert render_markdown("") == Markup("")
