"""What a `retrain ingest` run costs when one new delivery lands among 10 old keys, and among 10,000.

python benchmarks/ingest.py [--old 10 10000] [--runs 5]        (make bench-ingest)

For each size, a project of its own whose git records every old delivery (one batch .dvc file with its
`meta: ingest:` record each, as earlier runs would have left them; their data is never read, so it is not
uploaded), a landing prefix in moto's S3 (its own process) holding the old keys, and one new valid delivery
after them. Each run is `retrain ingest s3://bucket/landing-N/` (no --push), timed by hyperfine (a plain timer
without it); before each run the ingest branch is deleted, so that every run ingests the new delivery again.
The 10,000-key landing is also timed with `--rescan`, which lists the whole prefix: what the listing from the
last recorded key saves. The scenarios take turns, one run each per round after a warm-up round, so that a
shared machine's changing load falls on all of them alike. Writes benchmarks/ingest-results.md and .json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # the tests' helpers: one definition of the sandbox project and of moto's S3
sys.path.insert(0, str(REPO_ROOT / "src"))

from tests.helpers import S3_BUCKET, S3_ENV, bootstrap_s3, clone_project, make_seed_origin  # noqa: E402

RESULTS = REPO_ROOT / "benchmarks" / "ingest-results"
VENV_BIN = Path(sys.executable).parent
OLD_CONTENT = b"x"  # old deliveries are only listed, never read: their bytes do not matter
OLD_ETAG = hashlib.md5(OLD_CONTENT, usedforsecurity=False).hexdigest()


def log(message: str) -> None:
    print(f"[bench-ingest {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def start_moto() -> tuple[subprocess.Popen, str]:
    server = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "moto_server.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # its access log
        text=True,
    )
    port = server.stdout.readline().strip() if server.stdout else ""
    return server, f"http://127.0.0.1:{port}"


def old_key(size: int, index: int) -> str:
    return f"landing-{size}/2024/{index:05d}.csv"


def fill_landing(client, size: int, new_delivery: bytes) -> str:
    """`size` old keys and one new delivery after them; the new key."""
    keys = [old_key(size, index) for index in range(size)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda key: client.put_object(Bucket=S3_BUCKET, Key=key, Body=OLD_CONTENT), keys))
    new = f"landing-{size}/2025/00001-new.csv"
    client.put_object(Bucket=S3_BUCKET, Key=new, Body=new_delivery)
    return new


def record_old_deliveries(root: Path, size: int) -> None:
    """The git record earlier ingests would have left: one batch .dvc file per old delivery, on develop."""
    import yaml

    source = f"s3://{S3_BUCKET}/landing-{size}/"
    raw = root / "data" / "raw"
    last = old_key(size, size - 1)
    for index in range(size):
        name = f"batch-{index + 1:05d}-20240101T000000Z-{S3_BUCKET}-landing-{size}-2024_{index:05d}.csv"
        md5 = hashlib.md5(f"{size}-{index}".encode(), usedforsecurity=False).hexdigest()
        record = {
            "source": source,
            "key": old_key(size, index),
            "etag": OLD_ETAG,
            "version_id": None,
            "size": len(OLD_CONTENT),
            "delivered": "2024-01-01T00:00:00Z",
            "ingested": "2024-01-01T00:05:00Z",
            "listed_through": last,
        }
        document = {"outs": [{"md5": md5, "size": 1, "hash": "md5", "path": name}], "meta": {"ingest": record}}
        (raw / f"{name}.dvc").write_text(yaml.safe_dump(document, sort_keys=False))
    run(["git", "add", "data/raw"], root)
    run(["git", "commit", "--quiet", "-m", f"record {size} old deliveries"], root)


def run(args: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"{' '.join(args)} exited with {result.returncode}:\n{result.stderr[-3000:]}")
    return result


def time_once(root: Path, env: dict, command: list[str], branch: str) -> float:
    """Seconds of one run: hyperfine's measurement when installed, else a plain timer."""
    prepare = f"git branch -D {branch} >/dev/null 2>&1 || true"
    hyperfine = shutil.which("hyperfine")
    if hyperfine:
        export = root.parent / "hyperfine.json"
        options = ["--runs", "1", "--prepare", prepare, "--export-json", str(export), "--style", "none"]
        run([hyperfine, *options, " ".join(command)], root, env)
        return json.loads(export.read_text())["results"][0]["times"][0]
    subprocess.run(prepare, shell=True, cwd=root, env=env, check=False)  # noqa: S602 (our own constant)
    began = time.perf_counter()
    run(command, root, env)
    return time.perf_counter() - began


