"""DVC's file formats, read from their text (a revision's, or the work tree's): dvc.yaml, dvc.lock and the .dvc
files of raw batches. Pure functions, no DVC repository opened: the engine reads these files here and nowhere else.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Final

import yaml

from retrain.errors import BadInputError

INGEST_META = "ingest"  # the key under a batch's .dvc file `meta:` that holds its ingest record


# libyaml's parser where PyYAML has it: a run may read every batch's .dvc file, thousands of them.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _safe_load(text: str) -> Any:
    return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)


@functools.lru_cache(maxsize=64)
def _read_only(text: str) -> Any:
    """The parse of a text that several checks of one run read and none changes: a partition's .dvc file lists
    every batch it holds, thousands of lines that one run would otherwise parse once per reader."""
    return _safe_load(text)


def tracked_hash(dvc_file: str | None) -> str | None:
    """The md5 a .dvc file's text records for its (single) output; None for no file. Read as batch_record reads it:
    line by line in the layout `dvc add` writes, by the YAML parser otherwise."""
    if not dvc_file:
        return None
    return batch_record(dvc_file)[0]


def batch_dvc_file(name: str, md5: str, size: int, meta: dict[str, Any]) -> str:
    """The .dvc file `dvc add` writes for one file beside it (same keys, same order), with `meta:` (which DVC
    keeps as it is)."""
    entry = {"md5": md5, "size": size, "hash": "md5", "path": name}
    # One line per value (no wrapping): what batch_record reads without a YAML parser.
    return yaml.safe_dump({"outs": [entry], "meta": meta}, sort_keys=False, allow_unicode=True, width=10_000)


def dvc_file_meta(dvc_file: str) -> tuple[str | None, dict[str, Any]]:
    """(md5 of the single output, `meta:` mapping) of a .dvc file's text; ({} when it has no meta). Read only: the
    parse is shared with every other reader of the same text."""
    document = _read_only(dvc_file) or {}
    outs = document.get("outs") or [{}]
    meta = document.get("meta")
    return outs[0].get("md5"), meta if isinstance(meta, dict) else {}


_PLAIN_UNSAFE = tuple('"|>&*!%@`{[')  # a value starting so needs a YAML parser (quoted, block, anchor, flow...)
_INGEST_FIELD = re.compile(r"^    ([a-z_]+): (.*)$")
_OUT_MD5 = re.compile(r"^(?:- |  )md5: ([0-9a-f]{32}(?:\.dir)?)\s*$")


def batch_record(dvc_file: str) -> tuple[str | None, dict[str, Any] | None]:
    """(md5 of the single output, the `meta: ingest:` mapping or None) of a .dvc file's text.

    A run reads every batch's .dvc file, thousands of them: the layout this module writes (and DVC keeps) is read
    line by line, and anything else (quoted or wrapped values, another layout) by the YAML parser."""
    fast = _batch_record_by_lines(dvc_file)
    if fast is not None:
        return fast
    md5, meta = dvc_file_meta(dvc_file)
    ingest = meta.get(INGEST_META)
    return md5, ingest if isinstance(ingest, dict) else None


def _batch_record_by_lines(text: str) -> tuple[str | None, dict[str, Any] | None] | None:
    md5: str | None = None
    ingest: dict[str, Any] | None = None
    section = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line.startswith((" ", "-")):  # a top-level key
            section = line.rstrip()
            if section not in ("outs:", "meta:"):
                return None
            continue
        if section == "outs:":
            if md5 is None and (found := _OUT_MD5.match(line)):
                md5 = found.group(1)
        elif section == "meta:":
            if line.rstrip() == f"  {INGEST_META}:":
                ingest, section = {}, "ingest"
            else:
                return None
        elif section == "ingest":
            found = _INGEST_FIELD.match(line)
            if not found:
                return None
            value = _plain(found.group(2).rstrip())
            if value is _UNSAFE:
                return None
            assert ingest is not None  # the "ingest" section starts with it
            ingest[found.group(1)] = value
    return md5, ingest


class _Sentinel(Enum):
    UNSAFE = "unsafe"


_UNSAFE: Final = _Sentinel.UNSAFE  # what _plain says of a value that needs a YAML parser


def _plain(value: str) -> str | _Sentinel | None:
    """A YAML scalar as written by safe_dump on one line: plain, null, or single-quoted; else _UNSAFE."""
    if value in ("null", "~", ""):
        return None
    if value.startswith("'"):
        if len(value) < 2 or not value.endswith("'") or "'" in value[1:-1].replace("''", ""):
            return _UNSAFE
        return value[1:-1].replace("''", "'")
    if value.startswith(_PLAIN_UNSAFE) or " #" in value:
        return _UNSAFE
    return value


PARTITION_META = "partition"  # the key under a partition's .dvc file `meta:` that lists its batches


def partition_members(dvc_file: str) -> dict[str, tuple[str, dict[str, Any] | None]]:
    """file name -> (md5, ingest record or None) of every batch a partition's .dvc file lists under
    `meta: partition:` (what the release that compacted them recorded; DVC's own `.dir` manifest says the same).

    The listing is one block of text, a JSON array per batch (`["<md5>", "<name>"]`, the ingest record third): DVC
    parses every .dvc file with a pure-Python YAML parser each time it builds its index, and one block is one
    scalar to it, where a mapping per batch costs it hundreds of milliseconds per thousand batches. A mapping
    (`name: {md5: ..., ingest: ...}`) is read too."""
    _, meta = dvc_file_meta(dvc_file)
    listed = meta.get(PARTITION_META)
    entries = _listing_lines(listed) if isinstance(listed, str) else listed.items() if isinstance(listed, dict) else ()
    found: dict[str, tuple[str, dict[str, Any] | None]] = {}
    for name, entry in entries:
        if not _plain_file_name(name):
            continue  # a path, not a name in the partition's folder: never followed
        if isinstance(entry, dict) and isinstance(entry.get("md5"), str):
            ingest = entry.get(INGEST_META)
            found[str(name)] = (entry["md5"], ingest if isinstance(ingest, dict) else None)
    return found


def _listing_lines(listing: str) -> Iterator[tuple[object, object]]:
    """(name, {md5, ingest}) of each line of a block listing; a line that is no such array is skipped."""
    for line in listing.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, list) and len(entry) in (2, 3):
            yield entry[1], {"md5": entry[0], **({INGEST_META: entry[2]} if len(entry) == 3 else {})}


class _Listing(str):
    """Written as a literal block (`|`): one line per batch."""


class _ListingDumper(yaml.SafeDumper):
    pass


_ListingDumper.add_representer(
    _Listing, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", str(text), style="|")
)


def _plain_file_name(name: object) -> bool:
    return isinstance(name, str) and name not in ("", ".", "..") and not any(c in name for c in "/\\\0\n\r")


def with_partition_meta(dvc_file: str, members: dict[str, tuple[str, dict[str, Any] | None]]) -> str:
    """The .dvc file `dvc add` wrote for a partition folder, with `meta: partition:` listing its batches."""
    document = _safe_load(dvc_file) or {}
    lines = (
        json.dumps([md5, name, *([ingest] if ingest else [])], sort_keys=True, default=str)
        for name, (md5, ingest) in sorted(members.items())
    )
    document["meta"] = {
        **(document.get("meta") or {}),
        PARTITION_META: _Listing("".join(f"{line}\n" for line in lines)),
    }
    return yaml.dump(document, Dumper=_ListingDumper, sort_keys=False, allow_unicode=True, width=10_000)


def lock_outputs(lock: str | None) -> dict[str, str]:
    """path -> md5 of every stage output that a dvc.lock text records."""
    stages = (_safe_load(lock or "") or {}).get("stages") or {}
    return {out["path"]: out["md5"] for stage in stages.values() for out in stage.get("outs", []) if "md5" in out}


def lock_deps(lock: str | None) -> dict[str, str]:
    """path -> md5 of every stage dependency a dvc.lock text records (DVC's own hash of a folder)."""
    stages = (_safe_load(lock or "") or {}).get("stages") or {}
    found: dict[str, str] = {}
    for stage in stages.values():
        for dep in stage.get("deps", []):
            found.setdefault(dep["path"], dep.get("md5", ""))
    return found


def lock_dep_hash(lock: str | None, path: str) -> str | None:
    return lock_deps(lock).get(path)


def _dvc_yaml(text: str | None) -> dict[str, Any]:
    """A dvc.yaml text as a mapping, or one line naming the file and the fix."""
    try:
        document = _safe_load(text or "") or {}
    except yaml.YAMLError as error:
        reason = str(error).splitlines()[0]
        raise BadInputError(
            f"dvc.yaml: not valid YAML ({reason}); fix it or `git checkout HEAD -- dvc.yaml`."
        ) from None
    if not isinstance(document, dict):
        raise BadInputError("dvc.yaml: expected a mapping with `stages:`; fix it or `git checkout HEAD -- dvc.yaml`.")
    return document


def _stages(dvc_yaml: str | None) -> list[dict[str, Any]]:
    stages = _dvc_yaml(dvc_yaml).get("stages") or {}
    return [stage for stage in stages.values() if isinstance(stage, dict)] if isinstance(stages, dict) else []


@dataclass(frozen=True)
class Declared:
    """A stage output as dvc.yaml declares it."""

    path: str
    kind: str  # outs, metrics or plots
    cached: bool  # False: `cache: false`, kept in git


def declared_outputs(dvc_yaml: str | None) -> list[Declared]:
    """Every stage output a dvc.yaml text declares (`outs:`, `metrics:`, `plots:`), in order."""
    found = []
    for stage in _stages(dvc_yaml):
        for kind in ("outs", "metrics", "plots"):
            for entry in stage.get(kind) or []:
                path, options = next(iter(entry.items())) if isinstance(entry, dict) else (entry, None)
                found.append(Declared(str(path), kind, (options or {}).get("cache", True) is not False))
    return found


def committed_outputs(declared: list[Declared]) -> tuple[str, ...]:
    """The `cache: false` outputs git should track, each once: not those inside a cached output (a folder DVC
    caches whole holds them in its cache, and writes a .gitignore rule for it)."""
    cached = [out.path.rstrip("/") for out in declared if out.cached]
    return tuple(
        dict.fromkeys(
            out.path
            for out in declared
            if not out.cached and not any(out.path.startswith(f"{folder}/") for folder in cached)
        )
    )


def top_level_metrics(dvc_yaml: str | None) -> list[str]:
    """The files a dvc.yaml text lists under its top-level `metrics:` (DVC reads them wherever they live: a stage
    output cached or not, a file inside a cached folder)."""
    listed = _dvc_yaml(dvc_yaml).get("metrics") or []
    return [str(path).rstrip("/") for path in listed if isinstance(path, str)] if isinstance(listed, list) else []


def metrics_files(dvc_yaml: str | None, declared: list[Declared]) -> list[str]:
    """Every metrics file DVC knows of, each once: the stages' `metrics:` (cached or not), then the top-level ones."""
    stage_metrics = [out.path for out in declared if out.kind == "metrics"]
    return list(dict.fromkeys([*stage_metrics, *top_level_metrics(dvc_yaml)]))


def inside_output(path: str, declared: list[Declared]) -> bool:
    """`path` is a stage output or a file inside one (a folder output such as dvclive's `eval/`)."""
    return any(path == out.path.rstrip("/") or path.startswith(f"{out.path.rstrip('/')}/") for out in declared)


def stage_deps(dvc_yaml: str | None) -> list[str]:
    """Every file or folder the stages of a dvc.yaml text depend on (`deps:`), each once."""
    return sorted(
        {dep.rstrip("/") for stage in _stages(dvc_yaml) for dep in stage.get("deps") or [] if isinstance(dep, str)}
    )


def artifacts(dvc_yaml: str | None) -> dict[str, dict[str, Any]]:
    """name -> declaration of the `artifacts:` of a dvc.yaml text."""
    declared = _dvc_yaml(dvc_yaml).get("artifacts") or {}
    if not isinstance(declared, dict):
        return {}
    return {str(name): spec if isinstance(spec, dict) else {} for name, spec in declared.items()}


@dataclass(frozen=True)
class PlotSpec:
    """A top-level plot of dvc.yaml with data files: its id, template, x column and y column of each file."""

    name: str
    template: str
    x: str
    y: dict[str, str]  # data file -> its y column


def plot_specs(dvc_yaml: str | None) -> list[PlotSpec]:
    """The top-level `plots:` of a dvc.yaml text that name an x column and a y column per file (DVC's x/y mapping;
    an image or a bare file path is shown by DVC as it is, and drawn by the report only if it is a confusion plot)."""
    found: list[PlotSpec] = []
    listed = _dvc_yaml(dvc_yaml).get("plots") or []
    for entry in listed if isinstance(listed, list) else []:
        for name, spec in entry.items() if isinstance(entry, dict) else []:
            if not isinstance(spec, dict) or not isinstance(spec.get("x"), str) or not isinstance(spec.get("y"), dict):
                continue
            columns = {str(path): column for path, column in spec["y"].items() if isinstance(column, str)}
            if columns:
                found.append(PlotSpec(str(name), str(spec.get("template") or "linear"), spec["x"], columns))
    return found


def confusion_plots(dvc_yaml: str | None) -> list[tuple[str, str, str]]:
    """(data file, actual column, predicted column) of each file of the top-level plots with `template: confusion`."""
    return [
        (path, actual, spec.x)
        for spec in plot_specs(dvc_yaml)
        if spec.template == "confusion"
        for path, actual in spec.y.items()
    ]


def stage_inputs(dvc_yaml: str | None) -> list[str]:
    """What a dvc.yaml text says its stages read from the repository: every stage's deps and params files."""
    stages = (_safe_load(dvc_yaml or "") or {}).get("stages") or {}
    found: set[str] = set()
    for stage in stages.values():
        if not isinstance(stage, dict):
            continue
        found.update(dep for dep in stage.get("deps") or [] if isinstance(dep, str))
        for param in stage.get("params") or []:
            # a key of the default params.yaml, or {file: [keys]}
            found.update(param) if isinstance(param, dict) else found.add("params.yaml")
    return sorted(path.rstrip("/") for path in found)


def check_parses(root: Path, names: list[str]) -> None:
    """Each DVC file in `names` that exists is a YAML mapping, or a one-line error says how to restore it."""
    for name in names:
        path = root / name
        if not path.exists():
            continue
        try:
            content = _read_only(path.read_text())
        except yaml.YAMLError as error:
            reason = str(error).splitlines()[0]
            raise BadInputError(
                f"{name}: corrupted ({reason}); restore it with `git checkout HEAD -- {name}` (dvc.lock is "
                "regenerated by the run)."
            ) from None
        if not isinstance(content, dict):
            raise BadInputError(f"{name}: corrupted (not a mapping); restore it with `git checkout HEAD -- {name}`.")
