"""The warm stage host: a stage run through it is the same stage, and anything wrong falls back or fails loudly."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrain import stagehost
from retrain.dataset import write_batch
from retrain.digits import SEED_BATCH_NAME, seed_batch
from retrain.errors import ERROR_FILE_ENV
from tests.helpers import REPO_ROOT, base_env

pytestmark = pytest.mark.skipif(not stagehost.available(), reason="the host needs fork and descriptor passing")

SCRIPTS = REPO_ROOT / "src"
STAGES = {
    "preprocessing": ["preprocessing.py", "data/raw", "data/processed", "--stats", "metrics/data.json"],
    "train": ["train.py", "data/processed", "models/model.joblib"],
    "evaluate": ["evaluate.py", "models/model.joblib", "data/processed", "metrics/metrics.json", "plots"],
}
OUTPUTS = [
    "data/processed/train.parquet",
    "data/processed/test.parquet",
    "metrics/data.json",
    "models/model.joblib",
    "metrics/metrics.json",
    "plots/confusion.csv",
    "plots/per_class.csv",
]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder with params.yaml and the bundled digits as the one raw batch: what the stages read."""
    work = tmp_path / "work"
    (work / "data/raw").mkdir(parents=True)
    shutil.copy2(REPO_ROOT / "params.yaml", work / "params.yaml")
    write_batch(seed_batch(), work / "data/raw" / SEED_BATCH_NAME)
    return work


@pytest.fixture
def host() -> Iterator[str]:
    """A running host (as `retrain run` starts one); yields its socket path."""
    saved = os.environ.pop(stagehost.HOST_ENV, None)
    try:
        with stagehost.serving() as running:
            running.start()
            yield os.environ[stagehost.HOST_ENV]
    finally:
        if saved is not None:
            os.environ[stagehost.HOST_ENV] = saved


def run_stage(
    work: Path, argv: list[str], host: str | None, extra: dict | None = None, **kwargs
) -> subprocess.CompletedProcess:
    env = dict(base_env(), **(extra or {}))
    if host is not None:
        env[stagehost.HOST_ENV] = host
    return subprocess.run(
        [sys.executable, str(SCRIPTS / argv[0]), *argv[1:]],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )


class TestSameStage:
    def test_the_three_stages_in_the_host_write_the_same_bytes_as_ordinary_processes(
        self, workdir: Path, host: str, tmp_path: Path
    ) -> None:
        """Byte-identical outputs, exit 0, the same messages; and the host really ran all three."""
        ordinary = tmp_path / "ordinary"
        shutil.copytree(workdir, ordinary)
        for name, argv in STAGES.items():
            plain = run_stage(ordinary, argv, None)
            warm = run_stage(workdir, argv, host)
            assert (plain.returncode, warm.returncode) == (0, 0), (name, plain.stderr, warm.stderr)
            assert warm.stdout == plain.stdout
            assert "Traceback" not in warm.stderr
        assert stagehost.served() == 3
        for output in OUTPUTS:
            assert (workdir / output).read_bytes() == (ordinary / output).read_bytes(), output

    def test_a_failing_stage_keeps_its_exit_code_message_and_error_file(
        self, workdir: Path, host: str, tmp_path: Path
    ) -> None:
        """Bad data through the host: exit 2, the one-line error on stderr and in the file `retrain run` reads."""
        batch = workdir / "data/raw" / SEED_BATCH_NAME
        batch.write_text(batch.read_text().replace("label", "lable", 1))
        error_file = tmp_path / "error.txt"
        result = run_stage(workdir, STAGES["preprocessing"], host, {ERROR_FILE_ENV: str(error_file)})
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().splitlines()[-1].startswith("error: ")
        assert "label" in error_file.read_text()
        assert stagehost.served() == 1
        assert not (workdir / "data/processed").exists()


class TestFallback:
    def test_an_unreachable_host_runs_the_stage_the_ordinary_way(self, workdir: Path, tmp_path: Path) -> None:
        """A stale RETRAIN_STAGE_HOST (no socket there) is not an error: the stage runs in its own process."""
        result = run_stage(workdir, STAGES["preprocessing"], str(tmp_path / "gone" / "sock"))
        assert result.returncode == 0, result.stderr
        assert (workdir / "data/processed/train.parquet").is_file()

    def test_off_starts_no_host(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """RETRAIN_STAGE_HOST=off: serving() starts nothing and no stage is delegated."""
        monkeypatch.setenv(stagehost.HOST_ENV, stagehost.OFF)
        with stagehost.serving() as host:
            host.start()
            assert os.environ[stagehost.HOST_ENV] == stagehost.OFF
            assert stagehost.delegate() is None
            assert stagehost.served() == 0


class TestLifetime:
    def test_a_signal_to_the_stage_process_reaches_the_stage(self, host: str, tmp_path: Path) -> None:
        """SIGTERM to the stage process (DVC stopping a stage) ends the stage, which dies of that signal."""
        script = tmp_path / "sleeper.py"
        script.write_text(
            "import time\nfrom retrain.stages import run_stage\n"
            "def main():\n    print('started', flush=True)\n    time.sleep(60)\nrun_stage(main)\n"
        )
        env = dict(base_env(), **{stagehost.HOST_ENV: host})
        stage = subprocess.Popen(
            [sys.executable, str(script)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True
        )
        assert stage.stdout is not None
        assert stage.stdout.readline().strip() == "started"
        stage.send_signal(signal.SIGTERM)
        assert stage.wait(timeout=30) == -signal.SIGTERM
        assert stagehost.served() == 1

    def test_the_host_ends_when_retrain_is_killed(self, tmp_path: Path) -> None:
        """SIGKILL to the process that started the host (a cancelled job): the host does not outlive it."""
        parent = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import os, time\nfrom retrain import stagehost\nwith stagehost.serving() as host:\n"
                "    host.start()\n    print(os.environ[stagehost.HOST_ENV], flush=True)\n    time.sleep(60)\n",
            ],
            env=base_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert parent.stdout is not None
        path = parent.stdout.readline().strip()
        assert _accepts(path)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 30
        while _accepts(path) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _accepts(path), "the host still answers after its parent was killed"
        shutil.rmtree(Path(path).parent, ignore_errors=True)


def _accepts(path: str) -> bool:
    """Whether a host answers on `path` (a connection is accepted and the request read: we send none, so it
    closes it)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


def test_served_counts_each_line_the_host_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The count `retrain run` prints ("3 in the warm stage host") is the host's log of stages it ran."""
    (tmp_path / stagehost.SERVED_LOG).write_text("src/preprocessing.py\nsrc/train.py\n")
    monkeypatch.setenv(stagehost.HOST_ENV, str(tmp_path / "sock"))
    assert stagehost.served() == 2
