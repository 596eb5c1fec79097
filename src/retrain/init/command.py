"""`retrain init`: make an existing DVC repository a release-engine project in one command.

It derives what it can from dvc.yaml, asks (one `error:` line, exit 2) for what it cannot, then writes params.yaml's
`release:` section, `.gto`, the CI callers and the day-one checklist. A file that is missing is created, one that
already says what init would write is left alone (a second init changes nothing), and one that says something else
is the team's: it is kept and named, unless `--force`. dvc.yaml and the team's code are only read. Nothing is
committed: the team reviews the change and commits it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import yaml

from retrain import gitops, project
from retrain.errors import InitError
from retrain.init import settings, templates
from retrain.init.settings import InitOptions, Section
from retrain.init.templates import Ci, Engine
from retrain.layout import DVC_YAML, PARAMS_FILE

_GITHUB = re.compile(r"(?:https://github\.com/|git@github\.com:|ssh://git@github\.com/)([\w.-]+/[\w.-]+?)(?:\.git)?/?")


class Change(Enum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    KEPT = "kept"  # differs from what init writes: the team's, left as it is
    OVERWRITTEN = "overwritten"  # differed, and --force replaced it


@dataclass
class Outcome:
    changes: dict[str, Change] = field(default_factory=dict)
    checklist: str = ""

    def lines(self) -> list[str]:
        shown = [f"init: {path}: {change.value}" for path, change in self.changes.items()]
        kept = [path for path, change in self.changes.items() if change is Change.KEPT]
        if kept:
            shown.append(
                f"init: kept as the team wrote them: {', '.join(kept)} (they differ from what init writes; "
                "review them, or re-run with --force to overwrite)"
            )
        return shown


def init(root: Path, options: InitOptions, ci: Ci, force: bool = False, engine: Engine | None = None) -> Outcome:
    """Write what the project lacks (see the module's docstring); everything is derived before anything is written."""
    release = settings.derive(root, options)
    artifact, _ = project.artifact_of((root / DVC_YAML).read_text(), options.artifact)
    repository = github_repository(gitops.remote_url(root))
    wanted = templates.files(engine or Engine.installed(), ci, repository, artifact, gto_stages(root), options.ingest)
    outcome = Outcome(checklist=wanted[templates.CHECKLIST])
    outcome.changes[PARAMS_FILE] = _params(root, release, force)
    for path, text in wanted.items():
        outcome.changes[path] = _write(root / path, text, force)
    return outcome


def gto_stages(root: Path) -> tuple[str, ...]:
    """The promotion stages of the project's .gto (GTO's registry settings), else those init's .gto lists."""
    try:
        stages = yaml.safe_load((root / templates.GTO).read_text()).get("stages")
    except (OSError, yaml.YAMLError, AttributeError):
        return templates.DEFAULT_STAGES
    if isinstance(stages, list) and stages and all(isinstance(stage, str) and stage for stage in stages):
        return tuple(stages)
    return templates.DEFAULT_STAGES


def github_repository(url: str | None) -> str | None:
    """OWNER/REPO of a GitHub remote URL (https or ssh), else None: the AWS trust policies name it."""
    match = _GITHUB.fullmatch(url or "")
    return match.group(1) if match else None


def _params(root: Path, release: dict[str, object], force: bool) -> Change:
    path = root / PARAMS_FILE
    text = path.read_text() if path.is_file() else None
    state = settings.compare(text, release)
    if state is Section.SAME:
        return Change.UNCHANGED
    if state is Section.DIFFERENT and not force:
        return Change.KEPT
    path.write_text(settings.with_section(text, release))
    return Change.CREATED if state is Section.MISSING else Change.OVERWRITTEN


def _write(path: Path, text: str, force: bool) -> Change:
    if path.is_dir():
        raise InitError(f"{path.name}: a folder is where init writes a file; move it and re-run init.")
    if path.is_file():
        if path.read_text(errors="replace") == text:
            return Change.UNCHANGED
        if not force:
            return Change.KEPT
        path.write_text(text)
        return Change.OVERWRITTEN
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return Change.CREATED
