"""The environment a release was built in, for its lineage: the project's lock file, else what is installed.

A lock file is recorded by the md5 DVC gives it as a stage dependency, so that a release whose stages depend on it
records the same line as before; without one, the installed distributions (name==version) stand for it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

NO_LOCK = "installed distributions"  # what the lineage line names when the project has no lock file


def recorded(root: Path, lock: str | None) -> str:
    """The lineage's `environment:` value: `<lock file> <md5>`, or `installed distributions <sha256>`."""
    if lock is not None:
        return f"{lock} {hashlib.md5((root / lock).read_bytes(), usedforsecurity=False).hexdigest()}"
    return f"{NO_LOCK} {distributions_hash(installed())}"


def installed() -> dict[str, str]:
    """name -> version of every distribution this interpreter imports from (the stages run under it too), names
    normalised as pip compares them."""
    found: dict[str, str] = {}
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if name:  # a broken install can leave metadata without a name
            found.setdefault(re.sub(r"[-_.]+", "-", name).lower(), distribution.version)
    return found


def distributions_hash(distributions: Mapping[str, str]) -> str:
    """sha256 of the `name==version` lines, sorted: the same set gives the same hash in any order."""
    lines = sorted(f"{name}=={version}" for name, version in distributions.items())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