def stats(times: list[float]) -> dict:
    mean = sum(times) / len(times)
    spread = (sum((value - mean) ** 2 for value in times) / max(1, len(times) - 1)) ** 0.5
    ordered = sorted(times)
    return {"times": times, "mean": mean, "stddev": spread, "median": ordered[len(ordered) // 2]}


def one_run(root: Path, env: dict, command: list[str], branch: str) -> dict:
    """One more run, for what it listed and where its time went (the progress lines)."""
    run(["git", "branch", "-D", branch], root, env) if run_ok(["git", "rev-parse", branch], root) else None
    result = run(command, root, env)
    report = json.loads((root / "reports" / "ingest.json").read_text())
    steps = {}
    for line in result.stderr.splitlines():
        if line.startswith("[") and line.endswith("s") and "] " in line and ": " in line:
            name, seconds = line.split("] ", 1)[1].rsplit(": ", 1)
            steps[name] = float(seconds.rstrip("s"))
    return {"listed": report["listing"]["listed"], "summary": report["summary"], "steps": steps}


def run_ok(args: list[str], cwd: Path) -> bool:
    return subprocess.run(args, cwd=cwd, capture_output=True, check=False).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", type=int, nargs="+", default=[10, 10_000], help="old keys in the landing")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from pipeline.dataset import write_batch
    from pipeline.digits import simulate_batch

    where = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    server, endpoint = start_moto()
    results = []
    try:
        for key, value in S3_ENV.items():
            os.environ[key] = value
        bootstrap_s3(endpoint)
        import boto3

        client = boto3.client("s3", endpoint_url=endpoint)
        new_file = where / "new.csv"
        write_batch(simulate_batch(500, 0.0, 7), new_file)
        seed = make_seed_origin(where)
        scenarios = []
        for size in args.old:
            log(f"{size} old keys: filling the landing and the record")
            project = clone_project(seed, where / f"old-{size}")
            project.dvc("remote", "modify", "--local", "s3remote", "endpointurl", endpoint)
            env = {**project.env, **S3_ENV, "RETRAIN_REMOTE": "s3remote", "PYTHONPATH": str(REPO_ROOT / "src")}
            fill_landing(client, size, new_file.read_bytes())
            record_old_deliveries(project.root, size)
            source = f"s3://{S3_BUCKET}/landing-{size}/"
            branch = f"ingest/{S3_BUCKET}-landing-{size}"
            variants = [("incremental", [])] + ([("--rescan", ["--rescan"])] if size == max(args.old) else [])
            for label, extra in variants:
                command = [str(VENV_BIN / "retrain"), "ingest", source, *extra]
                scenarios.append(
                    {
                        "old_keys": size,
                        "listing": label,
                        "root": project.root,
                        "env": env,
                        "command": command,
                        "branch": branch,
                        "times": [],
                        "loads": [],
                    }
                )
        for round_number in range(args.runs + 1):  # round 0 warms up
            log(f"round {round_number} of {args.runs}" + (" (warm-up)" if round_number == 0 else ""))
            for scenario in scenarios:
                took = time_once(scenario["root"], scenario["env"], scenario["command"], scenario["branch"])
                if round_number:
                    scenario["times"].append(took)
                    scenario["loads"].append(os.getloadavg()[0])
        for scenario in scenarios:
            detail = one_run(scenario["root"], scenario["env"], scenario["command"], scenario["branch"])
            timing = stats(scenario["times"])
            load = sum(scenario["loads"]) / len(scenario["loads"])
            results.append(
                {
                    "old_keys": scenario["old_keys"],
                    "listing": scenario["listing"],
                    **timing,
                    **detail,
                    "tool": "hyperfine" if shutil.which("hyperfine") else "timer",
                    "load": load,
                }
            )
            log(
                f"{scenario['old_keys']} {scenario['listing']}: median {timing['median']:.2f}s, "
                f"listed {detail['listed']} key(s): {detail['summary']}"
            )
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=30)
        shutil.rmtree(where, ignore_errors=True)
    write_results(results, args.runs)


def write_results(results: list[dict], runs: int) -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at the end"
    Path(f"{RESULTS}.json").write_text(json.dumps({"machine": machine, "results": results}, indent=2) + "\n")
    rows = [
        "| old keys in the landing | listing | keys listed | median (s) | mean ± sd (s) | min-max (s) | load |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for item in results:
        spread = f"{min(item['times']):.2f}-{max(item['times']):.2f}"
        rows.append(
            f"| {item['old_keys']:,} | {item['listing']} | {item['listed']:,} | {item['median']:.2f} | "
            f"{item['mean']:.2f} ± {item['stddev']:.2f} | {spread} | {item['load']:.1f} |"
        )
    steps = sorted({name for item in results for name in item["steps"]}, key=_step_order)
    detail = ["| step | " + " | ".join(f"{i['old_keys']:,} {i['listing']}" for i in results) + " |"]
    detail.append("|---|" + "---:|" * len(results))
    for name in steps:
        cells = " | ".join(f"{item['steps'].get(name, 0.0):.2f}" for item in results)
        detail.append(f"| {name} | {cells} |")
    text = "\n".join(
        [
            "# `retrain ingest`: one new delivery among 10 old keys and among 10,000",
            "",
            f"`make bench-ingest` ({results[0]['tool'] if results else '?'}; {runs} rounds after a warm-up round, the",
            "scenarios taking turns in each; moto's S3 in its own process; " + f"{machine}; load: the 1-minute load",
            "average during the runs). Each run lists the landing, downloads, validates and uploads the one new",
            "delivery and commits it on the ingest branch (no `--push`); the old deliveries are all recorded in git",
            "(one batch .dvc file each).",
            "",
            *rows,
            "",
            "Where one run's time goes (seconds, from its progress lines):",
            "",
            *detail,
            "",
        ]
    )
    Path(f"{RESULTS}.md").write_text(text)
    log(f"wrote {RESULTS}.md")


def _step_order(name: str) -> int:
    order = ["preflight", "list", "download", "validate", "quarantine", "push data", "commit", "push to", "report"]
    return next((index for index, prefix in enumerate(order) if name.startswith(prefix)), len(order))


if __name__ == "__main__":
    main()
