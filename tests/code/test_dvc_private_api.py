"""The private DVC functions the engine calls (retrain.runcache.forget_unused), pinned: an upgrade of DVC that
renames them or changes what they mean fails here, not in a release."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from dvc.repo import Repo

    monkeypatch.chdir(tmp_path)  # as the engine runs: from the repository's root
    subprocess.run(["git", "init", "--quiet"], cwd=tmp_path, check=True)
    (tmp_path / "input.txt").write_text("one\n")
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n  copy:\n    cmd: cp input.txt output.txt\n    deps: [input.txt]\n    outs: [output.txt]\n"
    )
    Repo.init(str(tmp_path))
    with Repo(str(tmp_path)) as opened:
        yield opened


def test_get_stage_hash_names_the_run_cache_entry_that_reproduce_writes(repo) -> None:
    from dvc.stage.cache import _can_hash, _get_stage_hash

    repo.reproduce()
    repo._reset()
    (stage,) = repo.index.stages
    assert _can_hash(stage)
    key = _get_stage_hash(stage)
    entries = [path.name for path in Path(repo.stage_cache.cache_dir).glob("*/*") if path.is_dir()]
    assert entries == [key]
    assert (Path(repo.stage_cache.cache_dir) / key[:2] / key).is_dir()


def test_reset_drops_the_memoised_index(repo) -> None:
    before = [stage.addressing for stage in repo.index.stages]
    dvc_yaml = Path(repo.root_dir) / "dvc.yaml"
    dvc_yaml.write_text(dvc_yaml.read_text() + "  echo:\n    cmd: echo hi\n")

    assert [stage.addressing for stage in repo.index.stages] == before, "the index is memoised"
    repo._reset()
    assert sorted(stage.addressing for stage in repo.index.stages) == sorted([*before, "echo"])
