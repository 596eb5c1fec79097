"""What the history costs: a no-op `retrain run` and one new batch released, at 10, 1,000 and 10,000 batches.

python benchmarks/history.py [--batches 10 1000 10000] [--runs 3]        (make bench-history)

The issue's protocol, on the embedded default (a local DVC remote): for each size, a clone of develop holding that
many batches of 20 rows, each added with `dvc add` (one .dvc file per batch, as the README says) and released with
`retrain run`. Then, side by side in one run, the scenarios take turns, one run each per round:
- no-op: `retrain run` with nothing changed, against `dvc status` on the same repository;
- one new batch: `retrain run` against plain `dvc repro && dvc push`, each on its own fresh copy of the released
  repository with the same new batch added and committed (the copy and the `dvc add` are not timed).
The gate is relaxed (max_regression 1.0): a 20-row batch moves the metric by chance, and gating is not measured.
Each size is measured in two layouts (`--layouts`): `per-batch`, one .dvc file per batch as above, and `monthly`,
with `release.partition_by: month`, where a last release with one more batch compacted every earlier batch into
one month's partition (all were made the same day: a year of deliveries would make twelve such files).
Results are written after every size, so a long size that is stopped still leaves the smaller ones.
Writes benchmarks/history-results.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # the tests' helpers: one definition of the sandbox project
sys.path.insert(0, str(REPO_ROOT / "src"))

from benchmarks.ingest import run, stats  # noqa: E402
from tests.helpers import Project, add_small_batches, clone_project, make_seed_origin  # noqa: E402
from tests.helpers.templates import copy_project  # noqa: E402

RESULTS = REPO_ROOT / "benchmarks" / "history-results"
VENV_BIN = Path(sys.executable).parent
ROWS = 20  # per batch, as in the measurement
RUN_STARTED = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
NEW_BATCH = 99999  # the number (and sampling seed) of the batch each new-batch run adds


def log(message: str) -> None:
    print(f"[bench-history {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def build(seed: Path, where: Path, batches: int, layout: str) -> Project:
    """A released clone holding `batches` batches (the seed batch included): each with its own .dvc file
    (`per-batch`), or all but the newest compacted into one partition by the release that brought the newest."""
    project = clone_project(seed, where)
    project.set_param("release", "max_regression", 1.0)
    monthly = layout == "monthly"
    if monthly:
        project.set_param("release", "partition_by", "month")
    add_small_batches(project, 1, batches - 1 - monthly, ROWS)
    released = project.retrain("run", check=True).stdout.strip().splitlines()[-1]
    if monthly:
        add_small_batches(project, batches - 1, 1, ROWS)
        released = project.retrain("run", check=True).stdout.strip().splitlines()[-1]
    dvc_files = len(list((project.root / "data/raw").glob("*.dvc")))
    log(f"{batches} batches, {layout}: {released}, {dvc_files} .dvc file(s) in data/raw")
    return project


def timed(command: list[str], root: Path, env: dict, says: str | None = None) -> float:
    """Seconds of one run; `says`: what its last line must start with (no figure stands on a run that did not)."""
    began = time.perf_counter()
    result = run(command, root, env)
    took = time.perf_counter() - began
    last = (result.stdout.strip().splitlines() or [""])[-1]
    if says is not None and not last.startswith(says):
        raise SystemExit(f"{' '.join(command)} in {root}: expected {says!r}, got {last!r}")
    return took


RETRAIN = [str(VENV_BIN / "retrain"), "run"]
DVC_STATUS = [str(VENV_BIN / "dvc"), "status"]
PLAIN = ["sh", "-c", f"{VENV_BIN / 'dvc'} repro && {VENV_BIN / 'dvc'} push"]


def measure(project: Project, batches: int, layout: str, runs: int, scratch: Path) -> dict:
    env = {**project.env, "PYTHONPATH": str(REPO_ROOT / "src")}
    times: dict[str, list[float]] = {"no_op_retrain": [], "dvc_status": [], "new_batch_retrain": [], "plain": []}
    loads = []
    for round_number in range(runs + 1):  # round 0 warms up
        warm_up = " (warm-up)" if round_number == 0 else ""
        log(f"{batches} batches, {layout}: round {round_number} of {runs}{warm_up}")
        took = {
            "no_op_retrain": timed(RETRAIN, project.root, env, says="up to date: model@"),
            "dvc_status": timed(DVC_STATUS, project.root, env),
        }
        for name, command, says in (("new_batch_retrain", RETRAIN, "released model@"), ("plain", PLAIN, None)):
            shutil.rmtree(scratch / name, ignore_errors=True)
            box = copy_project(project, scratch / name)
            add_small_batches(box, NEW_BATCH, 1, ROWS)  # the same new batch in every copy
            took[name] = timed(command, box.root, env, says)
        if round_number:
            for name, seconds in took.items():
                times[name].append(seconds)
            loads.append(os.getloadavg()[0])
    figures = {name: stats(values) for name, values in times.items()}
    return {
        "batches": batches,
        "layout": layout,
        "rows": batches * ROWS,
        "figures": figures,
        "no_op_ratio": figures["no_op_retrain"]["median"] / figures["dvc_status"]["median"],
        "new_batch_ratio": figures["new_batch_retrain"]["median"] / figures["plain"]["median"],
        "load": sum(loads) / len(loads),
        "runs": runs,
        "run": RUN_STARTED,
    }


LAYOUTS = ("per-batch", "monthly")


def _key(result: dict) -> tuple[int, int]:
    return LAYOUTS.index(result.get("layout", LAYOUTS[0])), result["batches"]


def write_results(measured: list[dict]) -> None:
    """This invocation's rows, merged with the other rows already in the results (each row says its run)."""
    path = RESULTS.with_suffix(".json")
    saved = json.loads(path.read_text()) if path.exists() else {}
    kept, notes = saved.get("results", []), saved.get("notes", [])
    for result in kept:
        result.setdefault("layout", LAYOUTS[0])  # rows measured before there were layouts
    done = {_key(result) for result in measured}
    results = sorted([r for r in kept if _key(r) not in done] + measured, key=_key)
    # `notes`: why a target is missed, written by whoever measured it (from measurements) and kept across runs
    path.write_text(json.dumps({"results": results, "notes": notes}, indent=2, ensure_ascii=False) + "\n")
    lines = [
        "# History benchmark (`make bench-history`)",
        "",
        f"Written by benchmarks/history.py, {platform.machine()}, {os.cpu_count()} cores: the median of each row's "
        "runs after a warm-up round (the load is the 1-minute average during them). Within a row the scenarios "
        "took turns in the same rounds; `run` says when the row was measured, so rows of different runs are "
        "marked. The protocol is the script's docstring. Growth is against the smallest size of the same layout.",
        "",
        "| layout | batches | no-op `retrain run` | `dvc status` | ratio (target ≤ 1.5x) | growth (target ≤ 2x) "
        "| one new batch: `retrain run` | plain `dvc repro && dvc push` | ratio (target ≤ 1.10x) | growth | load "
        "| runs | run |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for result in results:
        smallest = next(r for r in results if r["layout"] == result["layout"])
        figures = result["figures"]
        no_op, new = figures["no_op_retrain"]["median"], figures["new_batch_retrain"]["median"]
        lines.append(
            f"| {result['layout']} | {result['batches']:,} | {no_op:.1f} s | {figures['dvc_status']['median']:.1f} s "
            f"| {result['no_op_ratio']:.2f}x | {no_op / smallest['figures']['no_op_retrain']['median']:.2f}x "
            f"| {new:.1f} s | {figures['plain']['median']:.1f} s | {result['new_batch_ratio']:.2f}x "
            f"| {new / smallest['figures']['new_batch_retrain']['median']:.2f}x | {result['load']:.1f} "
            f"| {result['runs']} | {result['run']} |"
        )
    if notes:
        lines += ["", "## Why targets are missed", "", *notes]
    RESULTS.with_suffix(".md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, nargs="+", default=[10, 1_000, 10_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--layouts", nargs="+", choices=LAYOUTS, default=list(LAYOUTS))
    args = parser.parse_args()
    where = Path(tempfile.mkdtemp(prefix="bench-history-"))
    results: list[dict] = []
    try:
        seed = make_seed_origin(where)
        for batches in sorted(args.batches):
            for layout in args.layouts:
                log(f"{batches} batches, {layout}: building and releasing the history")
                home = where / f"history-{batches}-{layout}"
                project = build(seed, home, batches, layout)
                results.append(measure(project, batches, layout, args.runs, where / f"copies-{batches}-{layout}"))
                write_results(results)
                log(f"{batches} batches, {layout}: written to {RESULTS.with_suffix('.md').relative_to(REPO_ROOT)}")
                shutil.rmtree(home, ignore_errors=True)
                shutil.rmtree(where / f"copies-{batches}-{layout}", ignore_errors=True)
    finally:
        shutil.rmtree(where, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
