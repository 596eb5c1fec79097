"""No module of src/ passes about 400 lines without a reason at its top (DEVELOPERS.md: a storeroom is a module
that grew without anyone deciding it should)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO_ROOT

LIMIT = 400
REASON = "Past 400 lines on purpose:"


def long_without_reason(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        lines = text.count("\n")
        if lines > LIMIT and REASON not in (ast.get_docstring(ast.parse(text)) or ""):
            found.append(f"{path.relative_to(root)} ({lines} lines)")
    return found


def test_every_long_module_of_src_says_why_at_its_top() -> None:
    found = long_without_reason(REPO_ROOT / "src")
    assert not found, f"split them, or say why at the top ({REASON!r}): {found}"


def test_a_long_module_without_a_reason_is_named(tmp_path: Path) -> None:
    body = "x = 1\n" * (LIMIT + 1)
    (tmp_path / "storeroom.py").write_text('"""Many things."""\n' + body)
    (tmp_path / "decided.py").write_text(f'"""One thing.\n\n{REASON} it reads in order.\n"""\n' + body)
    (tmp_path / "short.py").write_text('"""Short."""\nx = 1\n')
    assert long_without_reason(tmp_path) == [f"storeroom.py ({LIMIT + 2} lines)"]
