"""`retrain migrate-data`: from one `<raw>.dvc` for the whole batch folder (release.raw_data) to one `.dvc` file per
batch, in one commit.

The objects are the same (a directory's members are stored as plain files), so nothing is uploaded.
"""

from __future__ import annotations

from pathlib import Path

from retrain import dvcfiles, gitops, project, rawdata
from retrain.dvcops import Pipeline
from retrain.errors import BadInputError
from retrain.rawdata import DVC_SUFFIX


def migrate(root: Path, remote: str | None) -> str:
    found = project.load(root)
    said = _migrate(root, remote, found.raw)
    if found.config.partition_by == "none":
        return said
    # Partitions are the release's to write (retrain.compaction): a migration only says when they come.
    return (
        f"{said}. release.partition_by: {found.config.partition_by}: the next release that brings new batches "
        f"compacts the ones the latest release holds into {found.raw.path}/YYYY-MM/"
    )


def _migrate(root: Path, remote: str | None, raw: rawdata.Raw) -> str:
    old_name = f"{raw.path}{DVC_SUFFIX}"
    old = root / old_name
    if not old.exists():
        return f"nothing to migrate: {raw.path} already has one .dvc file per batch ({len(raw.dvc_files(root))})"
    if dirty := gitops.dirty_tracked_files(root):
        raise BadInputError(f"uncommitted changes to {', '.join(dirty[:5])}: commit or stash them before migrating.")
    with Pipeline(root, remote) as pipeline:
        if pipeline.workspace_hash(raw.path) != dvcfiles.tracked_hash(old.read_text()):
            pipeline.pull([old_name])  # every batch must be here to be added one by one
        folder = root / raw.path
        if not folder.is_dir():
            raise BadInputError(f"{old_name} tracks a file, not a folder of batches: there is nothing to migrate.")
        pipeline.untrack(old_name)  # the .dvc file and its .gitignore entry; the data stays
        (folder / rawdata.GITIGNORE_NAME).write_text(rawdata.GITIGNORE_TEXT)
        batches = sorted(path for path in folder.iterdir() if path.is_file() and not path.name.startswith("."))
        pipeline.track([str(path) for path in batches])
    message = f"data: one .dvc file per batch ({len(batches)} batches; retrain migrate-data)"
    made = gitops.commit_folder(root, str(Path(raw.path).parent), message)
    return f"migrated {len(batches)} batch(es) to one .dvc file each in {made[:8]}; push it like any commit"
