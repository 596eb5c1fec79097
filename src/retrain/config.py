"""The engine's own settings: the `release:` section of params.yaml (the quality gate, and how to rebuild the first
raw batch on a fresh machine). The stages never read it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from retrain.errors import ParamsError
from retrain.layout import PARAMS_FILE

SECTION = "release"


class ReleaseConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    primary_metric: str  # a key of the metrics file: the gate compares it with the latest release
    max_regression: Annotated[float, Field(ge=0.0, le=1.0)]  # largest drop that still gets tagged
    # Run in preflight: a non-zero exit stops the run before any compute (2: bad input, e.g. a stage's params).
    check_command: str | None = None
    # Run when the raw data named by git is nowhere (a fresh clone on an empty default remote): it must rebuild
    # exactly that data, or the run stops.
    seed_command: str | None = None
    # Run by `retrain ingest` with the new delivery files as arguments: one JSON line per file on stdout,
    # {"file": ..., "error": null or the one-line reason}, so that ingest applies the pipeline's own rules.
    validate_command: str | None = None
    # Days after which `retrain ingest` deletes an original from the landing: one whose batch is recorded on the
    # release branch (and whose data the DVC remote holds), or one refused and kept in rejected/. Unset: never.
    ingest_retention_days: Annotated[int, Field(ge=1)] | None = None


def read(root: Path) -> dict[str, Any]:
    """params.yaml as a mapping, or one line naming the file and what is wrong."""
    try:
        document = yaml.safe_load((root / PARAMS_FILE).read_text())
    except FileNotFoundError:
        raise ParamsError(f"{PARAMS_FILE}: file not found; run from the repository root.") from None
    except yaml.YAMLError as error:
        reason = " ".join(str(error).split())  # the parser's message spans lines; the error is one line
        raise ParamsError(f"{PARAMS_FILE}: not valid YAML ({reason}); fix the file and re-run.") from None
    if not isinstance(document, dict):
        raise ParamsError(f"{PARAMS_FILE}: expected a mapping of sections, got {type(document).__name__}.")
    return document


def load(root: Path) -> ReleaseConfig:
    section = read(root).get(SECTION)
    if section is None:
        raise ParamsError(f"{PARAMS_FILE}: section '{SECTION}' is missing; add primary_metric and max_regression.")
    try:
        return ReleaseConfig.model_validate(section)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join([SECTION, *map(str, first["loc"])])
        raise ParamsError(f"{PARAMS_FILE}: {key}: {first['msg']} (got {first.get('input')!r}); fix it.") from None
