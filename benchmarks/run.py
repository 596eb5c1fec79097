"""The issue's figures, each timed by hyperfine beside its baseline in one invocation; see benchmarks/README.md.

python -m benchmarks.run            full: writes benchmarks/results.md and results.json
python -m benchmarks.run --quick    small data, under five minutes: writes benchmarks/results-quick.*
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import yaml

from benchmarks import render, sandbox
from tests.helpers import REPO_ROOT, VENV_BIN, base_env

BENCH = REPO_ROOT / "benchmarks"
PYTHON = sys.executable
RETRAIN = str(VENV_BIN / "retrain")
NOOP_LOG = "noop.log"


@dataclass(frozen=True)
class Plan:
    mode: str
    peer_sizes: tuple[int, ...]  # the largest is also where 1M-vs-bare and the merge build are measured
    rounds: tuple[int, ...]  # per peer size: more where a run is short and the load's swings are as long as it
    memory_rows: int
    noop_rounds: int


FULL = Plan("full", (100_000, 1_000_000), (7, 3), 5_000_000, 10)
QUICK = Plan("quick", (2_000, 10_000), (2, 2), 20_000, 3)
# The targets: value / baseline at most this.
PEER_TARGET = {"small": 1.15, "large": 1.05}
BARE_TARGET = 1.15
NOOP_TARGET = 2.0
MERGE_TARGET = 0.3
MEMORY_TARGET = 4.0


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def loadavg() -> list[float]:
    return [float(value) for value in Path("/proc/loadavg").read_text().split()[:3]]


def hyperfine(name: str, commands: list[tuple[str, str, str | None]], rounds: int, tmp: Path) -> dict:
    """One hyperfine invocation over (label, command, prepare) triples, each command listed once per round with
    `--runs 1`, so that the commands take turns (given `--runs N`, hyperfine runs all of one command's runs before
    the next's, and a change in the machine's load would hit one side only); the runs are regrouped per command
    after. The 1-minute load average is sampled every 5 s meanwhile."""
    export = tmp / f"{name}.json"
    args = ["hyperfine", "--style", "basic", "--runs", "1", "--export-json", export]
    for round_ in range(1, rounds + 1):
        for label, _, prepare in commands:
            args += ["--command-name", f"{label} #{round_}"] + (["--prepare", prepare] if prepare else [])
    args += [command for _ in range(rounds) for _, command, _ in commands]
    samples: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(5):
            samples.append(loadavg()[0])

    sampler = threading.Thread(target=sample, daemon=True)
    before = loadavg()
    sampler.start()
    try:
        if subprocess.run([str(arg) for arg in args], cwd=REPO_ROOT, env=base_env(), check=False).returncode:
            failed = tmp / sandbox.FAILED
            raise RuntimeError(f"hyperfine {name} failed" + (f": {failed.read_text()}" if failed.exists() else ""))
    finally:
        done.set()
        sampler.join()
    runs = json.loads(export.read_text())["results"]
    return {
        "name": name,
        "rounds": rounds,
        "load_before": before,
        "load_after": loadavg(),
        "load1_samples": samples,
        "results": [per_command(label, runs) for label, _, _ in commands],
        "hyperfine": runs,
    }


def per_command(label: str, runs: list[dict]) -> dict:
    """hyperfine's statistics of one command, over its runs in every round."""
    mine = [item for item in runs if item["command"].rsplit(" #", 1)[0] == label]
    times = [item["mean"] for item in mine]
    return {
        "command": label,
        "times": times,
        "median": statistics.median(times),
        "mean": statistics.mean(times),
        "stddev": statistics.stdev(times) if len(times) > 1 else 0.0,
        "min": min(times),
        "max": max(times),
        "user": statistics.mean(item["user"] for item in mine),
        "system": statistics.mean(item["system"] for item in mine),
    }


def stat(invocation: dict, label: str, name: str) -> float:
    item = next(item for item in invocation["results"] if item["command"] == label)
    return item["user"] + item["system"] if name == "cpu" else item[name]


