"""What the release history page costs: `retrain history --html` and `retrain releases --json` at 10 and 1,000
releases, against the per-release loop the engine used before (one `git show` per release's metrics file).

python benchmarks/history_page.py [--releases 10 1000] [--runs 5]        (make bench-page)

The histories are made directly with git (tests/helpers/history.py: one `git fast-import`, in about a second for a
thousand releases), not by training: each release is a commit with its metrics and data statistics and an
annotated tag with the engine's lineage message, plus a promotion, another and a rollback of prod. Each command is
a whole process (`retrain` from this venv), run once untimed, then `--runs` times taking turns; the figure is the
median wall time. Writes benchmarks/history-page-results.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # the tests' helpers: one definition of the synthetic history
sys.path.insert(0, str(REPO_ROOT / "src"))

from benchmarks.ingest import stats  # noqa: E402
from tests.helpers.history import synthetic_history  # noqa: E402

RESULTS = REPO_ROOT / "benchmarks" / "history-page-results"
RETRAIN = str(Path(sys.executable).parent / "retrain")
MEASURED = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def timed(args: list[str], cwd: Path) -> float:
    began = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    took = time.perf_counter() - began
    if result.returncode:
        raise SystemExit(f"{' '.join(args)} exited with {result.returncode}: {result.stderr[-2000:]}")
    return took


def per_release_loop(root: Path) -> float:
    """The old way's git cost alone: one `git show TAG:metrics/metrics.json` process per release."""
    tags = subprocess.run(["git", "tag", "--list", "model@v*"], cwd=root, capture_output=True, text=True).stdout
    began = time.perf_counter()
    for tag in tags.split():
        subprocess.run(["git", "show", f"{tag}:metrics/metrics.json"], cwd=root, capture_output=True, check=True)
    return time.perf_counter() - began


def measure(root: Path, runs: int) -> dict:
    commands = {
        "history": [RETRAIN, "history", "--html", "out"],
        "releases_json": [RETRAIN, "releases", "--json"],
        "version": [RETRAIN, "--version"],  # the interpreter and the CLI starting: the floor under both
    }
    for args in commands.values():
        timed(args, root)  # warm-up: byte-code and the page cache
    times: dict[str, list[float]] = {name: [] for name in [*commands, "per_release_loop"]}
    loads = []
    for _ in range(runs):
        for name, args in commands.items():
            times[name].append(timed(args, root))
        times["per_release_loop"].append(per_release_loop(root))
        loads.append(os.getloadavg()[0])
    page = root / "out" / "index.html"
    return {
        "figures": {name: stats(values) for name, values in times.items()},
        "page_bytes": page.stat().st_size,
        "load": sum(loads) / len(loads),
    }


def write(results: list[dict]) -> None:
    RESULTS.with_suffix(".json").write_text(json.dumps({"results": results}, indent=2) + "\n")
    lines = [
        "# History page benchmark (`make bench-page`)",
        "",
        f"Written by benchmarks/history_page.py, {platform.machine()}, {os.cpu_count()} cores, measured {MEASURED}: "
        "the median wall time of each whole command (a `retrain` process) over the runs, after a warm-up run; the "
        "load is the 1-minute average during them. The protocol is the script's docstring. `retrain --version` is "
        "the floor (Python and the CLI starting). The per-release loop is only the git cost of the way the engine "
        "read the metrics before (one `git show` per release), for comparison: it draws nothing. Most of the time "
        "above the floor at 10 releases is Python importing GTO (retrain.versioning imports it at its top; see "
        "`python -X importtime -c 'import retrain.versioning'`), not the history.",
        "",
        "| releases | build (fast-import) | `retrain history --html` | `retrain releases --json` | `retrain --version` "
        "| per-release `git show` loop | page size | load | runs |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        figures = result["figures"]
        cells = [f"{figures[name]['median']:.2f} s" for name in ("history", "releases_json", "version")]
        lines.append(
            f"| {result['releases']:,} | {result['build']:.1f} s | {' | '.join(cells)} "
            f"| {figures['per_release_loop']['median']:.2f} s | {result['page_bytes'] / 1024:.0f} KiB "
            f"| {result['load']:.1f} | {result['runs']} |"
        )
    RESULTS.with_suffix(".md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--releases", type=int, nargs="+", default=[10, 1000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    where = Path(tempfile.mkdtemp(prefix="bench-page-"))
    results = []
    try:
        for count in args.releases:
            began = time.perf_counter()
            root = synthetic_history(where / str(count), count)
            build = time.perf_counter() - began
            result = {"releases": count, "build": build, "runs": args.runs, **measure(root, args.runs)}
            results.append(result)
            print(f"{count} releases: history {result['figures']['history']['median']:.2f} s", file=sys.stderr)
        write(results)
    finally:
        shutil.rmtree(where, ignore_errors=True)


if __name__ == "__main__":
    main()
