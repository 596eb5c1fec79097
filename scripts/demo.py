"""The seed's story end to end, in a throwaway sandbox: v1; new data, v2; restore v1 whole; v1's data with
today's code; a bad delivery stopped by the gate; the releases table.

    python scripts/demo.py [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the sandbox and print where it is")
    args = parser.parse_args()
    sandbox = Path(tempfile.mkdtemp(prefix="retrain-demo-"))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "RETRAIN_REMOTE": "local"}
    started = time.perf_counter()

    def step(title: str) -> None:
        print(f"\n=== {title}  (t+{time.perf_counter() - started:.0f}s)", flush=True)

    def run(*command: str, expect: int = 0) -> str:
        print(f"$ {' '.join(command)}", flush=True)
        result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, check=False)
        last = (result.stdout.strip() or result.stderr.strip()).splitlines()
        if result.returncode != expect:
            print(result.stdout + result.stderr, file=sys.stderr)
            raise SystemExit(f"demo: `{' '.join(command)}` exited {result.returncode}, expected {expect}")
        if result.returncode:
            last = result.stderr.strip().splitlines()
        print(f"  -> {last[-1] if last else '(no output)'}", flush=True)
        return result.stdout

    try:
        origin = sandbox / "origin.git"
        subprocess.run(["git", "clone", "--quiet", "--bare", str(REPO), str(origin)], check=True)
        work = sandbox / "work"
        subprocess.run(["git", "clone", "--quiet", str(origin), str(work)], check=True)
        run("git", "switch", "--quiet", "-c", "develop")
        run("retrain", "setup")
        run("dvc", "remote", "modify", "--local", "local", "url", str(sandbox / "dvc-storage"))

        step("1. First release: data materialised from scikit-learn, pipeline reproduced, model@v1.0.0")
        run("retrain", "run")

        step("2. New data arrives: a new batch, dvc add, commit, retrain -> minor bump")
        run("python", "scripts/simulate_new_data.py", "--rows", "500", "--seed", "1")
        run("dvc", "add", "data/raw")
        run("git", "commit", "--quiet", "-m", "data: second delivery", "data/raw.dvc")
        run("retrain", "run", "--note", "second delivery")

        step("3. Revert to a safe snapshot: restore model@v1.0.0 whole (code + data + model)")
        run("retrain", "restore", "model@v1.0.0")
        run("git", "switch", "--quiet", "develop")  # the post-checkout hook brings today's data back

        step("4. Today's code, v1's data (EDA on an old dataset)")
        run("retrain", "restore", "model@v1.0.0", "--only", "data")
        run("git", "checkout", "HEAD", "--", "data/raw.dvc")  # HEAD: the index holds v1.0.0's file now
        run("dvc", "checkout", "data/raw.dvc")

        step("5. A bad delivery (60% wrong labels) is stopped by the quality gate: exit 3, no tag")
        run("python", "scripts/simulate_new_data.py", "--rows", "4000", "--label-noise", "0.6", "--seed", "2")
        run("dvc", "add", "data/raw")
        run("git", "commit", "--quiet", "-m", "data: bad delivery", "data/raw.dvc")
        run("retrain", "run", expect=3)

        step("6. The releases")
        print(run("retrain", "releases"))
        print(f"demo finished in {time.perf_counter() - started:.0f}s")
    finally:
        if args.keep:
            print(f"sandbox kept at {sandbox}")
        else:
            shutil.rmtree(sandbox, ignore_errors=True)


if __name__ == "__main__":
    main()
