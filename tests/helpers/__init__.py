"""Real-component sandboxes for the tests: a project clone with a bare `origin`, and moto's S3 server."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.helpers import dvcapi

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
BRANCH = "develop"
# What a user's fork holds; tests and benchmarks are not needed inside a sandbox project.
NOT_COPIED = ("tests/", "benchmarks/", "reports/")
S3_BUCKET = "dvc-exemplar"
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
    "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
}


@contextmanager
def s3_credentials() -> Iterator[None]:
    """moto's fake credentials in this process's environment (boto3 reads them there), restored after."""
    saved = {key: os.environ.get(key) for key in S3_ENV}
    os.environ.update(S3_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def doc_block(doc: str, name: str) -> str:
    """The bash block of `doc` (relative to the repository) between `<!-- NAME:begin -->` and `<!-- NAME:end -->`:
    the commands a test runs as written."""
    text = (REPO_ROOT / doc).read_text()
    block = re.search(rf"<!-- {name}:begin -->\n```bash\n(.*?)```\n<!-- {name}:end -->", text, re.S)
    assert block, f"{doc} lost its {name} block"
    return block.group(1)


def bootstrap_s3(endpoint: str) -> None:
    """The project's bucket on `endpoint`, made by scripts/bootstrap_s3.py as a user would."""
    from scripts.bootstrap_s3 import bootstrap_bucket

    with s3_credentials():
        bootstrap_bucket(S3_BUCKET, endpoint_url=endpoint)


# One BLAS/OpenMP thread per process: the suite runs two workers on two cores, and oversubscribed numeric threads made
# training several times slower there.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def base_env() -> dict[str, str]:
    """The environment a user has after `make`: the venv first on PATH, no AWS settings leaking in."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "RETRAIN_", "GITHUB_"))}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("GIT_AUTHOR_NAME", "Test")
    env.setdefault("GIT_AUTHOR_EMAIL", "test@example.invalid")
    env.setdefault("GIT_COMMITTER_NAME", "Test")
    env.setdefault("GIT_COMMITTER_EMAIL", "test@example.invalid")
    env["DVC_NO_ANALYTICS"] = "1"
    env.update(THREAD_ENV)
    return env


def sh(
    args: list, cwd: Path | None = None, env: dict | None = None, check: bool = True, timeout: float | None = 900
) -> subprocess.CompletedProcess:
    """The tests' one way to run a command: captured text, the user's environment unless `env` is given, and on
    failure (with `check`) an assertion that shows the command's output."""
    args = [str(arg) for arg in args]
    result = subprocess.run(
        args, cwd=cwd, env=env or base_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited with {result.returncode}\n"
            f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
        )
    return result


def tags(git_dir: Path, pattern: str = "*", env: dict | None = None) -> dict[str, str]:
    """Tags of a repository (a clone or a bare origin) matching a glob -> the commit each points at."""
    out = sh(
        ["git", "for-each-ref", "--format=%(refname:short) %(*objectname) %(objectname)", f"refs/tags/{pattern}"],
        git_dir,
        env,
    ).stdout
    return {name: shas[0] for name, *shas in (line.split() for line in out.splitlines() if line.strip())}


def batch_names(raw: Path) -> list[str]:
    return sorted(p.name for p in raw.iterdir() if p.is_file() and not p.name.startswith(".") and p.suffix != ".dvc")


def raw_objects(git_dir: Path, rev: str, env: dict | None = None) -> dict[str, str]:
    """batch path -> md5 of each batch's .dvc file committed at `rev` (in a clone or a bare origin)."""
    names = sh(["git", "ls-tree", "--name-only", rev, "data/raw/"], git_dir, env).stdout.split()
    found = {}
    for name in (name for name in names if name.endswith(".dvc")):
        outs = yaml.safe_load(sh(["git", "show", f"{rev}:{name}"], git_dir, env).stdout)["outs"]
        found[name.removesuffix(".dvc")] = outs[0]["md5"]
    return found


