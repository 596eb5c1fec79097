"""benchmarks/history.py's results page: a new measurement replaces its own row and keeps the others, and the notes
that say why a target is missed (written by whoever measured) survive every later run and show on the page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import history
from tests.helpers import REPO_ROOT


def test_a_new_row_keeps_the_other_rows_and_the_notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    committed = json.loads((REPO_ROOT / "benchmarks/history-results.json").read_text())
    rows = committed["results"]
    assert committed["notes"], "the committed page says why its missed targets are missed"
    results = tmp_path / "history-results"
    monkeypatch.setattr(history, "RESULTS", results)
    results.with_suffix(".json").write_text(json.dumps({"results": rows, "notes": ["- **why**: measured."]}))
    remeasured = {**rows[-1], "run": "2099-01-01 00:00 UTC"}

    history.write_results([remeasured])

    saved = json.loads(results.with_suffix(".json").read_text())
    assert saved["notes"] == ["- **why**: measured."]
    assert len(saved["results"]) == len(rows) and saved["results"][-1]["run"] == "2099-01-01 00:00 UTC"
    page = results.with_suffix(".md").read_text()
    assert page.count("2099-01-01 00:00 UTC") == 1
    assert page.endswith("## Why targets are missed\n\n- **why**: measured.\n")
