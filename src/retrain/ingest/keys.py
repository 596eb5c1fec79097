"""A delivery's key is data, never a path: which keys are refused, and the names the engine uses instead.

Pure functions (no file system, no S3). A key the rule refuses is never joined to a folder or a prefix: its
quarantine copy is named by the SHA-256 of the key (`rejected/unsafe/<sha256>`), and every scratch file by the
engine, whatever the key.
"""

from __future__ import annotations

import hashlib
import re
from enum import Enum

from retrain.untrusted import is_hidden

S3_KEY_MAX_BYTES = 1024  # the longest key S3 stores
UNSAFE = "unsafe"  # the rejected/ subfolder (or prefix) of refused keys
_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,10}")


class KeyFault(Enum):
    """Why a key is refused; the value completes `unsafe key: ...`."""

    EMPTY = "it is empty"
    LEADING_SLASH = "it starts with `/` (an absolute path)"
    EMPTY_SEGMENT = "it has an empty segment (`//`)"
    DOT_SEGMENT = "it has a `.` or `..` segment (a path out of the landing)"
    BACKSLASH = "it holds a backslash (a path separator on Windows)"
    HIDDEN_CHARACTER = "it holds a control or invisible character (newline, NUL, DEL, a line separator...)"
    TOO_LONG = f"it is longer than the {S3_KEY_MAX_BYTES} UTF-8 bytes S3 allows"


def fault(relative_key: str, full_key: str | None = None) -> KeyFault | None:
    """Why a key (relative to the landing: after its prefix, or under its folder) is refused, or None when it is a
    plain name. `full_key`, the key with its prefix, is what the length counts (default: the relative key)."""
    if not relative_key:
        return KeyFault.EMPTY
    if any(is_hidden(char) for char in relative_key):
        return KeyFault.HIDDEN_CHARACTER
    if relative_key.startswith("/"):
        return KeyFault.LEADING_SLASH
    if "\\" in relative_key:
        return KeyFault.BACKSLASH
    segments = relative_key.split("/")
    if any(segment in (".", "..") for segment in segments):
        return KeyFault.DOT_SEGMENT
    if "" in segments:
        return KeyFault.EMPTY_SEGMENT
    if len((full_key or relative_key).encode("utf-8", "surrogatepass")) > S3_KEY_MAX_BYTES:
        return KeyFault.TOO_LONG
    return None


def refusal(shown_key: str, found: KeyFault) -> str:
    """The reason a refused key gets (its line, its reason file): what is wrong and what to do."""
    return (
        f"{shown_key}: unsafe key: {found.value}; a key is a name, not a path. Deliver the file again under a plain "
        f"name (segments of letters, digits, `-_.`, none empty, `.` or `..`)."
    )


def digest(key: str) -> str:
    """The SHA-256 of the key's bytes (a file name that is not UTF-8 hashes as the bytes it has)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def unsafe_name(key: str) -> str:
    """Where a refused key's quarantine copy goes, relative to rejected/: never anything of the key itself."""
    return f"{UNSAFE}/{digest(key)}"


def scratch_name(key: str) -> str:
    """The scratch file a delivery is downloaded to: a hash of the key, keeping its suffix only when that is a
    plain one (`.csv`): the validator refuses a file by its suffix, and names the scratch file in its verdict."""
    last = key.rsplit("/", 1)[-1]
    dot = last.rfind(".")
    suffix = last[dot:] if dot > 0 else ""
    return digest(key)[:32] + (suffix if _SAFE_SUFFIX.fullmatch(suffix) else "")


def is_plain_file_name(name: str) -> bool:
    """One file name, nothing a path could make of it: what a batch name must be."""
    return bool(name) and fault(name) is None and "/" not in name and not name.startswith(".")
