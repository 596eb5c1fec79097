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


# One package of a lock: its `name==version` line with its hash lines, up to the next package or the end.
STANZA = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==.*?(?=^\S|\Z)", re.M | re.S)


def stanzas(lock: Path) -> dict[str, str]:
    """package -> its text in the lock (every marker fork of it), each ready to be written into a smaller lock."""
    found: dict[str, str] = {}
    for match in STANZA.finditer(lock.read_text()):
        name = match.group(1).lower()
        found[name] = found.get(name, "") + match.group(0)
    return found