def figure(
    key: str, title: str, invocation: dict, measured: str, baseline: str, target: float, ok: bool = True
) -> dict:
    """`measured` against `baseline` (command names) in one invocation: the ratio of the medians of wall time, and
    of the means of CPU time (user + system, less disturbed by the other jobs on the machine)."""
    value, base = stat(invocation, measured, "median"), stat(invocation, baseline, "median")
    cpu_ratio = stat(invocation, measured, "cpu") / stat(invocation, baseline, "cpu")
    return {
        "key": key, "title": title, "invocation": invocation["name"], "measured": measured, "baseline": baseline,
        "value_s": value, "baseline_s": base, "ratio": value / base, "cpu_ratio": cpu_ratio, "target": target,
        "met": value / base <= target and ok,
    }  # fmt: skip


def checks_of(tmp: Path, targets: dict[str, Path]) -> dict[str, list[dict]]:
    """Every check record (one per run) of each command, from checks.jsonl."""
    path = tmp / "checks.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return {label: [item for item in records if item["target"] == target.name] for label, target in targets.items()}


class Bench:
    def __init__(self, plan: Plan, rounds: int | None, tmp: Path) -> None:
        self.plan, self.rounds, self.tmp = plan, rounds, tmp  # rounds: the plan's unless given
        self.results: dict = {"invocations": [], "figures": [], "profiles": {}}

    def profile(self, title: str, work: Path, *args: str) -> None:
        """One more, untimed, run of `retrain ARGS` under pyinstrument: where the engine's own time goes."""
        report = work.parent / "profile.txt"
        with open(work.parent / sandbox.LOG, "w") as output:
            subprocess.run(
                [PYTHON, "-m", "pyinstrument", "-r", "text", "--no-color", "-o", report, "-m", "retrain.cli", *args],
                cwd=work,
                env=base_env(),
                stdout=output,
                stderr=subprocess.STDOUT,
                check=True,
            )
        self.results["profiles"][title] = report.read_text()

    def peer(self, rows: int, base: Path) -> None:
        """Figure a at `rows`; at the largest size, b and d too, in the same invocation."""
        largest = rows == max(self.plan.peer_sizes)
        log(f"template: new batch of {rows:,} rows")
        tpl = sandbox.template(base, rows, self.tmp / f"template-{rows}")
        tag = json.loads((tpl / sandbox.EXPECTED).read_text())["tag"]
        kinds = {"plain CI sequence": "plain", "retrain run --push": "retrain-push"}
        if largest:
            kinds |= {"bare compute": "bare", "retrain run": "retrain"}
            log("merge template: pull request built, merged, cloned")
            merge_tpl = sandbox.merge_template(tpl, self.tmp)
            kinds["merge build (retrain run)"] = "merge"
        targets = {label: self.tmp / f"{kind}-{rows}" for label, kind in kinds.items()}
        commands = []
        for label, kind in kinds.items():
            target = targets[label]
            source = merge_tpl if kind == "merge" else tpl
            prepare = f"{shlex.quote(PYTHON)} -m benchmarks.sandbox {kind} {source} {target}"
            work = f"cd {target}/work && "
            command = {
                "plain": f"{work}bash {BENCH}/plain.sh {tag} > ../{sandbox.LOG} 2>&1",
                "retrain-push": f"{work}{RETRAIN} run --push > ../{sandbox.LOG} 2>&1",
                "retrain": f"{work}{RETRAIN} run > ../{sandbox.LOG} 2>&1",
                "merge": f"{work}{RETRAIN} run > ../{sandbox.LOG} 2>&1",
                "bare": f"cd {tpl}/work && PYTHONPATH=src {PYTHON} {BENCH}/bare.py data/raw {target} "
                f"> {target}/{sandbox.LOG} 2>&1",
            }[kind]
            commands.append((label, command, prepare))
        log(f"hyperfine at {rows:,} rows: {', '.join(kinds)}")
        rounds = self.rounds or self.plan.rounds[self.plan.peer_sizes.index(rows)]
        invocation = hyperfine(f"rows-{rows}", commands, rounds, self.tmp)
        for label, kind in kinds.items():  # the last run of each command (the earlier ones were checked by --prepare)
            sandbox.check(kind, targets[label])
        invocation["checks"] = checks_of(self.tmp, targets)
        if rows == min(self.plan.peer_sizes):
            log(f"pyinstrument: retrain run --push at {rows:,} rows")
            target = self.tmp / f"profile-{rows}"
            sandbox.prepare("retrain-push", tpl, target)
            self.profile(f"`retrain run --push`, {rows:,} new rows", target / "work", "run", "--push")
            sandbox.check("retrain-push", target)
            shutil.rmtree(target)
        invocation["rows"] = rows
        self.results["invocations"].append(invocation)
        size = "large" if largest else "small"
        title = f"`retrain run --push` vs the plain CI sequence, {rows:,} new rows"
        add = self.results["figures"].append
        add(figure("a", title, invocation, "retrain run --push", "plain CI sequence", PEER_TARGET[size]))
        if largest:
            title = f"`retrain run` vs bare compute, {rows:,} new rows"
            add(figure("b", title, invocation, "retrain run", "bare compute", BARE_TARGET))
            merges = invocation["checks"]["merge build (retrain run)"]
            title = f"merge build vs full `retrain run`, {rows:,} new rows (fresh clone, empty cache; train not run)"
            trained = any("train" in item["ran"] for item in merges)
            add(figure("d", title, invocation, "merge build (retrain run)", "retrain run", MERGE_TARGET, not trained))
            self.noop(targets["retrain run"])
        for target in targets.values():
            shutil.rmtree(target, ignore_errors=True)
        shutil.rmtree(tpl)
        if largest:
            shutil.rmtree(merge_tpl)
            shutil.rmtree(self.tmp / "merge-pr")

    def noop(self, released: Path) -> None:
        """Figure c: in the sandbox the last `retrain run` released, nothing changed since."""
        work = f"cd {released}/work && "
        commands = [
            ("dvc status", f"{work}{VENV_BIN / 'dvc'} status", None),
            ("no-op retrain run", f"{work}{RETRAIN} run 2>> ../{NOOP_LOG}", None),
        ]
        for _, command, _ in commands:  # warm-up, untimed
            subprocess.run(["/bin/sh", "-c", command], env=base_env(), stdout=subprocess.DEVNULL, check=True)
        log("hyperfine: no-op retrain run vs dvc status")
        invocation = hyperfine("noop", commands, self.plan.noop_rounds, self.tmp)
        runs = [
            chunk for chunk in re.split(r"(?m)^(?=\[1/\d+\] .* \.\.\.$)", (released / NOOP_LOG).read_text()) if chunk
        ]
        records = [{"steps": sandbox.steps(run), "reproduced": sandbox.REPRODUCED.findall(run)} for run in runs]
        status = json.loads((released / "work/reports/run.json").read_text())["status"]
        dvc_says = subprocess.run(
            [VENV_BIN / "dvc", "status"], cwd=released / "work", capture_output=True, text=True, check=True
        ).stdout.strip()
        quiet = len(runs) == self.plan.noop_rounds + 1 and all(
            record["reproduced"] == ["nothing changed: no stage ran"] for record in records
        )
        if not quiet or status != "up_to_date" or "up to date" not in dvc_says:
            raise RuntimeError(f"the no-op run did something: status {status}, dvc status {dvc_says!r}, {records}")
        for record in records:
            record["reproduced"] = record["reproduced"][0]
        invocation["checks"] = {"no-op retrain run": records}
        invocation["dvc_status_says"] = dvc_says
        log("pyinstrument: no-op retrain run")
        self.profile("no-op `retrain run`", released / "work", "run")
        self.results["invocations"].append(invocation)
        title = "no-op `retrain run` vs `dvc status`"
        self.results["figures"].append(figure("c", title, invocation, "no-op retrain run", "dvc status", NOOP_TARGET))

    def memory(self, base: Path) -> None:
        """Figure e: each stage's command, as dvc.yaml states it, run by the shell as DVC runs it; peak RSS of its
        process tree from wait4 (the largest single process)."""
        rows = self.plan.memory_rows
        log(f"template: new batch of {rows:,} rows (memory)")
        home = sandbox.template(base, rows, self.tmp / f"template-{rows}")
        work = home / "work"
        csv_bytes = sum(path.stat().st_size for path in (work / "data/raw").glob("*.csv"))
        stages = yaml.safe_load((work / "dvc.yaml").read_text())["stages"]
        measured = {}
        for name in sandbox.STAGES:
            log(f"memory at {rows:,} rows: stage {name}")
            began = time.perf_counter()
            process = subprocess.Popen(
                ["/bin/sh", "-c", stages[name]["cmd"]],
                cwd=work,
                env=base_env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            stderr = process.stderr.read() if process.stderr else b""
            _, status, usage = os.wait4(process.pid, 0)
            if os.waitstatus_to_exitcode(status):
                raise RuntimeError(f"stage {name} failed: {stderr.decode()[-3000:]}")
            measured[name] = {"peak_rss_bytes": usage.ru_maxrss * 1024, "wall_s": time.perf_counter() - began}
        shutil.rmtree(home)
        worst = max(measured, key=lambda name: measured[name]["peak_rss_bytes"])
        ratio = measured[worst]["peak_rss_bytes"] / csv_bytes
        self.results["memory"] = {"rows": rows, "csv_bytes": csv_bytes, "stages": measured, "load_after": loadavg()}
        self.results["figures"].append(
            dict(
                key="e",
                title=f"peak RSS of the largest stage ({worst}) vs the raw CSV, {rows:,} new rows",
                value_bytes=measured[worst]["peak_rss_bytes"],
                baseline_bytes=csv_bytes,
                ratio=ratio,
                target=MEMORY_TARGET,
                met=ratio <= MEMORY_TARGET,
            )
        )


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    found |= {name: metadata.version(name) for name in ("dvc", "pandas", "numpy", "scikit-learn", "pyarrow")}
    for tool in ("hyperfine", "git"):
        found[tool] = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout.split()[-1]
    return found


def machine() -> dict:
    info = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    memory = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line)
    return {
        "cpus": len(os.sched_getaffinity(0)),
        "cpu": model,
        "memory_gib": round(int(memory) / 2**20, 1),
        "kernel": platform.release(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small data (2k/10k rows, memory at 20k), < 5 min")
    parser.add_argument("--rounds", type=int, help="timed runs of each command, in turn (default: the plan's)")
    parser.add_argument("--workdir", type=Path, help="where the sandboxes go (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the sandboxes")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    stem = BENCH / ("results-quick" if args.quick else "results")
    tmp = Path(tempfile.mkdtemp(prefix="retrain-bench-", dir=args.workdir))
    os.environ["DVC_SITE_CACHE_DIR"] = str(tmp / "dvc-site-cache")  # DVC's per-repository state, reset per run
    bench = Bench(plan, args.rounds, tmp)
    started = time.time()
    git = ["git", "-C", str(REPO_ROOT)]
    bench.results |= {
        "mode": plan.mode,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "commit": subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip(),
        "uncommitted": subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
        ).stdout.splitlines(),
        "machine": machine() | {"load_at_start": loadavg()},
        "versions": versions(),
    }
    log(f"{plan.mode} mode, sandboxes in {tmp}")
    failed = False
    try:
        log("base sandbox: clone, bare origin, local DVC remote, release v1 on the bundled batch")
        base = sandbox.base(tmp)
        for rows in plan.peer_sizes:
            bench.peer(rows, base)
        bench.memory(base)
    except Exception:
        failed = True
        bench.results["error"] = traceback.format_exc()
        log(f"failed:\n{bench.results['error']}")
    finally:
        bench.results["machine"]["load_at_end"] = loadavg()
        bench.results["duration_s"] = time.time() - started
        stem.with_suffix(".json").write_text(json.dumps(bench.results, indent=1) + "\n")
        stem.with_suffix(".md").write_text(render.render(bench.results))
        if args.keep:
            log(f"sandboxes kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    log(f"wrote {stem}.md and .json in {time.time() - started:.0f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
