"""Release histories made directly with git (one `git fast-import`), not by training: the history page's cost tests
and benchmark need hundreds of releases, which `retrain run` would take hours to make.

The repository is the digits project's own files (dvc.yaml, params.yaml, .gto, the seed batch's .dvc file) with one
commit per release: its metrics and data statistics committed as the engine commits them, its tag annotated with the
engine's own lineage message (retrain.versioning.tag_message), and a promotion, another and a rollback of `prod`
with the registry flow's messages at the end.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from retrain.versioning import Assignment, AssignmentAction, Lineage, assignment_message, tag_message
from tests.helpers import REPO_ROOT, sh

FILES = ("dvc.yaml", "params.yaml", ".gto", "data/raw/batch-0000-digits.csv.dvc", "data/raw/.gitignore")
START = 1_700_000_000  # the first commit's date; each release a day later
WHO = "Bench <bench@example.invalid>"


def _data(text: str) -> str:
    return f"data {len(text.encode())}\n{text}\n"


def _commit(mark: int, when: int, message: str, files: dict[str, str], parent: bool) -> str:
    lines = f"commit refs/heads/develop\nmark :{mark}\ncommitter {WHO} {when} +0000\n" + _data(message)
    lines += f"from :{mark - 1}\n" if parent else ""
    return lines + "".join(f"M 100644 inline {path}\n" + _data(text) for path, text in files.items())


def _tag(name: str, mark: int, when: int, message: str) -> str:
    return f"tag {name}\nfrom :{mark}\ntagger {WHO} {when} +0000\n" + _data(message)


def accuracy(number: int) -> float:
    """A wobbly, slowly rising primary metric: release `number`'s accuracy."""
    return round(0.90 + 0.05 * number / (number + 20) + 0.01 * ((number * 7919) % 11 - 5) / 5, 4)


def synthetic_history(where: Path, releases: int) -> Path:
    """A clone-like work tree at `where` holding `releases` releases model@v1.0.0 ... (one minor bump each), and
    prod promoted to the last two then rolled back; returns its root."""
    where.mkdir(parents=True)
    sh(["git", "init", "--quiet", "--initial-branch", "develop"], where)
    params = (REPO_ROOT / "params.yaml").read_text()
    stream = [_commit(1, START, "the project", {path: (REPO_ROOT / path).read_text() for path in FILES}, False)]
    for number in range(releases):
        mark, when = number + 2, START + (number + 1) * 86_400
        rows, c = 1797 + 300 * number, 1.0 + (number // 3) / 10
        metrics = {"accuracy": accuracy(number), "f1_macro": round(accuracy(number) - 0.002, 4)}
        files = {
            "metrics/metrics.json": json.dumps(metrics) + "\n",
            "metrics/data.json": json.dumps({"rows": rows, "batches": number + 1}) + "\n",
            "params.yaml": params.replace("C: 1.0", f"C: {c}"),
        }
        subject = f"Merge pull request #{number + 1} from acme/batch-{number}\n\nAdd batch {number}\n"
        stream.append(_commit(mark, when, subject, files, True))
        tag = f"model@v1.{number}.0"
        lineage = Lineage(f"{number:040x}", f"{number:032x}.dir", rows, number + 1, {"train.C": c}, metrics, None, None)
        stream.append(_tag(tag, mark, when + 60, tag_message(tag, lineage)))
    last = START + (releases + 2) * 86_400
    one, two = max(releases - 2, 0), releases - 1  # prod: the one before the last, the last, then back
    moves = [(AssignmentAction.PROMOTE, one, None), (AssignmentAction.PROMOTE, two, one)]
    moves.append((AssignmentAction.ROLLBACK, one, two))
    for counter, (action, index, previous) in enumerate(moves, start=1):
        before = f"model@v1.{previous}.0" if previous is not None else None
        said = assignment_message(Assignment(action, "prod", f"model@v1.{index}.0", before, "bench", None, None))
        stream.append(_tag(f"model#prod#{counter}", index + 2, last + counter * 60, said))
    subprocess.run(["git", "fast-import", "--quiet"], cwd=where, input="".join(stream), text=True, check=True)
    sh(["git", "reset", "--quiet", "--hard", "develop"], where)
    return where


def copy_history(source: Path, where: Path) -> Path:
    shutil.copytree(source, where, symlinks=True)
    return where
