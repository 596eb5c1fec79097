"""Reading the hash-locked requirements*.lock files, for the lock and distribution tests."""

from __future__ import annotations

import re
from pathlib import Path

# `name==version [; marker] \` and its `--hash=sha256:...` lines.
PIN = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)(?: ;[^\\\n]*)? \\\n((?:    --hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", re.M
)


def entries(lock: Path) -> dict[str, list[tuple[str, list[str]]]]:
    """package -> [(version, hashes)], one item per marker fork."""
    found: dict[str, list[tuple[str, list[str]]]] = {}
    for name, version, hashes in PIN.findall(lock.read_text()):
        found.setdefault(name.lower(), []).append((version, re.findall(r"[0-9a-f]{64}", hashes)))
    return found
