"""`retrain migrate-data`: from one `data/raw.dvc` for the whole folder to one `.dvc` file per batch, in one commit.

The objects are the same (a directory's members are stored as plain files), so nothing is uploaded.
"""

from __future__ import annotations

from pathlib import Path

from retrain import dvcops, gitops, rawdata
from retrain.dvcops import Pipeline
from retrain.errors import BadInputError
from retrain.layout import RAW_DIR

OLD_DVC_FILE = f"{RAW_DIR}.dvc"


def migrate(root: Path, remote: str | None) -> str:
    old = root / OLD_DVC_FILE
    if not old.exists():
        return f"nothing to migrate: {RAW_DIR} already has one .dvc file per batch ({len(rawdata.dvc_files(root))})"
    if dirty := gitops.dirty_tracked_files(root):
        raise BadInputError(f"uncommitted changes to {', '.join(dirty[:5])}: commit or stash them before migrating.")
    pipeline = Pipeline(root, remote)
    if pipeline.workspace_hash(RAW_DIR) != dvcops.tracked_hash(old.read_text()):
        pipeline.pull([OLD_DVC_FILE])  # every batch must be here to be added one by one
    pipeline.repo.remove(OLD_DVC_FILE)  # the .dvc file and its .gitignore entry; the data stays
    (root / rawdata.GITIGNORE).write_text(rawdata.GITIGNORE_TEXT)
    batches = sorted(path for path in (root / RAW_DIR).iterdir() if path.is_file() and not path.name.startswith("."))
    pipeline.repo.add([str(path) for path in batches])
    message = f"data: one .dvc file per batch ({len(batches)} batches; retrain migrate-data)"
    made = gitops.commit_folder(root, str(Path(RAW_DIR).parent), message)
    return f"migrated {len(batches)} batch(es) to one .dvc file each in {made[:8]}; push it like any commit"
