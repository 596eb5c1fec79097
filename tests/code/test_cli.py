"""The command line's promise: an unexpected failure ends in one `error: ...` line and exit 1, the traceback kept
in a file the line names."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
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


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    declared = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]["version"]
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"retrain {declared}\n"


def test_version_needs_no_repository(tmp_path: Path) -> None:
    """A fresh install answers `--version` anywhere, before any project exists."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "retrain"), "--version"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("retrain ") and result.stderr == ""
