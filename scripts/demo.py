"""The seed's story end to end, in a throwaway sandbox: v1; new data, v2; restore v1 whole; v1's data with
today's code; deliveries in a landing folder ingested onto a branch, reviewed, merged and released, a bad one
quarantined with its reason; a bad delivery stopped by the gate; the releases table.

The sandbox holds this clone's committed tree (HEAD) as a fresh history on its own `develop`, whatever branches
and tags this clone has.

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

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BRANCH = "develop"
INGEST_BRANCH = "ingest/landing"  # `retrain ingest drops/landing`'s branch: one per landing
# git sets some of these for its hooks (a pre-push hook running the tests): they would aim the sandbox's git
# at this clone.
GIT_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY")


class DemoError(Exception):
    """A command of the demo did not do what the story needs; the message says which and what it printed."""


def sandbox_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in GIT_LOCATION_VARS}
    return {**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}", "RETRAIN_REMOTE": "local"}


def _call(*command: str, cwd: Path, stdin: bytes | None = None) -> bytes:
    result = subprocess.run(command, cwd=cwd, env=sandbox_env(), input=stdin, capture_output=True, check=False)
    if result.returncode:
        raise DemoError(f"`{' '.join(command)}` exited {result.returncode}: {result.stderr.decode().strip()}")
    return result.stdout


def indented(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.strip().splitlines())


def make_sandbox(repo: Path, sandbox: Path) -> Path:
    """A user's clone of a fresh origin whose only branch, `develop`, holds `repo`'s HEAD tree in one commit.

    Built from `git archive`, not a clone: the caller's branches (a `develop` of their own), tags (their
    releases) and history stay out, so the story starts at v1.0.0 from any clone on any branch."""
    work = sandbox / "work"
    work.mkdir(parents=True)
    commit = _call("git", "rev-parse", "--short", "HEAD", cwd=repo).decode().strip()
    _call("tar", "-x", "-C", str(work), cwd=work, stdin=_call("git", "archive", "--format=tar", "HEAD", cwd=repo))
    _call("git", "init", "--quiet", "--initial-branch", BRANCH, cwd=work)
    # The sandbox is thrown away: a machine without a git identity (a fresh CI runner) can still run it.
    _call("git", "config", "user.name", "retrain demo", cwd=work)
    _call("git", "config", "user.email", "demo@example.invalid", cwd=work)
    _call("git", "add", "--all", cwd=work)
    _call("git", "commit", "--quiet", "-m", f"the project at {commit}", cwd=work)
    origin = sandbox / "origin.git"
    _call("git", "init", "--quiet", "--bare", "--initial-branch", BRANCH, str(origin), cwd=sandbox)
    _call("git", "remote", "add", "origin", str(origin), cwd=work)
    _call("git", "push", "--quiet", "--set-upstream", "origin", BRANCH, cwd=work)
    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the sandbox and print where it is")
    args = parser.parse_args()
    sandbox = Path(tempfile.mkdtemp(prefix="retrain-demo-"))
    env = sandbox_env()
    started = time.perf_counter()

    def step(title: str) -> None:
        print(f"\n=== {title}  (t+{time.perf_counter() - started:.0f}s)", flush=True)

    def run(*command: str, expect: int = 0) -> str:
        print(f"$ {' '.join(command)}", flush=True)
        result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, check=False)
        last = (result.stdout.strip() or result.stderr.strip()).splitlines()
        if result.returncode != expect:
            print(result.stdout + result.stderr, file=sys.stderr)
            raise DemoError(f"`{' '.join(command)}` exited {result.returncode}, expected {expect}")
        if result.returncode:
            last = result.stderr.strip().splitlines()
        print(f"  -> {last[-1] if last else '(no output)'}", flush=True)
        return result.stdout

    def deliver(simulated: str, what: str) -> None:
        """The README's way: `dvc add` the new batch, commit its .dvc file."""
        batch = simulated.split("wrote ", 1)[1].split(" (", 1)[0]
        run("dvc", "add", batch)
        run("git", "add", f"{batch}.dvc")
        run("git", "commit", "--quiet", "-m", f"data: {what}")

    try:
        work = make_sandbox(REPO, sandbox)
        run("git", "log", "--oneline", "--decorate")
        run("retrain", "setup")
        run("dvc", "remote", "modify", "--local", "local", "url", str(sandbox / "dvc-storage"))

        step("1. First release: data materialised from scikit-learn, pipeline reproduced, model@v1.0.0")
        run("retrain", "run")

        step("2. New data arrives: a new batch, dvc add, commit, retrain -> minor bump")
        deliver(run("python", "scripts/simulate_new_data.py", "--rows", "500", "--seed", "1"), "second delivery")
        run("retrain", "run", "--note", "second delivery")

        step("3. Revert to a safe snapshot: restore model@v1.0.0 whole (code + data + model)")
        run("retrain", "restore", "model@v1.0.0")
        run("git", "switch", "--quiet", "develop")  # the post-checkout hook brings today's data back

        step("4. Today's code, v1's data (EDA on an old dataset)")
        run("retrain", "restore", "model@v1.0.0", "--only", "data")
        run("git", "checkout", "HEAD", "--", "data/raw")  # today's batches back (the index holds v1.0.0's now)
        run("dvc", "checkout")

        step("5. Deliveries land in a folder: `retrain ingest` puts the good one on a branch, quarantines the bad")
        landing = sandbox / "drops" / "landing"
        run("python", "scripts/simulate_new_data.py", "--rows", "300", "--seed", "3", "--to", str(landing))
        run("python", "scripts/simulate_new_data.py", "--rows", "50", "--seed", "4", "--to", str(landing), "--corrupt")
        ingested = run("retrain", "ingest", str(landing))
        print(indented("\n".join(ingested.replace(f"{landing}/", "").splitlines()[:-1])))
        for reason in sorted((landing.parent / "rejected").glob("*.reason.yaml")):
            said = yaml.safe_load(reason.read_text())["reason"].replace(f"{landing}/", "")
            print(f"  quarantined in {reason.parent.relative_to(sandbox)}/, {reason.name} says: {said}")

        step("6. Review: the pull-request report of the ingest branch against develop, reproduced on it")
        run("git", "switch", "--quiet", INGEST_BRANCH)
        run("retrain", "report", "--base", BRANCH, "--reproduce")
        print(indented("\n".join((work / "reports/report.md").read_text().splitlines()[:3])))
        run("git", "reset", "--quiet", "--hard")  # what the reproduction changed is the reviewer's, not the branch's
        run("git", "switch", "--quiet", BRANCH)

        step("7. Merged (the pull request's button), then released: minor bump")
        run("git", "merge", "--quiet", "--no-ff", "-m", f"Merge {INGEST_BRANCH} (reviewed)", INGEST_BRANCH)
        run("retrain", "run", "--note", "ingested delivery")

        step("8. A bad delivery (60% wrong labels) is stopped by the quality gate: exit 3, no tag")
        deliver(
            run("python", "scripts/simulate_new_data.py", "--rows", "4000", "--label-noise", "0.6", "--seed", "2"),
            "bad delivery",
        )
        run("retrain", "run", expect=3)

        step("9. The releases")
        print(run("retrain", "releases"))
        print(f"demo finished in {time.perf_counter() - started:.0f}s")
    except (DemoError, OSError) as error:
        raise SystemExit(f"demo: {error}") from None
    except KeyboardInterrupt:
        raise SystemExit("demo: interrupted") from None
    finally:
        if args.keep:
            print(f"sandbox kept at {sandbox}")
        else:
            shutil.rmtree(sandbox, ignore_errors=True)


if __name__ == "__main__":
    main()
