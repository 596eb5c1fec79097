"""The engine's own settings: the `release:` section of params.yaml, everything the engine needs to know about a
project that dvc.yaml does not say (docs/adopt.md lists them). The stages never read it; retrain.project resolves
the settings left out from dvc.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from retrain.errors import ParamsError
from retrain.layout import PARAMS_FILE

SECTION = "release"


class ReleaseConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    primary_metric: str  # a key of the metrics file: the gate compares it with the latest release
    # The largest change for the worse that still gets tagged: in the metric's own units (absolute), or as a
    # fraction of the latest release's value (relative: 0.05 is 5%).
    max_regression: Annotated[float, Field(ge=0.0)]
    direction: Literal["higher", "lower"] = "higher"  # which way is better: accuracy higher, RMSE or loss lower
    threshold: Literal["absolute", "relative"] = "absolute"  # how max_regression reads
    # The JSON file (a `metrics:` output in dvc.yaml) that holds primary_metric; left out, the one dvc.yaml declares.
    metrics_file: str | None = None
    # The name of the artifact to tag, declared under dvc.yaml `artifacts:`; left out, the one of type model.
    artifact: str | None = None
    # Where raw data lives: a folder of batches, each with its own `<batch>.dvc`, or one path tracked by its own
    # `<path>.dvc`. Left out, the stage dependency of dvc.yaml that a .dvc file tracks.
    raw_data: str | None = None
    append_only: bool = True  # every raw file of the latest release must still be there unchanged
    # `month`: a release that brings new batches moves the ones an earlier release holds into one folder per month,
    # tracked by one .dvc file (retrain.compaction), so that DVC's cost follows months, not deliveries. The stages
    # must read the batch folder's month folders too. Needs append_only.
    partition_by: Literal["none", "month"] = "none"
    # Optional: a `metrics:` JSON file of data statistics (e.g. rows, batches), shown in the report and the lineage.
    data_stats: str | None = None
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

    @model_validator(mode="after")
    def _partitions_need_append_only(self) -> ReleaseConfig:
        if self.partition_by != "none" and not self.append_only:
            raise ValueError("partition_by needs append_only: true (a partition only ever grows)")
        return self


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
        raise ParamsError(
            f"{PARAMS_FILE}: section '{SECTION}' is missing; add primary_metric and max_regression (docs/adopt.md)."
        )
    try:
        return ReleaseConfig.model_validate(section)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join([SECTION, *map(str, first["loc"])])
        # a rule across keys (partition_by needs append_only) has no one input to show: the section is the input
        got = f" (got {first.get('input')!r})" if first["loc"] else ""
        raise ParamsError(f"{PARAMS_FILE}: {key}: {first['msg']}{got}; fix it.") from None
