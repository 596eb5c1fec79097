"""Plot data the way DVC reads it: every format `dvc plots` takes (JSON, YAML, CSV, TSV), parsed by DVC's own plot
parser, and the rows of a JSON or YAML file found where DVC's renderer finds them (the first list in the file, as
dvclive writes `{"roc": [...]}` or a bare list). The report draws from these rows and reads no file itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from retrain.errors import BadInputError


def rows(path: Path) -> list[dict[str, Any]]:
    """The data points of a plot file, each a mapping of column to value; a file DVC cannot parse is one line."""
    from dvc.fs import LocalFileSystem
    from dvc.repo.plots import parse

    parsed = parse(LocalFileSystem(), str(path))
    if "error" in parsed:
        raise BadInputError(f"{path.name}: DVC cannot read it as plot data ({type(parsed['error']).__name__}).")
    found = _first_list(parsed.get("data"))
    return [row for row in found if isinstance(row, dict)]


def _first_list(blob: Any) -> list[Any]:
    """The first list in a parsed file, depth first, as DVC's Vega converter looks for its data points."""
    if isinstance(blob, list):
        return blob
    if isinstance(blob, dict):
        for value in blob.values():
            if isinstance(value, list | dict) and (found := _first_list(value)):
                return found
    return []
