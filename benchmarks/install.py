"""Install times on this machine, side by side in one run, same lock: pip vs uv, cold and warm, and a no-op make.

    python benchmarks/install.py [--lock requirements-dev.lock] [--pip-runs 2] [--uv-runs 5] [--noop-runs 20]

Each install case puts the lock into a new, empty venv (made by hyperfine's --prepare, not timed):
  pip cold    pip install --require-hashes -r LOCK with an empty --cache-dir
  pip warm    the same with the cache that the cold runs filled
  uv cold     uv pip sync --require-hashes LOCK with an empty --cache-dir
  uv warm     the same with the cache that the cold runs filled
  no-op make  `make` in this checkout, .venv up to date
pip is the locked one in .venv (requirements-dev.lock) and, like uv, sees only PyPI: this machine's pip
configuration (extra indexes, find-links, constraints) is switched off. Timed with hyperfine when it is
installed (`apt-get install hyperfine`), else with a plain loop. Writes benchmarks/install-results.json
and benchmarks/install-results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
OUT = ROOT / "benchmarks"


def cases(lock: Path, tmp: Path, runs: dict[str, int]) -> list[dict]:
    def q(path: Path | str) -> str:
        return shlex.quote(str(path))

    venv, pip_cache, uv_cache = tmp / "venv", tmp / "pip-cache", tmp / "uv-cache"
    new_venv = f"rm -rf {q(venv)} && {q(sys._base_executable)} -m venv --without-pip {q(venv)}"
    target = f"--python {q(venv / 'bin' / 'python')}"
    pip = (
        f"{q(BIN / 'python')} -m pip {target} install --quiet --require-hashes -r {q(lock)} --cache-dir {q(pip_cache)}"
    )
    # The same flags as `make` (Makefile, SYNC).
    uv = f"{q(BIN / 'uv')} pip sync --quiet --require-hashes --build-constraints {q(ROOT / 'requirements.lock')}"
    uv += f" --require-build-hashes --preview-features build-dependency-hashes {target}"
    uv += f" --cache-dir {q(uv_cache)} {q(lock)}"
    return [
        {"name": "pip cold", "runs": runs["pip"], "prepare": f"rm -rf {q(pip_cache)}; {new_venv}", "command": pip},
        {"name": "pip warm", "runs": runs["pip"], "prepare": new_venv, "command": pip},
        {"name": "uv cold", "runs": runs["uv"], "prepare": f"rm -rf {q(uv_cache)}; {new_venv}", "command": uv},
        {"name": "uv warm", "runs": runs["uv"], "prepare": new_venv, "command": uv},
        # Milliseconds: run directly, not through a shell whose start-up would dwarf it.
        {
            "name": "no-op make",
            "runs": runs["noop"],
            "prepare": "true",
            "command": f"make -s -C {q(ROOT)}",
            "shell": "none",
        },
    ]


def measure(case: dict, tmp: Path, env: dict) -> dict:
    """hyperfine's result for one case (mean, stddev, min, max, times in seconds)."""
    if shutil.which("hyperfine"):
        export = tmp / "case.json"
        hyperfine = ["hyperfine", "--style", "basic", "--runs", str(case["runs"]), "--prepare", case["prepare"]]
        hyperfine += ["--command-name", case["name"], "--export-json", str(export), case["command"]]
        hyperfine += ["--shell", case["shell"]] if "shell" in case else []
        subprocess.run(hyperfine, env=env, check=True)
        return json.loads(export.read_text())["results"][0]
    times = []
    for _ in range(case["runs"]):
        subprocess.run(case["prepare"], shell=True, env=env, check=True)  # noqa: S602 (our own command lines)
        started = time.perf_counter()
        subprocess.run(case["command"], shell=True, env=env, check=True)  # noqa: S602
        times.append(time.perf_counter() - started)
    print(f"{case['name']}: {statistics.mean(times):.2f} s over {len(times)} runs")
    spread = statistics.stdev(times) if len(times) > 1 else 0.0
    summary = {"mean": statistics.mean(times), "stddev": spread, "min": min(times), "max": max(times)}
    return {"command": case["name"], **summary, "times": times}


