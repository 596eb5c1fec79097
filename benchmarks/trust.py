"""The merge build both ways: trusting only the release remote's run-cache (the default), and with the opt-in
that restores what the pull request computed (`retrain run --trust-runs-from`).

python benchmarks/trust.py [--runs 3]        (make bench-trust)

One project (the tests' sandbox: a bare origin, local DVC remotes) released once; a pull request changes `train.C`
and is built as CI builds it (`retrain report --reproduce --push-to local-pr`: its results go to the pull requests'
own remote, not the release remote); develop merges it. Each run is the merge build in a fresh clone with an empty
cache, on a fresh copy of both remotes as the pull request left them: `retrain run` (trains what changed) and
`retrain run --trust-runs-from local-pr` (restores it). The two take turns, so that a shared machine's load falls
on both alike. Writes benchmarks/trust-results.md and .json.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # the tests' helpers: one definition of the sandbox project
sys.path.insert(0, str(REPO_ROOT / "src"))

from tests.helpers import clone_project, make_seed_origin, second_clone  # noqa: E402

RESULTS = REPO_ROOT / "benchmarks" / "trust-results"
MODES = {"default: release remote only": [], "opt-in: --trust-runs-from local-pr": ["--trust-runs-from", "local-pr"]}
SAID = re.compile(r"^\s+((?:ran |restored from run-cache |nothing changed).*)$", re.M)


def log(message: str) -> None:
    print(f"[bench-trust {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def prepare(where: Path) -> tuple:
    """Released project, pull request built apart and merged; returns (project, pristine remotes)."""
    project = clone_project(make_seed_origin(where), where)
    pr_storage = where / "dvc-storage-pr"
    project.dvc("remote", "add", "--local", "local-pr", str(pr_storage))
    assert project.retrain("run", "--push").returncode == 0, "first release failed"
    project.git("switch", "--quiet", "-c", "feature")
    project.set_param("train", "C", 0.25)
    built = project.retrain("report", "--base", "develop", "--reproduce", "--push-to", "local-pr")
    assert built.returncode == 0, built.stderr
    project.git("reset", "--quiet", "--hard")
    project.git("switch", "--quiet", "develop")
    project.git("merge", "--quiet", "--ff-only", "feature")
    project.git("push", "--quiet", "origin", "develop")
    pristine = where / "pristine"
    shutil.copytree(project.storage, pristine / "release")
    shutil.copytree(pr_storage, pristine / "pr")
    return project, pristine


def merge_build(project, pristine: Path, where: Path, args: list[str]) -> dict:
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    shutil.copytree(pristine / "release", where / "release")
    shutil.copytree(pristine / "pr", where / "pr")
    clone = second_clone(project, where)
    clone.dvc("remote", "modify", "--local", "local", "url", str(where / "release"))
    clone.dvc("remote", "add", "--local", "local-pr", str(where / "pr"))
    started = time.perf_counter()
    result = clone.retrain("run", "--remote", "local", *args)
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    return {"seconds": seconds, "said": SAID.findall(result.stderr), "outcome": result.stdout.strip().splitlines()[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-trust-") as tmp:
        log("project: released, pull request built apart, merged")
        project, pristine = prepare(Path(tmp) / "project")
        runs: dict[str, list[dict]] = {mode: [] for mode in MODES}
        for round_number in range(args.runs + 1):  # round 0 warms the disk cache and is not kept
            for mode, extra in MODES.items():
                record = merge_build(project, pristine, Path(tmp) / "merge", extra)
                log(f"round {round_number} {mode}: {record['seconds']:.1f}s, {'; '.join(record['said'])}")
                if round_number:
                    runs[mode].append(record)
    results = {
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "runs": args.runs,
        "modes": {
            mode: {
                "median_s": statistics.median(r["seconds"] for r in records),
                "seconds": [round(r["seconds"], 2) for r in records],
                "reproduce": records[-1]["said"],
                "outcome": records[-1]["outcome"],
            }
            for mode, records in runs.items()
        },
    }
    RESULTS.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# The merge build both ways (benchmarks/trust.py)",
        "",
        f"{results['machine']}; {args.runs} runs each, taking turns after a warm-up round; a fresh clone with an "
        "empty cache each time, the digits project with `train.C` changed by the merged pull request.",
        "",
        "| merge build | median | runs | what reproduce did |",
        "|---|---:|---|---|",
    ]
    for mode, found in results["modes"].items():
        shown = ", ".join(f"{s:.1f}" for s in found["seconds"])
        lines.append(f"| {mode} | {found['median_s']:.1f} s | {shown} | {'; '.join(found['reproduce'])} |")
    RESULTS.with_suffix(".md").write_text("\n".join(lines) + "\n")
    log(f"wrote {RESULTS.with_suffix('.md')}")


if __name__ == "__main__":
    main()
