"""What the engine knows about a project, resolved once: the `release:` section of params.yaml (retrain.config),
with every setting it leaves out read from dvc.yaml, or a one-line error saying what to add (docs/adopt.md).

Nothing here names a file of the digits example: the artifact, the metrics file, the raw data and the files a run
rewrites all come from the project's own dvc.yaml and params.yaml.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrain import config, dvcfiles, metrics
from retrain.config import ReleaseConfig
from retrain.errors import BadInputError, ParamsError
from retrain.layout import DVC_YAML, ENV_LOCKS, LOCK, PARAMS_FILE
from retrain.rawdata import Raw, tracked_deps


@dataclass(frozen=True)
class Project:
    config: ReleaseConfig
    artifact: str  # the artifact GTO tags (`artifact@vX.Y.Z`)
    model_path: str  # its path, as dvc.yaml `artifacts:` declares it
    metrics: str  # the metrics file holding config.primary_metric (in git, or in DVC's cache: retrain.dvcmetrics)
    data_stats: str | None  # the JSON file of data statistics, if the project has one
    raw: Raw
    engine_owned: tuple[str, ...]  # files a run rewrites and commits: dvc.lock and the `cache: false` outputs
    # (data file, actual column, predicted column) of each file of the `template: confusion` plots
    confusion_plots: tuple[tuple[str, str, str], ...]
    env_lock: str | None = None  # the environment's lock file (layout.ENV_LOCKS), if the project has one
    line_plots: tuple[dvcfiles.PlotSpec, ...] = ()  # the other top-level plots with x/y columns (ROC, PR curves)
    # (.gitignore, rule) DVC writes when it caches an output: `/model.joblib` in models/.gitignore
    output_ignores: tuple[tuple[str, str], ...] = ()


def load(root: Path) -> Project:
    """The project at `root`, or a one-line error (exit 2) naming the file and key to fix."""
    settings = config.load(root)
    dvc_yaml = _read_dvc_yaml(root)
    declared = dvcfiles.declared_outputs(dvc_yaml)
    uncached = dvcfiles.committed_outputs(declared)
    name, path = artifact_of(dvc_yaml, settings.artifact)
    known = dvcfiles.metrics_files(dvc_yaml, declared)
    for key in ("metrics_file", "data_stats"):
        chosen = getattr(settings, key)
        if chosen and chosen not in known and not dvcfiles.inside_output(chosen, declared):
            raise ParamsError(
                f"{PARAMS_FILE}: release.{key} `{chosen}` is neither under `metrics:` in {DVC_YAML} (top-level or a "
                "stage's) nor a file inside a stage output; fix the path, or declare it where DVC reads metrics."
            )
    metrics_file = settings.metrics_file or _metrics_file(root, settings, known)
    raw = Raw.at_path(root, settings.raw_data or _raw_data(root, dvc_yaml, declared))
    confusion = tuple(dvcfiles.confusion_plots(dvc_yaml))
    lines = tuple(spec for spec in dvcfiles.plot_specs(dvc_yaml) if spec.template != "confusion")
    env_lock = next((lock for lock in ENV_LOCKS if (root / lock).is_file()), None)
    owned = (LOCK, *uncached)
    ignores = output_ignores(declared)
    return Project(
        settings, name, path, metrics_file, settings.data_stats, raw, owned, confusion, env_lock, lines, ignores
    )


def output_ignores(declared: list[dvcfiles.Declared]) -> tuple[tuple[str, str], ...]:
    """(.gitignore, rule) for each cached output, as DVC writes it: the rule `/NAME` in the .gitignore of the
    output's folder."""
    found = set()
    for out in declared:
        if out.cached:
            folder, _, name = out.path.strip("/").rpartition("/")
            found.add((f"{folder}/.gitignore" if folder else ".gitignore", f"/{name}"))
    return tuple(sorted(found))


