"""`retrain init`'s settings: the `release:` section of params.yaml from the options and the project's dvc.yaml.

The section goes into params.yaml, where retrain.config reads it and where every tunable of a DVC project already
lives (the team's rule: params.yaml holds every tunable). It is edited as text: a missing section is appended, so
every other byte of the file (comments, order, layout) stays as the team wrote it; `--force` rewrites the section
alone. A setting dvc.yaml decides (the artifact, the metrics file, the raw data) is written only when dvc.yaml
alone cannot say it, so that a later change of dvc.yaml is followed, not contradicted.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from retrain import config, dvcfiles, metrics, project
from retrain.config import ReleaseConfig
from retrain.errors import BadInputError, InitError
from retrain.layout import DVC_YAML, PARAMS_FILE
from retrain.rawdata import Raw, tracked_deps
from retrain.untrusted import is_hidden, printable

# Metric names whose better direction is well known, as tokens of the name (`val_loss`, `test.rmse`, `f1_macro`).
LOWER_IS_BETTER = frozenset({"rmse", "mse", "mae", "mape", "loss", "logloss", "error", "err", "latency", "perplexity"})
HIGHER_IS_BETTER = frozenset(
    {"accuracy", "acc", "f1", "auc", "roc", "precision", "prec", "recall", "r2", "ap", "map", "score", "iou", "dice"}
)
_TOKENS = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class InitOptions:
    """What the command line passes: None is "derive it"."""

    metric: str | None = None
    direction: str | None = None
    max_regression: str | None = None
    threshold: str | None = None
    artifact: str | None = None
    metrics_file: str | None = None
    raw_data: str | None = None
    ingest: bool = False  # the scheduled ingest too: the raw data must then be a folder of batches


class Section(Enum):
    """How params.yaml's `release:` section stands against what init would write."""

    MISSING = "missing"
    SAME = "same"  # every key init writes has init's value (the team's own extra keys are theirs)
    DIFFERENT = "different"


def derive(root: Path, options: InitOptions) -> dict[str, Any]:
    """The `release:` keys to write, validated as retrain.config reads them, or one line naming the option to pass."""
    dvc_yaml = _dvc_yaml(root)
    metric = _metric(options.metric)
    settings: dict[str, Any] = {
        "primary_metric": metric,
        "direction": options.direction or direction_of(metric),
        "max_regression": _max_regression(options.max_regression),
        "threshold": options.threshold or "absolute",
    }
    declared = dvcfiles.declared_outputs(dvc_yaml)
    if artifact := _artifact(dvc_yaml, options.artifact):
        settings["artifact"] = artifact
    if metrics_file := _metrics_file(root, dvc_yaml, declared, metric, options.metrics_file):
        settings["metrics_file"] = metrics_file
    tracked = tracked_deps(root, dvc_yaml, {out.path for out in declared})
    raw = _raw_data(dvc_yaml, tracked, options.raw_data)
    if tracked != [raw]:  # written only when dvc.yaml alone does not say it
        settings["raw_data"] = raw
    try:
        ReleaseConfig.model_validate(settings)
    except ValidationError as error:
        first = error.errors()[0]
        option = "--" + str(first["loc"][0]).replace("_", "-")
        raise InitError(f"{option}: {first['msg']} (got {first.get('input')!r}).") from None
    if options.ingest:
        try:
            Raw.at_path(root, raw).folder  # noqa: B018 (what `retrain ingest` needs, with its own message)
        except BadInputError as error:
            raise InitError(f"--ingest: {error}") from None
    return settings


def direction_of(metric: str) -> str:
    """`lower` or `higher` from a well-known metric name, else one line asking for --direction."""
    tokens = set(_TOKENS.findall(metric.lower()))
    lower, higher = bool(tokens & LOWER_IS_BETTER), bool(tokens & HIGHER_IS_BETTER)
    if lower != higher:
        return "lower" if lower else "higher"
    raise InitError(
        f"cannot tell whether a higher or a lower `{printable(metric)}` is better; pass --direction higher|lower."
    )


def render(settings: dict[str, Any]) -> str:
    """The section as YAML text, headed by a comment that says who wrote it and where its keys are explained."""
    body = yaml.safe_dump({config.SECTION: settings}, sort_keys=False, allow_unicode=True, width=1_000_000)
    head, _, rest = body.partition("\n")
    return f"{head}  # read by `retrain`, not by a stage; written by `retrain init` (keys: docs/adopt.md)\n{rest}"


def compare(text: str | None, settings: dict[str, Any]) -> Section:
    if text is None:
        return Section.MISSING
    section = _loaded(text).get(config.SECTION)
    if section is None:
        return Section.MISSING
    if isinstance(section, dict) and all(section.get(key, _ABSENT) == value for key, value in settings.items()):
        return Section.SAME
    return Section.DIFFERENT


