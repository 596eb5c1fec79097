"""The release report says what each stage serves next to the release a run makes, so that a reviewer sees
whether to promote it."""

from __future__ import annotations

import pytest

from tests.helpers import Project

pytestmark = pytest.mark.slow


def test_the_release_report_shows_prod_next_to_the_new_release(released: Project) -> None:
    promoted = released.retrain("promote", "v1.1.0", "--stage", "prod")
    assert promoted.returncode == 0, promoted.stderr
    released.set_param("train", "C", 0.25)

    result = released.retrain("run", "--push")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "released model@v1.1.2"
    report = (released.root / "reports/report.md").read_text()
    assert "| prod | model@v1.1.0 | " in report and "| staging | – |" in report
    assert "This run: **model@v1.1.2**; prod serves model@v1.1.0" in report
    assert "`retrain promote v1.1.2 --stage prod`" in report