def only_rules_added(old: str, new: str, rules: Collection[str]) -> bool:
    """Whether `new` is `old` with no line removed and no line added but `rules` (blank lines aside): a .gitignore
    that only DVC changed, for the outputs it caches."""
    before = {line for line in old.splitlines() if line.strip()}
    after = {line for line in new.splitlines() if line.strip()}
    return before <= after and after - before <= set(rules)


def artifact_of(dvc_yaml: str | None, wanted: str | None) -> tuple[str, str]:
    """(name, path) of the artifact to tag: `wanted`, or the one of type model that dvc.yaml declares."""
    declared = dvcfiles.artifacts(dvc_yaml)
    if wanted is not None:
        if wanted not in declared or "path" not in declared[wanted]:
            known = ", ".join(declared) or "none"
            raise ParamsError(
                f"{PARAMS_FILE}: release.artifact `{wanted}` is not declared with a path under {DVC_YAML} "
                f"`artifacts:` (declared: {known}); declare it there or fix the name."
            )
        return wanted, declared[wanted]["path"]
    models = [(name, spec["path"]) for name, spec in declared.items() if spec.get("type") == "model" and "path" in spec]
    if len(models) == 1:
        return models[0]
    if not models:
        raise BadInputError(f"{DVC_YAML} declares no artifact of type model under `artifacts:`; add one.")
    names = ", ".join(name for name, _ in models)
    raise ParamsError(f"{DVC_YAML} declares several model artifacts ({names}); add release.artifact to {PARAMS_FILE}.")


def artifact(root: Path) -> tuple[str, str]:
    """(name, path) of the artifact to tag, for commands that need nothing else of the project (with no params.yaml:
    the one dvc.yaml declares)."""
    section = config.read(root).get(config.SECTION) if (root / PARAMS_FILE).is_file() else None
    wanted = section.get("artifact") if isinstance(section, dict) else None
    return artifact_of(_read_dvc_yaml(root), wanted if isinstance(wanted, str) else None)


def _read_dvc_yaml(root: Path) -> str:
    try:
        return (root / DVC_YAML).read_text()
    except FileNotFoundError:
        raise BadInputError(f"{DVC_YAML}: file not found; run from the root of a DVC project.") from None


def _metrics_file(root: Path, settings: ReleaseConfig, known: list[str]) -> str:
    """The metrics file of dvc.yaml (a stage's `metrics:`, cached or not, or the top-level `metrics:`) that holds the
    primary metric: the only one besides data_stats, or the only one whose current content has the key."""
    candidates = [path for path in known if path != settings.data_stats]
    if len(candidates) == 1:
        return candidates[0]
    holding = [path for path in candidates if settings.primary_metric in metrics.flatten(_json(root / path))]
    if len(holding) == 1:
        return holding[0]
    if not candidates:
        raise ParamsError(
            f"{DVC_YAML} declares no `metrics:`: list the file holding `{settings.primary_metric}` under `metrics:` "
            "(top-level or a stage's), or set release.metrics_file."
        )
    raise ParamsError(
        f"{PARAMS_FILE}: release.metrics_file is not set and {DVC_YAML} declares several metrics files "
        f"({', '.join(candidates)}); add release.metrics_file: the one holding `{settings.primary_metric}`."
    )


def _raw_data(root: Path, dvc_yaml: str, declared: list[dvcfiles.Declared]) -> str:
    """The stage dependency that a .dvc file tracks (or a folder of them): what no stage makes."""
    found = tracked_deps(root, dvc_yaml, {out.path for out in declared})
    if len(found) == 1:
        return found[0]
    which = f"several ({', '.join(found)})" if found else "none"
    raise ParamsError(
        f"{PARAMS_FILE}: release.raw_data is not set and {DVC_YAML} has {which} of stage deps tracked by a .dvc "
        "file; add release.raw_data: the file or batch folder that holds the raw data."
    )


def _json(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}
