"""Issue 23, stop 4: the commit step commits what git should track and nothing else. dvc.lock and the `cache: false`
outputs outside every cached output are the project's; a file inside a cached output lives in the DVC cache.
No git, no DVC: dvc.yaml texts and a temporary folder."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from retrain import dvcfiles, gitops, project
from retrain.errors import IgnoredFileError
from tests.byop import DATA, TEMPLATE

EVAL_INSIDE_CACHED = """
stages:
  evaluate:
    cmd: python evaluate.py
    outs:
      - eval
  report:
    cmd: python report.py
    metrics:
      - eval/metrics.json:
          cache: false
      - summary.json:
          cache: false
    plots:
      - evaluation/plot.json:
          cache: false
"""


def test_a_cache_false_output_inside_a_cached_output_is_not_committed() -> None:
    declared = dvcfiles.declared_outputs(EVAL_INSIDE_CACHED)
    # `evaluation/` shares a prefix with `eval` but is not inside it
    assert dvcfiles.committed_outputs(declared) == ("summary.json", "evaluation/plot.json")


def test_the_project_owns_only_what_git_should_track(tmp_path: Path) -> None:
    root = tmp_path / "byop"
    shutil.copytree(TEMPLATE, root)
    (root / f"{DATA}.dvc").write_text("outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: diabetes.csv\n")
    document = yaml.safe_load((root / "dvc.yaml").read_text())
    document["stages"]["fit"]["outs"].append("metrics")  # the whole folder cached: scores.json is in the cache
    (root / "dvc.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    assert project.load(root).engine_owned == ("dvc.lock",)


def test_the_rule_that_ignores_a_file_is_named_and_tracked_or_reincluded_files_are_not(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("# DVC\n/eval\n*.json\n!keep.json\n")
    for name in ("dvc.lock", "tracked.json", "keep.json"):
        (tmp_path / name).write_text("{}\n")
    subprocess.run(["git", "add", "--force", "tracked.json"], cwd=tmp_path, check=True)
    assert gitops.ignore_rule(tmp_path, ["dvc.lock", "tracked.json", "keep.json"]) is None
    found = gitops.ignore_rule(tmp_path, ["dvc.lock", "eval/metrics.json"])
    assert found == ("eval/metrics.json", ".gitignore:2 `/eval`")
    error = IgnoredFileError(*gitops.ignore_rule(tmp_path, ["scores.json"]) or ("", ""))
    assert str(error).startswith("scores.json: a release commits it, but git ignores it by .gitignore:3 `*.json`")
    assert error.exit_code == 2 and "\n" not in str(error)
