"""What the benchmark stands on: timed commands with their peak memory, sandboxes of the project, the machine.

Every measured thing is a real command (`retrain run`, `dvc status`, `dvc push`, a Python process running the
stage functions) in a real git + DVC sandbox; nothing is mocked.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # the tests' helpers: one definition of the user's environment and of moto's S3

from tests.helpers import base_env as user_env  # noqa: E402 (needs the line above)

BENCH_DIR = REPO_ROOT / "benchmarks"
PROBE_DIR = BENCH_DIR / "probe"
VENV_BIN = Path(sys.executable).parent
PYTHON = sys.executable
BRANCH = "develop"
NOT_COPIED = ("tests/", "benchmarks/", "reports/")  # what a user's fork needs to run the pipeline
STAGE_SCRIPTS = {"src/preprocessing.py": "preprocessing", "src/train.py": "train", "src/evaluate.py": "evaluate"}
STEP_LINE = re.compile(r"^\[\d+/\d+\] (.+): (\d+\.\d+)s$")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the machine ------------------------------------------------------------------------------------------
def _cpu_busy_seconds() -> float:
    """Seconds of CPU time spent by every process on the machine since boot (all cores, steal included)."""
    with open("/proc/stat") as handle:
        values = [int(value) for value in handle.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def _load1() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def machine() -> dict:
    cpu_model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    mem_kib = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(mem_kib / 2**20, 1),
        "kernel": platform.release(),
        "load_at_start": Path("/proc/loadavg").read_text().split()[:3],
    }


def versions() -> dict:
    found = {"python": platform.python_version()}
    for package in ("dvc", "dvc-s3", "pandas", "numpy", "scikit-learn", "pyarrow", "boto3", "moto", "psutil"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    found["git"] = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False).stdout.split()[-1]
    return found


# --- timed commands ---------------------------------------------------------------------------------------
@dataclass
class ProcessRecord:
    """One Python process of a measured command, as the probe saw it."""

    pid: int
    ppid: int
    started: float
    ended: float
    maxrss_kib: int
    cpu_s: float
    argv: list[str]

    @property
    def wall(self) -> float:
        return self.ended - self.started

    @property
    def stage(self) -> str | None:
        return STAGE_SCRIPTS.get(self.argv[0]) if self.argv else None


@dataclass
class Timed:
    """A finished command: wall and CPU time of its whole process tree, its peak RSS, and what it printed."""

    label: str
    args: list[str]
    wall: float
    cpu_s: float  # user + system of the command and every descendant it waited for
    maxrss_kib: int  # the largest peak RSS of any single process in the tree
    returncode: int
    stdout: str
    stderr: str
    foreign_cpu_s: float  # CPU time spent meanwhile by processes outside this command: the noise
    processes: list[ProcessRecord] = field(default_factory=list)

    @property
    def stages(self) -> dict[str, ProcessRecord]:
        return {record.stage: record for record in self.processes if record.stage}

    def steps(self) -> dict[str, float]:
        """`retrain run`'s own per-step timings (its progress lines on stderr)."""
        found: dict[str, float] = {}
        for line in self.stderr.splitlines():
            if match := STEP_LINE.match(line.strip()):
                found[match.group(1)] = found.get(match.group(1), 0.0) + float(match.group(2))
        return found

    def summary(self) -> dict:
        return {
            "wall_s": round(self.wall, 3),
            "cpu_s": round(self.cpu_s, 3),
            "maxrss_mib": round(self.maxrss_kib / 1024, 1),
            "foreign_cpu_s": round(self.foreign_cpu_s, 2),
        }


class CommandFailed(RuntimeError):
    pass


