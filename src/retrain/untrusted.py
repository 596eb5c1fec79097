"""Text from outside the project (delivery keys, validator messages) made inert wherever the engine writes it.

Pure functions, shared by every report and commit message: `printable` for a one-line message, `code_span` and
`escape_markdown` for GitHub-flavoured markdown (a pull request's body or comment, a job summary), and
`safe_for_commit` for a commit message, which GitHub reads for skip instructions and the workflows for trailers.
"""

from __future__ import annotations

import re
import unicodedata

# Control characters (newline, NUL, DEL, C1), invisible formatting ones (bidi overrides, zero-width), line and
# paragraph separators, and lone surrogates (a file name that is not UTF-8): none may reach a line of output.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character: CommonMark escapes each one
_ZERO_WIDTH_SPACE = "\u200b"
# What GitHub reads in a head commit's message as "do not run the workflows" (any case), and the trailers the
# engine and GitHub act on: a key must never spell one of them.
SKIP_INSTRUCTIONS = ("[skip ci]", "[ci skip]", "[no ci]", "[skip actions]", "[actions skip]")
_TRAILER_WORDS = re.compile(r"(skip-checks|retrain-commit)(\s*):", re.IGNORECASE)


def is_hidden(char: str) -> bool:
    return unicodedata.category(char) in HIDDEN_CATEGORIES


def printable(text: str) -> str:
    """`text` on one visible line: backslash and hidden characters escaped as Python's repr does (`\\n`, `\\x00`,
    `\\u2028`), everything else as it is; two different texts never look the same."""
    out = []
    for char in text:
        if char in _NAMED:
            out.append(_NAMED[char])
        elif is_hidden(char):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out)


def code_span(text: str, in_table: bool = False) -> str:
    """`text` as a markdown code span, shown literally (no link, mention, HTML or emphasis is rendered): fenced by
    one backtick more than its longest run of them, padded when it starts or ends with one; `in_table` escapes `|`,
    which splits a GFM table cell even inside a code span."""
    shown = printable(text) or " "
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * (longest + 1)
    if shown.strip(" ") and (shown.startswith(("`", " ")) or shown.endswith(("`", " "))):
        shown = f" {shown} "  # CommonMark strips one space each side (unless all are spaces): the padding never shows
    if in_table:
        shown = shown.replace("|", "\\|")
    return f"{fence}{shown}{fence}"


def escape_markdown(text: str) -> str:
    """`text` as plain markdown text on one line: every ASCII punctuation character backslash-escaped (no emphasis,
    link, image, HTML, table cell or heading), and a zero-width space after `@`, `#` and `://` so that GitHub makes
    no mention, issue reference or autolink of it."""
    escaped = _PUNCTUATION.sub(r"\\\1", printable(text))
    for mark in ("@", "#"):
        escaped = escaped.replace(f"\\{mark}", f"\\{mark}{_ZERO_WIDTH_SPACE}")
    return escaped.replace("\\:\\/\\/", f"\\:{_ZERO_WIDTH_SPACE}\\/\\/").replace("www\\.", f"www{_ZERO_WIDTH_SPACE}\\.")


# A name that renders as itself in GitHub-flavoured markdown: words of letters and digits, then also `_ . - /` (an
# underscore after a letter opens no emphasis), one space apart, a number's sign first; no `@`, `#`, `<`, `|`, `*`,
# brackets or backticks, and not an autolink.
_WORD = r"[A-Za-z0-9][A-Za-z0-9_.\-/]*"
_PLAIN_NAME = re.compile(rf"[-+]?{_WORD}( {_WORD})*")


def markdown_name(text: str, in_table: bool = False) -> str:
    """A name from outside (a metric, a param, a class label, a path) in markdown: as it is when plain (what the
    project's own names are), else a code span, which shows it literally."""
    autolink = any(word.lower().lstrip("+-").startswith("www.") for word in text.split(" "))
    plain = _PLAIN_NAME.fullmatch(text) is not None and not autolink
    return text if plain else code_span(text, in_table)


def is_plain_name(text: str) -> bool:
    return markdown_name(text) == text


def safe_for_commit(text: str) -> str:
    """`text` fit for one line of a commit message: on one line (hidden characters escaped), square brackets as
    parentheses (no `[skip ci]` or any other skip instruction) and no `skip-checks:` or `Retrain-Commit:` that a
    trailer check, GitHub's or the workflows' `contains(...)`, would match."""
    line = printable(text).replace("[", "(").replace("]", ")")
    return _TRAILER_WORDS.sub(r"\1\2-", line)


def has_skip_instruction(message: str) -> bool:
    """Whether GitHub would skip the workflows for a head commit with this message."""
    lowered = message.lower()
    if any(mark in lowered for mark in SKIP_INSTRUCTIONS):
        return True
    last = [line.strip().lower() for line in message.strip().splitlines()[-1:]]
    return bool(last) and re.fullmatch(r"skip-checks\s*:\s*true", last[0]) is not None
