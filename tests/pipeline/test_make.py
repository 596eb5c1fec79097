"""The Makefile's self-documentation and the demo a newcomer runs."""

from __future__ import annotations

import sys

import pytest

from tests.helpers import REPO_ROOT, sh


def test_make_help_lists_every_target_with_a_description() -> None:
    out = sh(["make", "--no-print-directory", "help"], REPO_ROOT).stdout
    for target in ("install", "retrain", "test", "lint", "bench", "bench-quick", "demo", "clean"):
        assert f"make {target} " in out, target
    targets = [line.split(":")[0] for line in (REPO_ROOT / "Makefile").read_text().splitlines() if ": " in line]
    documented = [line.split()[1] for line in out.splitlines()]
    assert set(documented) <= set(targets)


@pytest.mark.slow
def test_demo_tells_the_whole_story() -> None:
    """`make demo`: v1, v1.1 on new data, restores, a gated bad delivery, the releases table."""
    result = sh([sys.executable, str(REPO_ROOT / "scripts/demo.py")], REPO_ROOT, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    assert "released model@v1.0.0" in out and "released model@v1.1.0" in out
    assert "gated: no tag" in out
    assert out.index("model@v1.1.0     ") < out.rindex("model@v1.0.0     ")