def timed(label: str, args: list[str], cwd: Path, env: dict[str, str], check: bool = True) -> Timed:
    """Run `args` to completion; wall time around it, rusage of its tree from wait4, per-process probe records."""
    probe_dir = Path(tempfile.mkdtemp(prefix="probe-", dir=env.get("BENCH_TMP")))
    run_env = dict(env, BENCH_PROBE_DIR=str(probe_dir))
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        busy_before = _cpu_busy_seconds()
        began = time.perf_counter()
        process = subprocess.Popen(args, cwd=cwd, env=run_env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - began
        busy = _cpu_busy_seconds() - busy_before
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    cpu = usage.ru_utime + usage.ru_stime
    records = []
    for path in sorted(probe_dir.glob("*.tsv")):
        parts = path.read_text().rstrip("\n").split("\t")
        if len(parts) != 8:
            continue
        pid, ppid, started, ended, rss, utime, stime, argv = parts
        records.append(
            ProcessRecord(
                int(pid),
                int(ppid),
                float(started),
                float(ended),
                int(rss),
                float(utime) + float(stime),
                argv.split("\x1f"),
            )
        )
    shutil.rmtree(probe_dir, ignore_errors=True)
    result = Timed(
        label, args, wall, cpu, usage.ru_maxrss, process.returncode, stdout, stderr, max(busy - cpu, 0.0), records
    )
    if check and process.returncode != 0:
        raise CommandFailed(
            f"{label}: `{' '.join(args)}` exited {process.returncode}\n{stdout[-2000:]}\n{stderr[-4000:]}"
        )
    return result


def sh(args: list[str], cwd: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    """An unmeasured helper command (setup and teardown)."""
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise CommandFailed(f"`{' '.join(args)}` exited {result.returncode}\n{result.stdout[-2000:]}\n{result.stderr}")
    return result


# --- statistics -------------------------------------------------------------------------------------------
def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> dict:
    return {
        "median": round(median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
        "samples": [round(value, 3) for value in values],
    }


# --- sandboxes --------------------------------------------------------------------------------------------
def base_env(tmp: Path) -> dict[str, str]:
    """A user's environment after `make` (as the tests have it), with the probe loadable and DVC's site cache
    inside the sandbox tree."""
    env = dict(user_env(), PYTHONPATH=str(PROBE_DIR), BENCH_TMP=str(tmp))
    env.pop("VIRTUAL_ENV", None)
    env["DVC_SITE_CACHE_DIR"] = str(tmp / "dvc-site-cache")  # keep DVC's per-repo index inside the sandbox tree
    return env


def project_files(source: Path) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=source,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [name for name in out if name and not name.startswith(NOT_COPIED) and (source / name).is_file()]


@dataclass
class Sandbox:
    """A project checkout (`repo/`) and its local DVC remote (`remote/`) under one folder, so it copies whole."""

    home: Path
    env: dict[str, str]

    @property
    def repo(self) -> Path:
        return self.home / "repo"

    @property
    def remote(self) -> Path:
        return self.home / "remote"

    @property
    def run_env(self) -> dict[str, str]:
        """Every process in the sandbox imports the sandbox's own `retrain` (as its stage scripts do)."""
        return dict(self.env, PYTHONPATH=f"{PROBE_DIR}{os.pathsep}{self.repo / 'src'}")

    def sh(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return sh(list(args), self.repo, self.run_env, check)

    def git(self, *args: str) -> str:
        return self.sh("git", *args).stdout.strip()

    def dvc(self, *args: str) -> str:
        return self.sh(str(VENV_BIN / "dvc"), *args).stdout

    def retrain(self, *args: str) -> str:
        return self.sh(str(VENV_BIN / "retrain"), *args).stdout

    def timed(self, label: str, *args: str, check: bool = True) -> Timed:
        return timed(label, list(args), self.repo, self.run_env, check)

    def copy(self, home: Path) -> Sandbox:
        """A byte-for-byte copy (git, DVC cache and remote included); the remote URL is relative, so it follows."""
        shutil.copytree(self.home, home, symlinks=True)
        return Sandbox(home, self.env)

    def remove(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    def add_batch(self, rows: int, seed: int) -> Path:
        """A new delivery, the way the README says: simulate, dvc add, git commit."""
        out = self.sh(PYTHON, "scripts/simulate_new_data.py", "--rows", str(rows), "--seed", str(seed)).stdout
        path = self.repo / out.split("wrote ", 1)[1].split(" (", 1)[0]
        self.dvc("add", "data/raw")
        self.git("add", "data/raw.dvc")
        self.git("commit", "--quiet", "-m", f"data: add {path.name}")
        return path

    def raw_bytes(self) -> int:
        return sum(path.stat().st_size for path in (self.repo / "data/raw").iterdir() if path.is_file())

    def run_summary(self) -> dict:
        return json.loads((self.repo / "reports/run.json").read_text())


def new_sandbox(home: Path, env: dict[str, str], source: Path = REPO_ROOT) -> Sandbox:
    """The project as in `source`'s working tree (tracked + untracked, not ignored), committed on `develop`."""
    box = Sandbox(home, env)
    for name in project_files(source):
        target = box.repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / name, target)
    box.remote.mkdir(parents=True)
    box.git("init", "--quiet", "--initial-branch", BRANCH)
    box.git("add", "--all")
    box.git("commit", "--quiet", "-m", "project as in the working tree")
    box.retrain("setup")
    # relative (DVC stores it relative to .dvc/), so that a copied sandbox uses its own copy of the remote
    box.dvc("remote", "modify", "--local", "local", "url", "../remote")
    return box
