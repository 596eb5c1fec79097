"""The setup-python stand-in's Python: the real interpreter, plus a warm "pip cache" without the network.

    python warm_venv.py shims BINDIR REAL_PYTHON SHARED_SITE_PACKAGES
        writes BINDIR/python, python3 and python3.X: wrappers that run REAL_PYTHON, except that
        `python -m venv DIR` also gives the new venv the packages of SHARED_SITE_PACKAGES
    python warm_venv.py venv VENV_DIR SHARED_SITE_PACKAGES
        does that to an existing venv (called by the wrappers)

A venv made this way sees the test venv's packages (pip included: it is made --without-pip)
through a .pth file placed after its own site-packages (its own installs win, e.g.
`pip install -e .`), and gets their console scripts in its bin/ as pip would have written them.
The build backend for `pip install -e .` (a setuptools wheel from $PIP_FIND_LINKS) is unpacked
into it, for builds without isolation. So `make install` runs for real (venv, `pip install -r`,
`pip install -e .`, `retrain setup`) while pip finds every pinned requirement already satisfied:
the same end state as installing from a warm pip cache, in seconds instead of minutes, offline.
Editable installs of the shared venv (the developer's own project) are not carried over.
"""

from __future__ import annotations

import json
import os
import sys
import sysconfig
import zipfile
from importlib import metadata
from pathlib import Path

SCRIPT = """#!{python}
# -*- coding: utf-8 -*-
import re
import sys
from {module} import {head}
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit({call}())
"""

SHIM = """#!/usr/bin/env bash
# python of the setup-python stand-in (tests/ci/actions/setup-python/warm_venv.py)
if [ "${{1:-}}" = "-m" ] && [ "${{2:-}}" = "venv" ]; then
  "{real}" -m venv --without-pip "${{@:3}}" || exit
  exec "{real}" "{helper}" venv "${{@: -1}}" "{shared}"
fi
exec "{real}" "$@"
"""


def is_editable(dist: metadata.Distribution) -> bool:
    text = dist.read_text("direct_url.json")
    return bool(text) and bool(json.loads(text).get("dir_info", {}).get("editable"))


def warm(venv: Path, shared: Path) -> int:
    python = venv / "bin" / "python"
    paths = sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})
    site = Path(paths["purelib"])
    (site / "zz_ci_standin_pip_cache.pth").write_text(f"{shared}\n")
    written = 0
    for dist in metadata.distributions(path=[str(shared)]):
        if is_editable(dist):
            continue
        for entry in dist.entry_points:
            if entry.group != "console_scripts":
                continue
            target = venv / "bin" / entry.name
            if target.exists():
                continue
            module, _, attr = entry.value.partition(":")
            attr = attr.split("[")[0].strip() or "main"
            head = attr.split(".")[0]
            target.write_text(SCRIPT.format(python=python, module=module.strip(), head=head, call=attr))
            target.chmod(0o755)
            written += 1
        for file in dist.files or []:  # executables a wheel ships as data (ruff, zizmor, act...)
            parts = Path(str(file)).parts
            if len(parts) == 5 and parts[:4] == ("..", "..", "..", "bin"):
                target = venv / "bin" / parts[4]
                source = Path(str(dist.locate_file(file))).resolve()
                if not target.exists() and source.is_file():
                    target.symlink_to(source)
                    written += 1
    for folder in filter(None, os.environ.get("PIP_FIND_LINKS", "").split()):
        wheels = sorted(Path(folder).glob("setuptools-*-py3-none-any.whl"))
        if wheels:
            with zipfile.ZipFile(wheels[-1]) as wheel:
                wheel.extractall(site)
            break
    return written


def shims(bindir: Path, real: str, shared: Path) -> None:
    bindir.mkdir(parents=True, exist_ok=True)
    version = "python{}.{}".format(*sys.version_info[:2])
    for name in ("python", "python3", version):
        path = bindir / name
        path.write_text(SHIM.format(real=real, helper=Path(__file__).resolve(), shared=shared))
        path.chmod(0o755)


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[0] == "shims":
        shims(Path(argv[1]), argv[2], Path(argv[3]))
        return 0
    if len(argv) == 3 and argv[0] == "venv":
        count = warm(Path(argv[1]).resolve(), Path(argv[2]))
        print(f"setup-python stand-in: {count} console scripts from the warm cache in {argv[1]}/bin")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
