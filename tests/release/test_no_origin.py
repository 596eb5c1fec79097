"""A pushing command in a clone with no `origin` is a configuration to fix: exit 2 and one line naming the remote
and the command that adds it, from `retrain run --push` and `retrain ingest --push` alike; nothing is committed or
tagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Project

pytestmark = pytest.mark.slow

ADVICE = "needs a git remote named `origin`; add it with `git remote add origin URL`."


@pytest.mark.parametrize(
    "command",
    [("run", "--push"), ("ingest", "LANDING", "--push"), ("ingest", "LANDING", "--hold")],
    ids=["run --push", "ingest --push", "ingest --hold"],
)
def test_a_pushing_command_without_origin_exits_2_naming_it(command, released: Project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "delivery.csv").write_bytes((released.root / "data/raw/batch-0000-digits.csv").read_bytes()[:2000])
    released.git("remote", "remove", "origin")
    head, tags = released.git("rev-parse", "HEAD"), released.tags()

    result = released.retrain(*(str(landing) if part == "LANDING" else part for part in command))

    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    flag = command[-1]
    assert last == f"error: {flag} {ADVICE}", last
    assert "Traceback" not in result.stderr
    assert released.git("rev-parse", "HEAD") == head and released.tags() == tags
