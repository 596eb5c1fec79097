"""Benchmarks: what a retrain costs next to the bare computation, run-cache reuse, scale, and S3 transfer.

    python benchmarks/run.py            full mode (~40 min on 2 cores): writes benchmarks/results.md and .json
    python benchmarks/run.py --quick    small data, under five minutes: writes benchmarks/results-quick.*

Each figure is the median of --repeats runs (3 by default) next to a baseline measured in the same run, in
sandboxes of this working tree (real git, real DVC, a local-folder DVC remote, moto's S3 server in its own
process). See benchmarks/README.md for the protocol of each figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    BENCH_DIR,
    PYTHON,
    REPO_ROOT,
    VENV_BIN,
    Sandbox,
    Timed,
    base_env,
    log,
    machine,
    median,
    new_sandbox,
    sh,
    spread,
    timed,
    versions,
)
from results_md import render

from tests.helpers import S3_BUCKET, S3_ENV, bootstrap_s3  # the harness put the repository on sys.path

STAGES = ("preprocessing", "train", "evaluate")
S3_PREFIX = "artifact-versioning/"


@dataclass(frozen=True)
class Plan:
    mode: str
    overhead_sizes: tuple[int, ...]  # figure 1 (and figure 4 reuses their runs)
    scale_sizes: tuple[int, ...]  # figure 4
    merge_size: int  # figure 3: must be one of overhead_sizes (its full cycle is the baseline)
    transfer_size: int  # figure 5: must be the largest of overhead_sizes (its sandbox is reused)
    repeats: int
    scale_only_repeats: int  # repeats at a size that only figure 4 uses (5M rows: one run)


FULL = Plan("full", (100_000, 1_000_000), (100_000, 1_000_000, 5_000_000), 1_000_000, 1_000_000, 3, 1)
QUICK = Plan("quick", (5_000, 20_000), (5_000, 20_000, 50_000), 20_000, 20_000, 3, 1)

# The targets.
OVERHEAD_TARGET_LARGE = 1.15  # at 1M rows
OVERHEAD_TARGET_SMALL = 1.5  # at 100k rows
NOOP_TARGET = 2.0
MERGE_TARGET = 0.3
LINEAR_TOLERANCE = 1.2  # "near-linear": time per row at the largest size at most 20% above the next size's
MEMORY_TARGET = 4.0  # peak RSS of a stage / raw CSV bytes at the largest size
TRANSFER_TARGET = 1.5


def overhead_target(rows: int) -> float:
    return OVERHEAD_TARGET_LARGE if rows >= 1_000_000 else OVERHEAD_TARGET_SMALL


class Bench:
    def __init__(self, plan: Plan, tmp: Path, repeats: int, source: Path) -> None:
        self.plan = plan
        self.source = source
        self.tmp = tmp
        self.repeats = repeats
        self.env = base_env(tmp)
        self.base: Sandbox | None = None
        self.templates: dict[int, Sandbox] = {}
        self.full_cycle: dict[int, list[Timed]] = {}  # retrain run on N new rows, per N (figures 1, 3, 4)
        self.kept: Sandbox | None = None  # the last released sandbox at the largest overhead size (figures 2, 5)
        self.results: dict = {"figures": {}}

    # --- sandboxes --------------------------------------------------------------------------------------
    def base_sandbox(self) -> Sandbox:
        """The project with release v1 on the first (bundled) batch; the gate relaxed so that each run tags."""
        if self.base is None:
            log("base sandbox: project, gate relaxed, first release on the bundled digits")
            box = new_sandbox(self.tmp / "base", self.env, self.source)
            params = yaml.safe_load((box.repo / "params.yaml").read_text())
            params["release"]["max_regression"] = 1.0
            (box.repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
            box.git("commit", "--quiet", "-am", "bench: accept any metric change, so that every run is released")
            box.retrain("run")
            assert box.run_summary()["status"] == "released", box.run_summary()
            self.base = box
        return self.base

    def template(self, rows: int) -> Sandbox:
        """The base plus a committed new batch of `rows` rows (dvc add + git commit), nothing reproduced yet."""
        if rows not in self.templates:
            log(f"template: new batch of {rows:,} rows")
            box = self.base_sandbox().copy(self.tmp / f"template-{rows}")
            box.add_batch(rows, seed=1)
            self.templates[rows] = box
        return self.templates[rows]

    def drop_template(self, rows: int) -> None:
        if rows in self.templates:
            self.templates.pop(rows).remove()

    def warm(self, box: Sandbox) -> None:
        """After a copy, refresh DVC's hash cache (inode-keyed), as `dvc add` had left it on the user's machine."""
        box.dvc("status")

    # --- figure 1 -------------------------------------------------------------------------------------------
    def overhead(self) -> None:
        figure: dict = {"sizes": {}}
        self.results["figures"]["overhead"] = figure
        largest = max(self.plan.overhead_sizes)
        for rows in self.plan.overhead_sizes:
            template = self.template(rows)
            bare: list[Timed] = []
            runs: list[Timed] = []
            for index in range(self.repeats):
                scratch = self.tmp / f"bare-{rows}-{index}"
                log(f"fig 1 @ {rows:,}: bare computation {index + 1}/{self.repeats}")
                bare.append(
                    timed(
                        "bare",
                        [PYTHON, str(BENCH_DIR / "bare.py"), str(template.repo / "data/raw"), str(scratch)],
                        template.repo,
                        template.run_env,  # the sandbox's own `retrain`, as its stage scripts import it
                    )
                )
                shutil.rmtree(scratch, ignore_errors=True)
                box = template.copy(self.tmp / f"run-{rows}-{index}")
                self.warm(box)
                log(f"fig 1 @ {rows:,}: retrain run {index + 1}/{self.repeats}")
                result = box.timed("retrain run", str(VENV_BIN / "retrain"), "run")
                status = box.run_summary()["status"]
                if status != "released" or set(result.stages) != set(STAGES):
                    raise RuntimeError(f"retrain run @ {rows}: {status}, stages {sorted(result.stages)}")
                runs.append(result)
                if rows == largest and index == self.repeats - 1:
                    self.kept = box
                else:
                    box.remove()
            self.full_cycle[rows] = runs
            bare_info = [json.loads(item.stdout.strip().splitlines()[-1]) for item in bare]
            bare_wall = [item.wall for item in bare]
            run_wall = [item.wall for item in runs]
            functions = [info["seconds"]["functions"] for info in bare_info]
            ratio = median(run_wall) / median(bare_wall)
            figure["sizes"][str(rows)] = {
                "rows_total": bare_info[0]["rows"],
                "raw_csv_bytes": template.raw_bytes(),
                "bare_wall_s": spread(bare_wall),
                "bare_functions_s": spread(functions),
                "bare_parts_s": {
                    part: round(median([info["seconds"][part] for info in bare_info]), 3)
                    for part in ("imports", "preprocessing", "train", "evaluate")
                },
                "bare_cpu_s": spread([item.cpu_s for item in bare]),
                "run_wall_s": spread(run_wall),
                "run_cpu_s": spread([item.cpu_s for item in runs]),
                "run_steps_s": _median_steps(runs),
                "run_stage_process_wall_s": {
                    stage: round(median([item.stages[stage].wall for item in runs]), 3) for stage in STAGES
                },
                "run_outside_stages_s": round(
                    median([item.wall - sum(item.stages[stage].wall for stage in STAGES) for item in runs]), 3
                ),
                "foreign_cpu_s": {
                    "bare": [round(item.foreign_cpu_s, 1) for item in bare],
                    "run": [round(item.foreign_cpu_s, 1) for item in runs],
                },
                "ratio": round(ratio, 3),
                "ratio_vs_functions_only": round(median(run_wall) / median(functions), 3),
                "cpu_ratio": round(median([item.cpu_s for item in runs]) / median([item.cpu_s for item in bare]), 3),
                "target": overhead_target(rows),
                "met": ratio <= overhead_target(rows),
                "accuracy": bare_info[0]["accuracy"],
            }
            if rows != self.plan.merge_size:  # figure 4 reuses the runs, not the template
                self.drop_template(rows)

    # --- figure 2 -------------------------------------------------------------------------------------------
    def noop(self) -> None:
        box = self.kept
        assert box is not None, "figure 2 runs in the sandbox figure 1 released last"
        status_runs: list[Timed] = []
        noop_runs: list[Timed] = []
        for index in range(self.repeats):
            log(f"fig 2: dvc status {index + 1}/{self.repeats}")
            status_runs.append(box.timed("dvc status", str(VENV_BIN / "dvc"), "status"))
            log(f"fig 2: retrain run, nothing changed {index + 1}/{self.repeats}")
            result = box.timed("retrain run (no-op)", str(VENV_BIN / "retrain"), "run")
            result.label = box.run_summary()["status"]
            noop_runs.append(result)
        ran = sorted({stage for item in noop_runs for stage in item.stages})
        statuses = sorted({item.label for item in noop_runs})
        ratio = median([item.wall for item in noop_runs]) / median([item.wall for item in status_runs])
        self.results["figures"]["noop"] = {
            "rows": max(self.plan.overhead_sizes),
            "dvc_status_wall_s": spread([item.wall for item in status_runs]),
            "run_wall_s": spread([item.wall for item in noop_runs]),
            "run_steps_s": _median_steps(noop_runs),
            "run_status": statuses,
            "stages_run": ran,
            "dvc_status_output": status_runs[-1].stdout.strip()[:300],
            "foreign_cpu_s": {
                "status": [round(item.foreign_cpu_s, 1) for item in status_runs],
                "run": [round(item.foreign_cpu_s, 1) for item in noop_runs],
            },
            "ratio": round(ratio, 3),
            "target": NOOP_TARGET,
            "met": ratio <= NOOP_TARGET and not ran and statuses == ["up_to_date"],
        }

    # --- figure 3 -------------------------------------------------------------------------------------------
    def merge(self) -> None:
        rows = self.plan.merge_size
        full = self.full_cycle[rows]
        pr = self.template(rows).copy(self.tmp / "merge-pr")
        # develop stays at the release; the new batch is a pull request on branch `pr`
        pr.git("branch", "pr")
        pr.git("reset", "--quiet", "--hard", "HEAD~1")
        pr.git("checkout", "--quiet", "pr")
        self.warm(pr)
        log(f"fig 3 @ {rows:,}: pull-request build (retrain report --reproduce)")
        pr_build = pr.timed("PR build", str(VENV_BIN / "retrain"), "report", "--base", "develop", "--reproduce")
        pr.git("reset", "--quiet", "--hard")  # the PR build leaves dvc.lock staged (core.autostage); CI discards it
        pr.git("checkout", "--quiet", "develop")
        pr.git("merge", "--quiet", "--no-ff", "pr", "-m", "Merge pull request: new batch")
        merges: list[Timed] = []
        for index in range(self.repeats):
            clone = Sandbox(self.tmp / f"merge-build-{index}", self.env)
            clone.home.mkdir()
            sh(["git", "clone", "--quiet", "--branch", "develop", str(pr.repo), str(clone.repo)], clone.home, self.env)
            clone.retrain("setup")
            clone.dvc("remote", "modify", "--local", "local", "url", str(pr.remote))
            log(f"fig 3 @ {rows:,}: merge build from a fresh clone, empty cache {index + 1}/{self.repeats}")
            result = clone.timed("merge build", str(VENV_BIN / "retrain"), "run")
            result.label = clone.run_summary()["status"]
            restored = [
                line.strip()
                for line in result.stderr.splitlines()
                if line.strip().startswith(("ran ", "restored from run-cache", "nothing changed"))
            ]
            result.stdout = "\n".join(restored)
            merges.append(result)
            clone.remove()
        pr.remove()
        executed = sorted({stage for item in merges for stage in item.stages})
        ratio = median([item.wall for item in merges]) / median([item.wall for item in full])
        self.results["figures"]["merge"] = {
            "rows": rows,
            "pr_build_wall_s": round(pr_build.wall, 3),
            "pr_build_stages_run": sorted(pr_build.stages),
            "merge_wall_s": spread([item.wall for item in merges]),
            "merge_steps_s": _median_steps(merges),
            "merge_status": sorted({item.label for item in merges}),
            "merge_restored": merges[-1].stdout,
            "stages_executed": executed,
            "full_cycle_wall_s": spread([item.wall for item in full]),
            "foreign_cpu_s": [round(item.foreign_cpu_s, 1) for item in merges],
            "ratio": round(ratio, 3),
            "target": MERGE_TARGET,
            "met": ratio <= MERGE_TARGET and "train" not in executed,
        }
        if rows not in self.plan.scale_sizes or rows in self.plan.overhead_sizes:
            self.drop_template(rows)

    # --- figure 4 -------------------------------------------------------------------------------------------
    def scale(self) -> None:
        sizes: dict = {}
        for rows in self.plan.scale_sizes:
            if rows in self.full_cycle:
                runs = self.full_cycle[rows]
                raw_bytes = self.results["figures"]["overhead"]["sizes"][str(rows)]["raw_csv_bytes"]
            else:
                runs = []
                template = self.template(rows)
                raw_bytes = template.raw_bytes()
                for index in range(self.plan.scale_only_repeats):
                    box = (
                        template
                        if index == self.plan.scale_only_repeats - 1
                        else template.copy(self.tmp / f"scale-{rows}-{index}")
                    )
                    if box is not template:
                        self.warm(box)
                    log(f"fig 4 @ {rows:,}: retrain run {index + 1}/{self.plan.scale_only_repeats}")
                    result = box.timed("retrain run", str(VENV_BIN / "retrain"), "run")
                    if set(result.stages) != set(STAGES):
                        raise RuntimeError(f"retrain run @ {rows}: stages {sorted(result.stages)}")
                    runs.append(result)
                    if box is not template:
                        box.remove()
                self.full_cycle[rows] = runs
                self.drop_template(rows)
            sizes[str(rows)] = {
                "repeats": len(runs),
                "raw_csv_bytes": raw_bytes,
                "run_wall_s": round(median([item.wall for item in runs]), 3),
                "stages": {
                    stage: {
                        "wall_s": round(median([item.stages[stage].wall for item in runs]), 3),
                        "wall_samples_s": [round(item.stages[stage].wall, 3) for item in runs],
                        "cpu_s": round(median([item.stages[stage].cpu_s for item in runs]), 3),
                        "peak_rss_mib": round(median([item.stages[stage].maxrss_kib for item in runs]) / 1024, 1),
                        "peak_rss_over_csv": round(
                            median([item.stages[stage].maxrss_kib for item in runs]) * 1024 / raw_bytes, 3
                        ),
                    }
                    for stage in STAGES
                },
                "run_peak_rss_mib_any_process": round(median([item.maxrss_kib for item in runs]) / 1024, 1),
                "foreign_cpu_s": [round(item.foreign_cpu_s, 1) for item in runs],
            }
        ordered = sorted(self.plan.scale_sizes)
        largest, previous = ordered[-1], ordered[-2]
        growth = {}
        for stage in (*STAGES, "run"):
            if stage == "run":
                t_prev, t_large = sizes[str(previous)]["run_wall_s"], sizes[str(largest)]["run_wall_s"]
            else:
                t_prev = sizes[str(previous)]["stages"][stage]["wall_s"]
                t_large = sizes[str(largest)]["stages"][stage]["wall_s"]
            growth[stage] = round((t_large / t_prev) / (largest / previous), 3)
        memory = {stage: sizes[str(largest)]["stages"][stage]["peak_rss_over_csv"] for stage in STAGES}
        self.results["figures"]["scale"] = {
            "sizes": sizes,
            "linearity": {
                "from_rows": previous,
                "to_rows": largest,
                "time_per_row_growth": growth,  # 1.0 = exactly linear
                "tolerance": LINEAR_TOLERANCE,
                "met": all(value <= LINEAR_TOLERANCE for value in growth.values()),
            },
            "memory": {
                "rows": largest,
                "peak_rss_over_csv": memory,
                "target": MEMORY_TARGET,
                "met": all(value <= MEMORY_TARGET for value in memory.values()),
            },
        }

    # --- figure 5 -------------------------------------------------------------------------------------------
    def transfer(self) -> None:
        box = self.kept
        assert box is not None, "figure 5 uses the sandbox figure 1 released last"
        server = MotoServer(self.env)
        try:
            endpoint = server.endpoint
            env = dict(self.env, **S3_ENV)
            box.env = env
            box.dvc("remote", "modify", "--local", "s3remote", "endpointurl", endpoint)
            client = _s3_client(endpoint)
            bootstrap_s3(endpoint)
            push: list[Timed] = []
            upload: list[Timed] = []
            pull: list[Timed] = []
            download: list[Timed] = []
            manifest_path = self.tmp / "s3-manifest.json"
            keys: list[str] = []
            for index in range(self.repeats):
                _empty(client)
                log(f"fig 5: dvc push {index + 1}/{self.repeats}")
                push.append(box.timed("dvc push", str(VENV_BIN / "dvc"), "push", "-r", "s3remote"))
                keys = _keys(client)
                pairs = [[key, str(box.repo / ".dvc/cache" / key.removeprefix(S3_PREFIX))] for key in keys]
                missing = [local for _, local in pairs if not Path(local).is_file()]
                if missing:
                    raise RuntimeError(f"pushed objects not in the local cache: {missing[:3]}")
                manifest_path.write_text(json.dumps(pairs))
                _empty(client)
                log(f"fig 5: boto3 upload of the same objects {index + 1}/{self.repeats}")
                upload.append(
                    timed(
                        "boto3 upload",
                        [PYTHON, str(BENCH_DIR / "s3_plain.py"), "upload", endpoint, S3_BUCKET, str(manifest_path)],
                        box.repo,
                        env,
                    )
                )
                if sorted(_keys(client)) != sorted(keys):
                    raise RuntimeError("the boto3 upload did not store the same keys as dvc push")
            pushed_bytes = sum(Path(local).stat().st_size for _, local in json.loads(manifest_path.read_text()))
            # the bucket now holds exactly what dvc push stored (same keys, same bytes)
            for index in range(self.repeats):
                clone = Sandbox(self.tmp / f"pull-{index}", env)
                clone.home.mkdir()
                sh(["git", "clone", "--quiet", "--branch", "develop", str(box.repo), str(clone.repo)], clone.home, env)
                clone.dvc("remote", "modify", "--local", "s3remote", "endpointurl", endpoint)
                log(f"fig 5: dvc pull into a fresh clone {index + 1}/{self.repeats}")
                pull.append(clone.timed("dvc pull", str(VENV_BIN / "dvc"), "pull", "-r", "s3remote"))
                clone.remove()
                target = self.tmp / f"download-{index}"
                pairs = [[key, str(target / key)] for key in keys]
                manifest = self.tmp / f"download-{index}.json"
                manifest.write_text(json.dumps(pairs))
                log(f"fig 5: boto3 download of the same objects {index + 1}/{self.repeats}")
                download.append(
                    timed(
                        "boto3 download",
                        [PYTHON, str(BENCH_DIR / "s3_plain.py"), "download", endpoint, S3_BUCKET, str(manifest)],
                        box.repo,
                        env,
                    )
                )
                shutil.rmtree(target, ignore_errors=True)
            push_ratio = median([item.wall for item in push]) / median([item.wall for item in upload])
            pull_ratio = median([item.wall for item in pull]) / median([item.wall for item in download])
            self.results["figures"]["transfer"] = {
                "rows": max(self.plan.overhead_sizes),
                "objects": len(keys),
                "bytes": pushed_bytes,
                "dvc_push_wall_s": spread([item.wall for item in push]),
                "boto3_upload_wall_s": spread([item.wall for item in upload]),
                "dvc_pull_wall_s": spread([item.wall for item in pull]),
                "boto3_download_wall_s": spread([item.wall for item in download]),
                "push_ratio": round(push_ratio, 3),
                "pull_ratio": round(pull_ratio, 3),
                "foreign_cpu_s": {
                    name: [round(item.foreign_cpu_s, 1) for item in items]
                    for name, items in (("push", push), ("upload", upload), ("pull", pull), ("download", download))
                },
                "target": TRANSFER_TARGET,
                "push_met": push_ratio <= TRANSFER_TARGET,
                "pull_met": pull_ratio <= TRANSFER_TARGET,
            }
        finally:
            box.env = self.env
            server.stop()


def _median_steps(runs: list[Timed]) -> dict[str, float]:
    names = [name for name in runs[0].steps()]
    return {name: round(median([item.steps().get(name, 0.0) for item in runs]), 3) for name in names}


class MotoServer:
    """benchmarks/moto_server.py as a child process; stopped by closing its stdin."""

    def __init__(self, env: dict[str, str]) -> None:
        import subprocess

        self.process = subprocess.Popen(
            [PYTHON, str(BENCH_DIR / "moto_server.py")],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # its request log
            text=True,
        )
        assert self.process.stdout is not None
        port = self.process.stdout.readline().strip()
        if not port.isdigit():
            self.stop()
            raise RuntimeError("moto's server did not start")
        self.endpoint = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        import subprocess

        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _s3_client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=S3_ENV["AWS_DEFAULT_REGION"],
    )


def _keys(client) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=S3_BUCKET, Prefix=S3_PREFIX)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def _empty(client) -> None:
    """Delete every version and delete marker (the bucket is versioned), so the next upload starts from empty."""
    pages = client.get_paginator("list_object_versions").paginate(Bucket=S3_BUCKET)
    doomed = [
        {"Key": item["Key"], "VersionId": item["VersionId"]}
        for page in pages
        for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
    ]
    for start in range(0, len(doomed), 1000):
        client.delete_objects(Bucket=S3_BUCKET, Delete={"Objects": doomed[start : start + 1000], "Quiet": True})


FIGURES = ("overhead", "noop", "merge", "scale", "transfer")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small data: 5k/20k rows (scale up to 50k), < 5 min")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median reported; >= 3)")
    parser.add_argument("--output", type=Path, help="results file stem (default benchmarks/results[-quick])")
    parser.add_argument("--workdir", type=Path, help="where the sandboxes go (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the sandboxes for inspection")
    parser.add_argument(
        "--project",
        type=Path,
        default=REPO_ROOT,
        help="git checkout whose working tree the sandboxes copy (default: this one); for before/after runs",
    )
    parser.add_argument(
        "--render-only",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure nothing: re-render the .md of an existing results .json (e.g. after editing analysis.md)",
    )
    args = parser.parse_args()
    if args.render_only:
        results = json.loads(args.render_only.read_text())
        args.render_only.with_suffix(".md").write_text(render(results))
        log(f"wrote {args.render_only.with_suffix('.md')}")
        return 0
    plan = QUICK if args.quick else FULL
    stem = args.output or BENCH_DIR / ("results-quick" if args.quick else "results")
    tmp = Path(tempfile.mkdtemp(prefix="retrain-bench-", dir=args.workdir))
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    bench = Bench(plan, tmp, args.repeats, args.project.resolve())
    started = time.time()
    bench.results.update(
        {
            "mode": plan.mode,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
            "repeats": args.repeats,
            "project": str(args.project.resolve()),
            "project_commit": sh(["git", "rev-parse", "HEAD"], args.project, dict(os.environ)).stdout.strip(),
            "project_uncommitted": sh(
                ["git", "status", "--porcelain", "--untracked-files=no"], args.project, dict(os.environ)
            ).stdout.split("\n")[:-1],
            "plan": {
                "overhead_sizes": plan.overhead_sizes,
                "scale_sizes": plan.scale_sizes,
                "merge_size": plan.merge_size,
                "transfer_size": plan.transfer_size,
                "scale_only_repeats": plan.scale_only_repeats,
            },
            "machine": machine(),
            "versions": versions(),
        }
    )
    log(f"{plan.mode} mode, sandboxes in {tmp}")
    failed = None
    try:
        for name in FIGURES:
            began = time.time()
            getattr(bench, name)()
            bench.results["figures"][name]["figure_seconds"] = round(time.time() - began, 1)
            bench.results["duration_s"] = round(time.time() - started, 1)
            _write(bench.results, stem)  # after each figure: a late failure keeps what was measured
            log(f"{name}: done in {time.time() - began:.0f}s")
    except Exception:
        failed = traceback.format_exc()
        bench.results["error"] = failed
        log(f"failed:\n{failed}")
    finally:
        bench.results["duration_s"] = round(time.time() - started, 1)
        bench.results["machine"]["load_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
        _write(bench.results, stem)
        if args.keep:
            log(f"sandboxes kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    log(f"wrote {stem.with_suffix('.md')} and {stem.with_suffix('.json')} in {time.time() - started:.0f}s")
    return 1 if failed else 0


def _write(results: dict, stem: Path) -> None:
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    stem.with_suffix(".md").write_text(render(results))


if __name__ == "__main__":
    sys.exit(main())
