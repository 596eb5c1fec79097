"""The engine's own layout, in one place: the files every DVC project has, the files the engine writes, and the tag
globs. What differs between projects (artifact, metrics, raw data) is resolved by retrain.project.

Tag names are GTO's (`artifact@vX.Y.Z`, `artifact#stage#N`): built and parsed by GTO itself, globbed here.
"""

from __future__ import annotations

from pathlib import Path

DVC_YAML = "dvc.yaml"
LOCK = "dvc.lock"
PARAMS_FILE = "params.yaml"
# The lock files of a Python environment, the first a project has recorded in each release's lineage (a stage may
# depend on it too, so that an upgrade re-runs the stages).
ENV_LOCKS = ("requirements.lock", "uv.lock", "poetry.lock", "Pipfile.lock", "pylock.toml", "conda-lock.yml")
REPORTS = Path("reports")
REPORT = REPORTS / "report.md"
RUN_SUMMARY = REPORTS / "run.json"
ERROR_LOG = REPORTS / "retrain-error.log"  # the traceback of an unexpected failure; the error line names it
# Files a release must find committed (and free of conflict markers) before it computes anything, with the
# batches' .dvc files.
PIPELINE_FILES = (DVC_YAML, LOCK, PARAMS_FILE)


def release_glob(name: str) -> str:
    """Every release tag of an artifact, as a git ref glob."""
    return f"{name}@v*"


def stage_glob(name: str) -> str:
    """Every stage tag (assignment or unassignment) of an artifact, as a git ref glob."""
    return f"{name}#*"


def registry_glob(name: str) -> str:
    """Every GTO tag of an artifact: releases, deregistrations and stage tags."""
    return f"{name}[@#]*"
