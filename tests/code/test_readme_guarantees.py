"""Every test the README's Guarantees section cites exists: a row whose proof was renamed or removed fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.helpers import REPO_ROOT

TESTS = REPO_ROOT / "tests"


def guarantees() -> str:
    readme = (REPO_ROOT / "README.md").read_text()
    start = readme.index("## Guarantees")
    return readme[start : readme.index("\n## ", start + 1)]


def cited(text: str) -> list[tuple[str, str | None]]:
    """(file, test or None) for each `file.py::test` or `tests/....py` the text cites."""
    found = [(path, name) for path, name in re.findall(r"`?([\w/]+\.py)::(\w+)`?", text)]
    found += [(path, None) for path in re.findall(r"`(tests/[\w/]+\.py)`", text)]
    return found


def resolve(path: str) -> Path:
    """A cited file: a path from the repository root, a bare name in tests/faults/ (where the section says its proofs
    live), or else a bare name unique among the test files."""
    if "/" in path:
        return REPO_ROOT / path
    if (TESTS / "faults" / path).is_file():
        return TESTS / "faults" / path
    matches = sorted(TESTS.rglob(path))
    assert len(matches) == 1, f"`{path}` names {len(matches)} test files: cite it with its folder"
    return matches[0]


def test_every_test_the_guarantees_cite_exists() -> None:
    references = cited(guarantees())
    assert len(references) > 30, "the Guarantees section cites its proofs"
    for path, name in references:
        file = resolve(path)
        assert file.is_file(), path
        if name:
            tree = ast.parse(file.read_text())
            defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
            assert name in defined, f"{path}::{name} is cited by the README but not defined"


def test_a_cited_test_that_does_not_exist_is_found() -> None:
    """The check can fail."""
    (path, name), *_ = cited("| x | y | `test_s3.py::test_that_was_renamed` |")
    tree = ast.parse(resolve(path).read_text())
    assert name not in {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
