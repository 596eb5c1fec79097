"""The command line's promise: an unexpected failure ends in one `error: ...` line and exit 1, the traceback kept
in a file the line names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from retrain import cli
from retrain.layout import ERROR_LOG


def test_unexpected_exception_is_one_line_and_a_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args) -> int:
        os.chdir(tmp_path)  # as dispatch() does: the log goes to the repository root's reports/
        raise KeyError("metrics/metrics.json: 'accuracy'\nsecond line")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "dispatch", broken)
    code = cli.main(["releases"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: unexpected KeyError: ")
    assert str(ERROR_LOG) in err and "Traceback" not in err
    logged = (tmp_path / ERROR_LOG).read_text()
    assert logged.startswith("Traceback") and "second line" in logged
