"""The project's layout, in one place: the files the engine reads and writes, the model artifact and its tags.

Tag names are GTO's (`artifact@vX.Y.Z`, `artifact#stage#N`): built and parsed by GTO itself, globbed here.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from retrain.errors import BadInputError

DVC_YAML = "dvc.yaml"
LOCK = "dvc.lock"
PARAMS_FILE = "params.yaml"
ENV_LOCK = "requirements.lock"  # the hash-locked environment the stages run under (a dependency in dvc.yaml)
RAW_DIR = "data/raw"  # one `<batch>.dvc` file per batch: see retrain.rawdata
METRICS = "metrics/metrics.json"
DATA_STATS = "metrics/data.json"
CONFUSION = "plots/confusion.csv"
REPORTS = Path("reports")
REPORT = REPORTS / "report.md"
RUN_SUMMARY = REPORTS / "run.json"
ERROR_LOG = REPORTS / "retrain-error.log"  # the traceback of an unexpected failure; the error line names it
# Files a release must find committed (and free of conflict markers) before it computes anything, with the
# batches' .dvc files.
PIPELINE_FILES = (DVC_YAML, LOCK, PARAMS_FILE)
# Files a run rewrites: left modified by an interrupted run, they do not block the next one.
ENGINE_OWNED = (LOCK, METRICS, DATA_STATS)


def artifact(root: Path) -> tuple[str, str]:
    """(name, path) of the model artifact declared in dvc.yaml (`artifacts:` with type model): GTO tags use its name."""
    spec = yaml.safe_load((root / DVC_YAML).read_text()) or {}
    for name, declared in (spec.get("artifacts") or {}).items():
        if (declared or {}).get("type") == "model":
            return name, declared["path"]
    raise BadInputError(f"{DVC_YAML} declares no artifact of type model under `artifacts:`; add one.")


def release_glob(name: str) -> str:
    """Every release tag of an artifact, as a git ref glob."""
    return f"{name}@v*"


def stage_glob(name: str) -> str:
    """Every stage tag (assignment or unassignment) of an artifact, as a git ref glob."""
    return f"{name}#*"


def registry_glob(name: str) -> str:
    """Every GTO tag of an artifact: releases, deregistrations and stage tags."""
    return f"{name}[@#]*"
