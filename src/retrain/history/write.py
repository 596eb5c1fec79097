"""`retrain history --html OUT/`: collect the history, render the page, write OUT/index.html."""

from __future__ import annotations

from pathlib import Path

from retrain.errors import BadInputError

PAGE = "index.html"


def write_page(root: Path, out: Path) -> str:
    """Write the page into `out` (relative to the repository root); return the line saying where."""
    from retrain.history.collect import collect
    from retrain.history.page import render

    history = collect(root)
    folder = out if out.is_absolute() else root / out
    if folder.exists() and not folder.is_dir():
        raise BadInputError(f"{out}: not a folder; `retrain history --html` writes {PAGE} into a folder.")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / PAGE).write_text(render(history), encoding="utf-8")
    return f"wrote {out / PAGE}: {len(history.releases)} release(s), {len(history.stages)} stage(s)"
