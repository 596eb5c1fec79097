"""Raw data at a revision, read from git the way a release reads it (real git, a scratch repository)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from retrain.rawdata import Raw


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def _dvc_file(name: str, md5: str) -> str:
    return f"outs:\n- md5: {md5}\n  size: 1\n  hash: md5\n  path: {name}\n"


def test_batches_at_a_revision_match_the_work_tree_and_ignore_what_is_not_a_dvc_file(tmp_path: Path) -> None:
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    _git(tmp_path, "init", "--quiet")
    wanted = {
        f"data/raw/batch-{n:04d}.csv": hashlib.md5(bytes([n]), usedforsecurity=False).hexdigest() for n in range(5)
    }
    for path, md5 in wanted.items():
        name = Path(path).name
        (raw / f"{name}.dvc").write_text(_dvc_file(name, md5))
    (raw / ".gitignore").write_text("/*.csv\n")
    (raw / "sub").mkdir()
    (raw / "sub" / "nested.csv.dvc").write_text(_dvc_file("nested.csv", "f" * 32))  # not a batch of the folder
    _git(tmp_path, "add", "--all")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "--quiet", "-m", "batches")
    (raw / "batch-0000.csv.dvc").unlink()  # the work tree moves on; the revision does not

    assert Raw("data/raw").at(tmp_path, "HEAD") == wanted
    assert Raw("data/raw").in_tree(tmp_path) == {k: v for k, v in wanted.items() if not k.endswith("0000.csv")}
    assert Raw("data/raw").at(tmp_path, "HEAD~0") == wanted