def set_param(params_file: Path, section: str, key: str, value: object) -> None:
    """Edit one `key: value` line of a params.yaml section in place, keeping its comments, as a person would."""
    lines, inside = params_file.read_text().splitlines(keepends=True), False
    for index, line in enumerate(lines):
        if re.match(rf"^{re.escape(section)}:\s*(#.*)?$", line):
            inside = True
        elif inside and re.match(r"^\S", line):
            break
        elif inside and (found := re.match(rf"^(\s+{re.escape(key)}:\s*)([^#\s]+)(.*)$", line, re.S)):
            lines[index] = f"{found.group(1)}{value}{found.group(3)}"
            params_file.write_text("".join(lines))
            return
    raise AssertionError(f"{params_file}: no `{key}` under `{section}:`")


def project_files() -> list[str]:
    out = sh(["git", "ls-files", "--cached", "--others", "--exclude-standard"], REPO_ROOT).stdout.split("\n")
    return [name for name in out if name and not name.startswith(NOT_COPIED) and (REPO_ROOT / name).is_file()]


def make_seed_origin(where: Path) -> Path:
    """A bare origin whose `develop` holds the project as it is in this working tree."""
    source = where / "seed"
    for name in project_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, target)
    return bare_origin(source, where / "seed.git", "project as in the working tree")


def bare_origin(source: Path, bare: Path, message: str) -> Path:
    """`source` committed as the first commit of `develop` (git init there if needed), cloned bare to `bare`."""
    if not (source / ".git").exists():
        sh(["git", "init", "--quiet", "--initial-branch", BRANCH], source)
    sh(["git", "add", "--all"], source)
    sh(["git", "commit", "--quiet", "-m", message], source)
    sh(["git", "clone", "--quiet", "--bare", str(source), str(bare)], bare.parent)
    return bare


