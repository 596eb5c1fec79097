"""Text from outside made inert: one visible line, markdown that renders as the text itself, a commit message
line GitHub and the workflows read no instruction in. Hostile input by hypothesis; rendering by markdown-it
(CommonMark, with GFM tables), the parser family GitHub's renderer follows."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

from retrain import decisions
from retrain.ingest import plan
from retrain.untrusted import (
    SKIP_INSTRUCTIONS,
    code_span,
    escape_markdown,
    has_skip_instruction,
    is_hidden,
    markdown_name,
    printable,
    safe_for_commit,
)

MARKDOWN = MarkdownIt("commonmark").enable("table")
HOSTILE = [
    "@octocat [skip ci] **bold** <img src=x onerror=alert(1)> [link](http://evil.example) `tick` #1",
    "a\nb\r\nc\x00d\x7fe\u2028f\u2029g\x85h",
    "``` `` ` ",
    "x | y | z",
    "Retrain-Commit: release\nskip-checks: true",
    "[CI SKIP] [Skip Actions] [no ci] [actions skip]",
    "\ud800 lone surrogate",
]
# Text biased towards what markdown, git trailers and GitHub's skip rules react to, plus anything at all.
MARKUP = st.text(
    alphabet=st.sampled_from(list("`*_[]()<>!#@|\\:/ -\n\r\x00\x7f\u2028\u200bskipcinoatrue")), max_size=40
)
ANY_TEXT = st.one_of(st.text(max_size=60), MARKUP)
MENTION = re.compile(r"@[A-Za-z0-9]")


def rendered_text(markdown: str) -> str:
    """The HTML markdown-it makes of a one-paragraph text, without its <p> wrapper."""
    html = MARKDOWN.render(markdown)
    assert html.startswith("<p>") and html.endswith("</p>\n"), html
    return html[3:-5]


@given(ANY_TEXT)
def test_printable_is_one_visible_line_and_leaves_plain_text_alone(text: str) -> None:
    shown = printable(text)
    assert not any(is_hidden(char) for char in shown)
    assert len(shown.splitlines()) <= 1
    if not any(is_hidden(char) or char == "\\" for char in text):
        assert shown == text


@given(ANY_TEXT)
@example("   ")
@example("")
def test_a_code_span_renders_as_exactly_the_text(text: str) -> None:
    expected = printable(text) or " "
    assert rendered_text(code_span(text)) == f"<code>{escapeHtml(expected)}</code>"


@given(ANY_TEXT)
def test_a_code_span_in_a_table_cell_stays_one_cell(text: str) -> None:
    table = f"| key | outcome |\n|---|---|\n| {code_span(text, in_table=True)} | ok |\n"
    html = MARKDOWN.render(table)
    cells = re.findall(r"<td>(.*?)</td>", html, flags=re.DOTALL)
    assert cells == [f"<code>{escapeHtml(printable(text) or ' ')}</code>", "ok"]


@given(ANY_TEXT)
@example(HOSTILE[0])
def test_escaped_markdown_renders_as_the_text_with_no_markup_mention_or_link(text: str) -> None:
    escaped = escape_markdown(text)
    assert "\n" not in escaped and not MENTION.search(escaped) and not re.search(r"#[0-9]", escaped)
    shown = printable(text)
    if shown and shown == shown.strip():  # a paragraph drops leading and trailing spaces: nothing to compare
        html = rendered_text(escaped)
        assert html.replace("\u200b", "") == escapeHtml(shown)
        assert not MENTION.search(html) and "://" not in html


@given(ANY_TEXT)
def test_unsafe_markdown_characters_never_survive_unescaped(text: str) -> None:
    unescaped = re.sub(r"\\.", "", escape_markdown(text))  # what is left once every backslash escape is removed
    assert not set(unescaped) & set("`*_[]()<>!|\\")


@given(ANY_TEXT)
@example(HOSTILE[4])
@example(HOSTILE[5])
def test_a_commit_line_has_no_skip_instruction_trailer_or_line_break(text: str) -> None:
    line = safe_for_commit(text)
    assert "\n" not in line and "\r" not in line and not any(is_hidden(char) for char in line)
    assert not has_skip_instruction(f"subject\n\n{line}")
    assert not re.search(r"(skip-checks|retrain-commit)\s*:", line, flags=re.IGNORECASE)


@given(st.lists(st.tuples(ANY_TEXT, ANY_TEXT, ANY_TEXT), max_size=4), ANY_TEXT, st.booleans())
def test_the_ingest_commit_message_obeys_only_the_engine(ingested: list, url: str, release: bool) -> None:
    message = plan.commit_message(url, ingested, decisions.COMMIT_MARK if release else None)
    assert not has_skip_instruction(message)
    assert decisions.has_commit_mark(message) is release
    assert message.lower().count("retrain-commit:") == int(release)
    assert len(message.splitlines()) == 2 + len(ingested) + (2 if release else 0)


def test_every_skip_instruction_github_knows_is_recognised() -> None:
    for mark in (*SKIP_INSTRUCTIONS, "[SKIP CI]"):
        assert has_skip_instruction(f"data: {mark}")
    assert has_skip_instruction("data\n\nskip-checks: true")
    assert not has_skip_instruction("data: (skip ci)")


@given(ANY_TEXT)
@example("www.evil.example")
@example("F1 macro")
def test_a_name_in_a_table_cell_renders_as_exactly_itself_in_one_cell(name: str) -> None:
    """Metric, param and label names of a report: plain ones unchanged, any other shown literally, one cell."""
    table = f"| name | value |\n|---|---|\n| {markdown_name(name, in_table=True)} | 1 |\n"
    cells = re.findall(r"<td>(.*?)</td>", MARKDOWN.render(table), flags=re.DOTALL)
    assert len(cells) == 2 and cells[1] == "1", cells
    shown = printable(name) or " "
    assert cells[0] in (escapeHtml(shown), f"<code>{escapeHtml(shown)}</code>"), cells
    if not cells[0].startswith("<code>"):  # left as it was: nothing GitHub would link or mention
        assert "@" not in cells[0] and "www." not in cells[0].lower() and "<" not in cells[0]


def test_plain_names_are_left_as_the_project_wrote_them() -> None:
    for name in ("accuracy", "train.C", "f1_macro", "-1.0", "F1 macro", "plots/confusion.csv"):
        assert markdown_name(name) == name
    for name in ("@octocat", "#1", "a *b*", "www.evil.example", "[x](y)", "<b>", "a|b", "_x_", ""):
        assert markdown_name(name).startswith("`"), name


metric_names = st.dictionaries(ANY_TEXT, st.floats(allow_nan=False, allow_infinity=False), max_size=4)


@given(metric_names, st.dictionaries(ANY_TEXT, st.tuples(ANY_TEXT, ANY_TEXT), max_size=3), ANY_TEXT)
@example({"[skip ci]": 0.5}, {"Retrain-Commit: release\nx": ("a", "b")}, "acc\n\nskip-checks: true")
def test_the_release_commit_message_obeys_only_the_engine(metrics: dict, params: dict, metric: str) -> None:
    """Metric names and params come from the pipeline's files: none reaches the release commit as an instruction."""
    message = decisions.commit_message(120, params, metric, 0.9, metrics)
    subject, _, rest = message.partition("\n")
    assert not has_skip_instruction(message)
    assert decisions.has_commit_mark(message)
    assert message.lower().count("retrain-commit:") == 1 and rest == f"\n{decisions.COMMIT_MARK}\n"
    assert not any(is_hidden(char) for char in subject)
