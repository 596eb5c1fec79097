"""Sandboxes for the benchmarks, built with the tests' helpers, and the step hyperfine runs before each timed run.

    python -m benchmarks.sandbox KIND TEMPLATE TARGET     (hyperfine's --prepare)

checks what the previous run of KIND left in TARGET (a failed check stops hyperfine, so no figure stands on a run
that did not do its job), then puts a fresh copy of TEMPLATE there. A sandbox is a folder holding `work/` (a clone
of the project), `origin.git` (its bare origin) and `dvc-storage/` (its local DVC remote); both URLs are relative,
so a copy of the folder is a sandbox of its own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

from retrain import versioning
from retrain.project import artifact as project_artifact
from tests.helpers import VENV_BIN, Project, clone_project, make_seed_origin, sh

STAGES = ("preprocessing", "train", "evaluate")
KINDS = ("retrain-push", "plain", "retrain", "merge", "bare")
STEP_LINE = re.compile(r"^\[(?:\d+/\d+|step)\] (.+): (\d+\.\d+)s$")  # retrain's progress lines, and plain.sh's
REPRODUCED = re.compile(r"^\s+((?:ran |restored from run-cache |nothing changed).*)$", re.M)
EXPECTED = "expected.json"  # in a template: the tag a release of it makes
LOG = "output.log"  # where each timed command writes its stdout and stderr (the benchmark's commands redirect them)
FAILED = "check-failed.txt"  # beside the targets: why a check failed (hyperfine does not show --prepare's output)
DVC = str(VENV_BIN / "dvc")


class CheckFailed(Exception):
    pass


def project(home: Path) -> Project:
    return Project(root=home / "work", origin=home / "origin.git", storage=home / "dvc-storage")


def base(tmp: Path) -> Path:
    """The project (this working tree) cloned from its own origin, the gate relaxed so that each new batch is
    released, and release v1 made and pushed on the bundled first batch."""
    home = tmp / "base"
    box = clone_project(make_seed_origin(tmp), home)
    box.dvc("remote", "modify", "--local", "local", "url", "../dvc-storage")  # DVC keeps it relative to .dvc/
    box.git("remote", "set-url", "origin", "../origin.git")
    box.set_param("release", "max_regression", 1.0)
    box.retrain("run", "--push", check=True)
    return home


def template(base_home: Path, rows: int, home: Path) -> Path:
    """A copy of the base with a new batch of `rows` rows added (`dvc add`) and committed: nothing reproduced."""
    shutil.copytree(base_home, home, symlinks=True)
    box = project(home)
    box.add_batch(rows, seed=1)
    artifact, _ = project_artifact(box.root)
    previous = versioning.latest(list(box.tags()), artifact)
    tag = versioning.tag_name(artifact, versioning.next_version(previous.version if previous else None, True, False))
    (home / EXPECTED).write_text(json.dumps({"tag": tag, "rows": rows}))
    return home


def merge_template(template_home: Path, tmp: Path) -> Path:
    """The merge build's starting point: the new batch goes through a pull request (branch `pr`, built by
    `retrain report --reproduce`, which pushes the run-cache), `develop` merges it, and CI clones the merge into
    an empty cache, on the remote the PR build pushed to."""
    pr_home = tmp / "merge-pr"
    shutil.copytree(template_home, pr_home, symlinks=True)
    pr = project(pr_home)
    pr.git("branch", "pr")
    pr.git("reset", "--quiet", "--hard", "HEAD~1")
    pr.git("checkout", "--quiet", "pr")
    pr.retrain("report", "--base", "develop", "--reproduce", check=True)
    pr.git("reset", "--quiet", "--hard")  # the PR build leaves dvc.lock staged (core.autostage); CI discards it
    pr.git("checkout", "--quiet", "develop")
    pr.git("merge", "--quiet", "--no-ff", "pr", "-m", "Merge pull request: new batch")
    home = tmp / "merge-template"
    home.mkdir()
    sh(["git", "clone", "--quiet", "--branch", "develop", pr.root, home / "work"], home)
    shutil.copytree(pr.storage, home / "dvc-storage")
    shutil.copy(template_home / EXPECTED, home / EXPECTED)
    clone = project(home)
    clone.retrain("setup", check=True)
    clone.dvc("remote", "modify", "--local", "local", "url", "../dvc-storage")
    return home


def prepare(kind: str, template_home: Path, target: Path) -> dict | None:
    """Check the previous run in `target`, then replace it with a fresh copy of the template, DVC's hash cache
    refreshed (it is keyed by inode, and a copy has new ones) as `dvc add` had left it for the user."""
    record = check(kind, target) if target.exists() else None
    shutil.rmtree(target, ignore_errors=True)
    if site := os.environ.get("DVC_SITE_CACHE_DIR"):
        shutil.rmtree(site, ignore_errors=True)  # DVC's per-repository state (hash cache, index) goes with the copy
    if kind == "bare":
        target.mkdir(parents=True)
    else:
        shutil.copytree(template_home, target, symlinks=True)
        sh([DVC, "status", "--quiet"], target / "work", check=False)
    return record


def check(kind: str, target: Path) -> dict:
    """What a finished run of `kind` must have done; the record (step timings, what reproduced) goes to
    checks.jsonl beside the target. Raises CheckFailed."""
    log = (target / LOG).read_text() if (target / LOG).exists() else ""
    record: dict = {"kind": kind, "target": target.name, "steps": steps(log)}
    try:
        if kind == "bare":
            accuracy = json.loads((target / "metrics/metrics.json").read_text())["accuracy"]
            _require(accuracy > 0.5, f"accuracy {accuracy}")
            record["accuracy"] = accuracy
        else:
            _check_release(kind, target, log, record)
    except (OSError, KeyError, ValueError) as error:
        raise CheckFailed(f"{kind} in {target}: {error}\n{log[-3000:]}") from None
    except CheckFailed as failed:
        raise CheckFailed(f"{kind} in {target}: {failed}\n{log[-3000:]}") from None
    with open(target.parent / "checks.jsonl", "a") as handle:
        handle.write(json.dumps(record) + "\n")
    return record


def _check_release(kind: str, target: Path, log: str, record: dict) -> None:
    box = project(target)
    expected = json.loads((target / EXPECTED).read_text())["tag"]
    if kind == "plain":
        ran = [stage for stage in STAGES if f"Running stage '{stage}'" in log]
    else:
        summary = box.run_summary()
        record["status"], record["tag"] = summary["status"], summary["tag"]
        _require((summary["status"], summary["tag"]) == ("released", expected), f"run.json says {summary}")
        lines = REPRODUCED.findall(log)
        _require(len(lines) == 1, f"expected one line saying what reproduced, found {lines}")
        record["reproduced"] = lines[0]
        ran = [stage for stage in STAGES if lines[0].startswith("ran ") and stage in lines[0].split(";")[0]]
    record["ran"] = ran
    if kind == "merge":
        _require("train" not in ran, f"train ran in the merge build: {ran}")
    else:
        _require(ran == list(STAGES), f"stages run: {ran}")
    _require(box.tags().get(expected) == box.git("rev-parse", "HEAD"), f"{expected} is not on HEAD")
    if kind in ("plain", "retrain-push"):
        _require(box.origin_tags().get(expected) == box.git("rev-parse", "HEAD"), f"origin lacks {expected} on HEAD")
    _require(box.git("status", "--porcelain", "--untracked-files=no", "dvc.lock") == "", "dvc.lock not committed")
    missing = _missing_from_storage(box)
    _require(not missing, f"not in the DVC remote: {missing[:3]}")


def _missing_from_storage(box: Project) -> list[str]:
    """Every object named by HEAD's dvc.lock and data/raw.dvc (directory members too) that the remote lacks."""

    def stored(md5: str) -> Path:
        return box.storage / "files" / "md5" / md5[:2] / md5[2:]

    missing = []
    for path, md5 in box.lock_objects().items():
        if not stored(md5).is_file():
            missing.append(path)
        elif md5.endswith(".dir"):
            members = json.loads(stored(md5).read_text())
            missing += [f"{path}/{item['relpath']}" for item in members if not stored(item["md5"]).is_file()]
    return missing


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def steps(log: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in log.splitlines():
        if match := STEP_LINE.match(line.strip()):
            found[match.group(1)] = found.get(match.group(1), 0.0) + float(match.group(2))
    return found


if __name__ == "__main__":
    kind, template_arg, target_arg = sys.argv[1:]
    if kind not in KINDS:
        sys.exit(f"unknown kind {kind}; one of {', '.join(KINDS)}")
    try:
        prepare(kind, Path(template_arg), Path(target_arg))
    except CheckFailed as failed:
        Path(target_arg).parent.joinpath(FAILED).write_text(str(failed))
        sys.exit(f"check failed: {failed}")