def version(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip().splitlines()[0]


def report(results: dict, lock: str, info: dict) -> str:
    def cell(name: str) -> str:
        r = results[name]
        spread = r["stddev"] or 0.0  # hyperfine gives none for a single run
        return f"| {name} | {r['mean']:.3f} ± {spread:.3f} | {r['min']:.3f} | {r['max']:.3f} | {len(r['times'])} |"

    speedup = results["pip cold"]["mean"] / results["uv cold"]["mean"]
    warm, noop = results["uv warm"]["mean"], results["no-op make"]["mean"]
    verdict = [
        ("uv cold at least 10x faster than pip cold", f"{speedup:.1f}x", speedup >= 10),
        ("uv warm under 10 s", f"{warm:.2f} s", warm < 10),
        ("no-op `make` under 1 s", f"{noop:.3f} s", noop < 1),
    ]
    lines = [
        "# Install benchmark (`make bench-install`)",
        "",
        f"Measured {info['date']} on {info['machine']}, one run of benchmarks/install.py ({info['timer']}).",
        f"Lock: `{lock}` ({info['packages']} packages), installed into a new empty venv each run.",
        f"{info['pip']}; {info['uv']}. pip sees only PyPI, like uv (this machine's pip configuration is off).",
        f"Load average (1 min) {info['load']}: anything else running on the machine slows every case.",
        "",
        "| case | mean ± sd (s) | min (s) | max (s) | runs |",
        "|---|---|---|---|---|",
        *(cell(name) for name in results),
        "",
        "| target | measured | met |",
        "|---|---|---|",
        *(f"| {what} | {value} | {'yes' if ok else '**no**'} |" for what, value, ok in verdict),
        "",
        "Cold: empty cache, every wheel downloaded from PyPI. Warm: the cache the cold runs filled, new venv.",
        "pip also compiles bytecode while installing; uv leaves that to the first import.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", default="requirements-dev.lock")
    parser.add_argument("--pip-runs", type=int, default=2)
    parser.add_argument("--uv-runs", type=int, default=5)
    parser.add_argument("--noop-runs", type=int, default=20)
    args = parser.parse_args(argv)
    lock = ROOT / args.lock
    for needed in (lock, BIN / "uv", BIN / "python"):
        if not needed.exists():
            print(f"bench-install: {needed.relative_to(ROOT)} is missing; run `make install` first", file=sys.stderr)
            return 2
    if subprocess.run(["make", "--question", "-C", str(ROOT)], capture_output=True, check=False).returncode != 0:
        print("bench-install: .venv is not up to date; run `make` first (the no-op case needs it)", file=sys.stderr)
        return 2
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env |= {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "UV_NO_CONFIG": "1"}
    if "PIP_CERT" in os.environ:
        env["PIP_CERT"] = os.environ["PIP_CERT"]
    info = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "timer": version("hyperfine", "--version") if shutil.which("hyperfine") else "a plain loop (no hyperfine)",
        "packages": sum(1 for line in lock.read_text().splitlines() if line[:1].isalnum()),
        "pip": version(str(BIN / "python"), "-m", "pip", "--version").split(" from ")[0],
        "uv": version(str(BIN / "uv"), "--version").split(" (")[0],
        "load": f"{os.getloadavg()[0]:.1f}",
    }
    with tempfile.TemporaryDirectory(prefix="bench-install-") as scratch:
        tmp = Path(scratch)
        runs = {"pip": args.pip_runs, "uv": args.uv_runs, "noop": args.noop_runs}
        try:
            results = {case["name"]: measure(case, tmp, env) for case in cases(lock, tmp, runs)}
        except subprocess.CalledProcessError as error:
            print(f"bench-install: a case failed (exit {error.returncode}); its output is above", file=sys.stderr)
            return 1
    info["load"] = f"{info['load']} at the start, {os.getloadavg()[0]:.1f} at the end"
    (OUT / "install-results.json").write_text(json.dumps({"lock": args.lock, **info, "results": results}, indent=2))
    (OUT / "install-results.md").write_text(report(results, args.lock, info))
    print((OUT / "install-results.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
