"""Raw data: append-only batches in data/raw, each tracked by its own `<batch>.dvc` file beside it.

One .dvc file per batch, and a committed data/raw/.gitignore that already ignores every batch, so adding a batch
edits no shared file: two branches that each add one merge without conflict under any merge (GitHub's merge
button and merge queue ignore merge drivers).
"""

from __future__ import annotations

from pathlib import Path

from retrain import dvcops, gitops
from retrain.layout import RAW_DIR

DVC_SUFFIX = ".dvc"
GITIGNORE = Path(RAW_DIR) / ".gitignore"
GITIGNORE_TEXT = """\
# Raw batches live in DVC, each tracked by its own `<batch>.csv.dvc` beside it. This pattern already ignores
# every batch, so `dvc add` of a new batch edits no shared file: two branches that each add a batch never
# conflict, whatever merges them (GitHub's merge button ignores merge drivers).
/*.csv
"""


def is_batch(path: str) -> bool:
    """A batch file directly in data/raw (as a label or a path relative to the root)."""
    parent, _, name = path.rpartition("/")
    return parent == RAW_DIR and bool(name) and not name.endswith(DVC_SUFFIX)


def dvc_files(root: Path) -> list[str]:
    """The batches' .dvc files in the work tree, relative to the root, sorted."""
    folder = root / RAW_DIR
    found = folder.glob(f"*{DVC_SUFFIX}") if folder.is_dir() else []
    return sorted(str(path.relative_to(root)) for path in found)


def untracked(root: Path) -> list[str]:
    """Files in data/raw that a release would train on but not store: a batch with no .dvc file, or a .dvc file
    git does not track yet."""
    folder = root / RAW_DIR
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")] if folder.is_dir() else []
    no_dvc_file = [p for p in files if p.suffix != DVC_SUFFIX and not p.with_name(p.name + DVC_SUFFIX).exists()]
    found = [str(p.relative_to(root)) for p in no_dvc_file]
    return sorted(found + [name for name in gitops.untracked_files(root, RAW_DIR) if name.endswith(DVC_SUFFIX)])


def in_tree(root: Path) -> dict[str, str]:
    """batch path -> md5, as the work tree's .dvc files record them."""
    return _batches({name: (root / name).read_text() for name in dvc_files(root)})


def at(root: Path, rev: str) -> dict[str, str]:
    """batch path -> md5, as the .dvc files committed at `rev` record them."""
    names = [name for name in gitops.list_tree(root, rev, RAW_DIR) if name.endswith(DVC_SUFFIX)]
    return _batches({name: gitops.show_file(root, rev, name) for name in names})


def _batches(texts: dict[str, str | None]) -> dict[str, str]:
    found = {}
    for name, text in texts.items():
        if oid := dvcops.tracked_hash(text):
            found[name.removesuffix(DVC_SUFFIX)] = oid
    return found