@dataclass
class Project:
    """A user's clone of the project, with its own bare origin, local DVC remote and environment."""

    root: Path
    origin: Path
    storage: Path
    env: dict = field(default_factory=base_env)

    def sh(self, *args: str, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess:
        return sh(list(args), cwd or self.root, self.env, check)

    def git(self, *args: str, check: bool = True) -> str:
        return self.sh("git", *args, check=check).stdout.strip()

    def retrain(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        return self.sh(str(VENV_BIN / "retrain"), *args, check=check)

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.sh(str(VENV_BIN / "dvc"), *args, check=check)

    def dvc_add(self, *paths: str) -> None:
        """`dvc add PATHS` through DVC's API in this process (tests.helpers.dvcapi)."""
        dvcapi.add(self.root, *paths)

    def python(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.sh(sys.executable, *args, check=check)

    def add_batch(self, rows: int, label_noise: float = 0.0, seed: int = 1, commit: bool = True) -> Path:
        """A new delivery, the way the README says: simulate (the script's own function, in this process), `dvc add`
        the new batch, commit its .dvc file."""
        from scripts.simulate_new_data import simulate

        path = simulate(self.root / "data/raw", rows, label_noise, seed)
        self.dvc_add(str(path.relative_to(self.root)))
        if commit:
            self.git("add", f"{path.relative_to(self.root)}.dvc")
            self.git("commit", "--quiet", "-m", f"data: add {path.name}")
        return path

    def batches(self) -> list[str]:
        """The batch files in the work tree's data/raw (not their .dvc files, not .gitignore)."""
        return batch_names(self.root / "data/raw")

    def raw_objects(self, rev: str = "HEAD", git_dir: Path | None = None) -> dict[str, str]:
        """batch path -> md5, as the batches' .dvc files at `rev` record them."""
        return raw_objects(git_dir or self.root, rev, self.env)

    def set_param(self, section: str, key: str, value, commit: bool = True) -> None:
        set_param(self.root / "params.yaml", section, key, value)
        if commit:
            self.git("commit", "--quiet", "-am", f"params: {section}.{key} = {value}")

    def tags(self) -> dict[str, str]:
        return tags(self.root, env=self.env)

    def origin_git(self, *args: str) -> str:
        return sh(["git", *args], self.origin, self.env).stdout.strip()

    def origin_tags(self) -> dict[str, str]:
        return tags(self.origin, env=self.env)

    def run_summary(self) -> dict:
        return json.loads((self.root / "reports/run.json").read_text())

    def lock_objects(self, rev: str = "HEAD") -> dict[str, str]:
        """path -> md5 of every cached output named by dvc.lock and the batches' .dvc files at `rev`."""
        lock = yaml.safe_load(self.git("show", f"{rev}:dvc.lock"))
        found = self.raw_objects(rev)
        for stage in lock["stages"].values():
            for out in stage.get("outs", []):
                if not out["path"].startswith("metrics/"):
                    found[out["path"]] = out["md5"]
        return found


def add_small_batches(project: Project, first: int, count: int, rows: int = 20, chunk: int = 2000) -> None:
    """`count` batches of `rows` rows sampled from the seed batch (numbered from `first`), added the way the README
    says (`dvc add`, one .dvc file each, `chunk` paths per call), in one commit: a long history, quickly."""
    from pipeline.dataset import write_batch
    from pipeline.digits import seed_batch

    frame = seed_batch()
    paths = []
    for number in range(first, first + count):
        path = project.root / "data/raw" / f"batch-{number:05d}-history.csv"
        write_batch(frame.sample(rows, random_state=number), path)
        paths.append(str(path.relative_to(project.root)))
    for start in range(0, len(paths), chunk):
        project.dvc_add(*paths[start : start + chunk])
    project.git("add", "data/raw")
    project.git("commit", "--quiet", "-m", f"data: {count} batch(es)")


def last_line(result: subprocess.CompletedProcess) -> str:
    """A command's last line of output: what `retrain run` says it did."""
    return (result.stdout.strip().splitlines() or [""])[-1]


def release(project: Project, *args: str) -> str:
    """`retrain run` that must succeed; its last line."""
    result = project.retrain("run", *args)
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout
    return last_line(result)


def clone_project(seed_origin: Path, where: Path) -> Project:
    """Copy the seed origin (each test owns its origin), clone it, and set it up as `make` would."""
    origin = where / "origin.git"
    shutil.copytree(seed_origin, origin)
    root = where / "work"
    sh(["git", "clone", "--quiet", "--branch", BRANCH, str(origin), str(root)], where)
    storage = where / "dvc-storage"
    project = Project(root=root, origin=origin, storage=storage)
    project.retrain("setup", check=True)
    dvcapi.modify_remote(root, "local", "url", str(storage))
    return project


def second_clone(project: Project, where: Path) -> Project:
    """Another collaborator (or CI runner) on the same origin and DVC remote."""
    root = where / "work2"
    sh(["git", "clone", "--quiet", "--branch", BRANCH, str(project.origin), str(root)], where)
    other = Project(root=root, origin=project.origin, storage=project.storage, env=dict(project.env))
    other.retrain("setup", check=True)
    dvcapi.modify_remote(root, "local", "url", str(project.storage))
    for option in ("endpointurl",):
        if value := dvcapi.local_option(project.root, "s3remote", option):
            dvcapi.modify_remote(root, "s3remote", option, value)
    return other


def built_once(tmp_path_factory, worker_id: str, name: str, build: Callable[[Path], None]) -> Path:
    """The folder `name` in this test session's temporary root, filled by `build` once for every xdist worker: the
    first that needs it builds it under a file lock, the others wait and share it. `build` writes
    `template.json` last, the mark of a finished build."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent  # this session's folder, common to its workers
    where = shared / name
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (where / "template.json").is_file():
            where.mkdir(exist_ok=True)
            build(where)
    return where
