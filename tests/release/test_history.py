"""History-proof: a run's cost in processes does not grow with the number of batches the repository holds.

Counted, not assumed: a `sitecustomize` on the engine's PYTHONPATH installs an audit hook that records every
process the `retrain` process starts (subprocess, spawn, exec, fork, system), with its command line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import Project, add_small_batches

pytestmark = pytest.mark.slow

AUDIT_HOOK = """
import json, os, sys

_out = os.environ.get("PROCESS_LOG")
_EVENTS = {"subprocess.Popen", "os.posix_spawn", "os.spawn", "os.exec", "os.fork", "os.forkpty", "os.system"}

def _record(event, args):
    if _out and event in _EVENTS:
        command = args[1] if event == "subprocess.Popen" else args[:2] if args else ()
        with open(_out, "a") as log:
            log.write(json.dumps([event, [os.fsdecode(a) if isinstance(a, (str, bytes)) else str(a)
                                          for a in (command if isinstance(command, (list, tuple)) else [command])]])
                      + "\\n")

sys.addaudithook(_record)

if _out:  # and every time DVC builds its index of the repository (it parses every .dvc file each time)
    import dvc.repo.index as _index

    _from_repo = _index.Index.from_repo.__func__

    def _counted(cls, repo, *args, **kwargs):
        with open(_out, "a") as log:
            log.write(json.dumps(["dvc.index", []]) + "\\n")
        return _from_repo(cls, repo, *args, **kwargs)

    _index.Index.from_repo = classmethod(_counted)
"""


def events_of_a_no_op(project: Project, tmp_path: Path, name: str) -> list[list]:
    hook_dir = tmp_path / f"hook-{name}"
    hook_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(AUDIT_HOOK)
    log = tmp_path / f"processes-{name}.jsonl"
    env = {**project.env, "PYTHONPATH": str(hook_dir), "PROCESS_LOG": str(log)}
    saved, project.env = project.env, env
    try:
        result = project.retrain("run")
    finally:
        project.env = saved
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("up to date: model@"), result.stdout
    # `dvc push --run-cache` would upload every local run-cache entry again: one per stage run this clone made
    assert "0 file(s) uploaded" in result.stderr, result.stderr
    return [json.loads(line) for line in log.read_text().splitlines()]


def processes(events: list[list]) -> list[list[str]]:
    return [command for event, command in events if event != "dvc.index"]


def index_builds(events: list[list]) -> int:
    return sum(event == "dvc.index" for event, _ in events)


def test_a_no_op_run_starts_as_many_processes_with_200_batches_as_with_10(released: Project, tmp_path: Path) -> None:
    project = released  # the seed batch, released
    add_small_batches(project, 1, 9)
    project.retrain("run", check=True)
    events_10 = events_of_a_no_op(project, tmp_path, "10")
    add_small_batches(project, 10, 190)
    project.retrain("run", check=True)
    assert len(list((project.root / "data/raw").glob("*.dvc"))) == 200
    events_200 = events_of_a_no_op(project, tmp_path, "200")
    at_10, at_200 = processes(events_10), processes(events_200)

    assert at_10, "the audit hook recorded nothing: it cannot have counted"
    assert any(command[:1] == ["git"] for command in at_10), at_10
    assert len(at_200) <= len(at_10), "\n".join(map(" ".join, at_200))
    # DVC's index (a parse of every .dvc file) is built once: the run holds DVC's lock, so `dvc repro` and
    # `dvc push` in the engine's process keep it rather than rebuilding it (a no-op changes no DVC file).
    assert index_builds(events_10) == index_builds(events_200) == 1, (index_builds(events_10), index_builds(events_200))


def stored(project: Project, dvc_file: str) -> Path:
    """Where the local remote keeps the file a .dvc file tracks (DVC 3's layout: files/md5/ab/cdef...)."""
    md5 = next(line.split()[-1] for line in (project.root / dvc_file).read_text().splitlines() if "md5:" in line)
    return project.storage / "files" / "md5" / md5[:2] / md5[2:]


def test_a_release_uploads_its_new_batch_and_still_checks_every_released_one(released: Project) -> None:
    """The push leaves batches an earlier release pushed to the verify step, which checks every object: a batch the
    remote lost since is uploaded again, and the new one is pushed."""
    project = released
    add_small_batches(project, 1, 3)
    project.retrain("run", check=True)
    lost = stored(project, "data/raw/batch-00001-history.csv.dvc")
    assert lost.is_file(), "the release did not push the batch"
    lost.unlink()

    add_small_batches(project, 4, 1)
    result = project.retrain("run")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("released model@"), result.stdout
    assert stored(project, "data/raw/batch-00004-history.csv.dvc").is_file(), "the new batch was not pushed"
    assert lost.is_file(), "the batch the remote lost was not uploaded again"
    assert "re-uploaded 1 object(s) the remote had lost" in result.stderr, result.stderr
