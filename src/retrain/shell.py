"""Subprocess edge: every external command goes through `run`, so errors and logging look the same."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from retrain.errors import CommandError


def venv_path_env() -> dict[str, str]:
    """The environment with this interpreter's bin first, so DVC stage commands find `python` and `dvc`."""
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    if env.get("PATH", "").split(os.pathsep)[0] != bindir:
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


def call(
    args: Sequence[str], cwd: Path, input_text: str | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command with this environment's bin first on PATH (and `env` added); return what it did, whatever its
    exit code."""
    return subprocess.run(
        list(args),
        cwd=cwd,
        capture_output=True,
        text=True,
        input=input_text,
        env={**venv_path_env(), **(env or {})},
        check=False,
    )


def run(
    args: Sequence[str],
    cwd: Path,
    check: bool = True,
    input_text: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run a command, return its stdout; raise CommandError with its stderr when `check` and it fails."""
    result = call(args, cwd, input_text, env)
    if check and result.returncode != 0:
        raise CommandError(args, result.returncode, result.stderr or result.stdout)
    return result.stdout


def run_configured(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A command from the project's configuration, run the way DVC runs a stage's cmd: by the shell."""
    return call([os.environ.get("SHELL") or "/bin/sh", "-c", command], cwd)