def with_section(text: str | None, settings: dict[str, Any]) -> str:
    """params.yaml's text with init's `release:` section: appended after everything else, or (when the file has one)
    in its place, keeping the team's own extra keys of it. Every other line is kept as it was."""
    section = render(settings)
    if text is None or not text.strip():
        return section
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _is_key(line, config.SECTION)), None)
    if start is None:
        return text + ("" if text.endswith("\n") else "\n") + section
    end = next((i for i in range(start + 1, len(lines)) if _starts_key(lines[i])), len(lines))
    while end > start + 1 and lines[end - 1].startswith("#"):  # a comment right above the next key is that key's
        end -= 1
    old = _loaded(text).get(config.SECTION)
    extra = {k: v for k, v in old.items() if k not in settings} if isinstance(old, dict) else {}
    return "".join(lines[:start]) + render(settings | extra) + "".join(lines[end:])


_ABSENT = object()


def _loaded(text: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        reason = " ".join(str(error).split())
        raise InitError(f"{PARAMS_FILE}: not valid YAML ({reason}); fix the file and re-run init.") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise InitError(f"{PARAMS_FILE}: expected a mapping of sections, got {type(document).__name__}; fix it.")
    return document


def _is_key(line: str, key: str) -> bool:
    return re.match(rf"{re.escape(key)}\s*:", line) is not None


def _starts_key(line: str) -> bool:
    return bool(line) and not line[0].isspace() and not line.startswith("#")


def _dvc_yaml(root: Path) -> str:
    try:
        return (root / DVC_YAML).read_text()
    except FileNotFoundError:
        raise InitError(f"{DVC_YAML}: file not found; run init at the root of a DVC project with a pipeline.") from None


def _metric(name: str | None) -> str:
    if not name:
        raise InitError("pass --metric NAME: the metric the gate compares, as `dvc metrics show` prints it.")
    if any(is_hidden(char) for char in name) or name != name.strip():
        raise InitError(f"--metric `{printable(name)}`: a metric name has no hidden characters or outer spaces.")
    return name


def _max_regression(value: str | None) -> float:
    if value is None:
        raise InitError(
            "pass --max-regression X: the largest change for the worse that still gets tagged "
            "(in the metric's units, or a fraction with --threshold relative)."
        )
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise InitError(f"--max-regression `{printable(value)}`: expected a number, 0 or more (e.g. 0.05).")
    return number


def _artifact(dvc_yaml: str, wanted: str | None) -> str | None:
    """The artifact to write: only one named with --artifact (else project.artifact_of finds the one model)."""
    try:
        project.artifact_of(dvc_yaml, wanted)
    except BadInputError as error:
        raise InitError(f"{printable(str(error))} (to retrain init: pass --artifact NAME)") from None
    return wanted


def _metrics_file(
    root: Path, dvc_yaml: str, declared: list[dvcfiles.Declared], metric: str, wanted: str | None
) -> str | None:
    """The metrics file to write: None when dvc.yaml's metrics (a stage's `metrics:`, cached or not, or the
    top-level `metrics:`) name one file. A file already on disk must hold the metric; one not yet made by
    `dvc repro` (or inside a cached output, as dvclive writes it) is taken as declared."""
    files = dvcfiles.metrics_files(dvc_yaml, declared)
    if wanted is not None and wanted not in files and not dvcfiles.inside_output(wanted, declared):
        raise InitError(
            f"--metrics-file `{printable(wanted)}` is neither under `metrics:` in {DVC_YAML} (top-level or a "
            f"stage's) nor a file inside a stage output (declared: {printable(', '.join(files)) or 'none'}); pass "
            "one of them."
        )
    if not files and wanted is None:
        raise InitError(
            f"{DVC_YAML} declares no `metrics:`: pass --metrics-file PATH, the JSON file holding "
            f"`{printable(metric)}` (or list it under `metrics:`, top-level or a stage's, as DVC reads it)."
        )
    numbers = {path: _numbers(root / path) for path in {*files, *([wanted] if wanted else [])}}
    holding = [path for path in files if metric in (numbers[path] or {})]
    chosen = wanted or (files[0] if len(files) == 1 else holding[0] if len(holding) == 1 else None)
    if chosen is None:
        raise InitError(
            f"{DVC_YAML} declares several metrics files ({printable(', '.join(files))}); pass --metrics-file PATH: "
            f"the one holding `{printable(metric)}`."
        )
    found = numbers[chosen]
    if found is not None and metric not in found:
        names = ", ".join(metrics.shown(name) for name in found) or "no number"
        raise InitError(f"--metric `{printable(metric)}` is not a number in {chosen} (it has: {names}); pass one.")
    return None if len(files) == 1 and chosen == files[0] else chosen


def _numbers(path: Path) -> dict[str, float] | None:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return metrics.flatten(document) if isinstance(document, dict) else None


def _raw_data(dvc_yaml: str, found: list[str], wanted: str | None) -> str:
    """The raw data: `--raw-data`, else the one stage dependency a .dvc file tracks (`found`: those there are)."""
    if wanted is not None:
        wanted = wanted.rstrip("/")
        if wanted not in dvcfiles.stage_deps(dvc_yaml):
            raise InitError(f"--raw-data `{printable(wanted)}` is no stage dependency in {DVC_YAML}; pass one.")
        return wanted
    if len(found) == 1:
        return found[0]
    which = f"several ({printable(', '.join(found))})" if found else "none"
    raise InitError(
        f"{DVC_YAML} has {which} of stage dependencies tracked by a .dvc file; pass --raw-data PATH "
        "(the file or batch folder of raw data, added with `dvc add`)."
    )
