"""Fault-injection harness: run `retrain` with a deadline, kill it mid-step, copy released projects, and
an S3 server (moto) that a test can stop, restart or cut off in the middle of an upload.

Everything is real: git, DVC and moto's S3 API. Nothing is mocked; faults are made the way they happen
(a server going away, a file edited, a process killed).

To review every error line the suite provokes: `FAULTS_SHOW_ERRORS=/tmp/errors.txt pytest tests/faults`
appends each failing run's test name, exit code and last line to that file.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import VENV_BIN, Project

RUN_TIMEOUT_S = 240  # no single `retrain` call in this suite may take longer
RELEASE_TAGS = "model@v"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""

    @property
    def last_stdout(self) -> str:
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def describe(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-6000:]}"


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def run_cmd(args: list[str], cwd: Path, env: dict, timeout: float = RUN_TIMEOUT_S) -> Result:
    """Run a command in its own process group; on timeout kill the whole group and fail the test."""
    process = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        stdout, stderr = process.communicate()
        command = " ".join(args)
        raise AssertionError(f"{command} ran longer than {timeout}s\n{stdout[-2000:]}\n{stderr[-4000:]}") from None
    return Result(process.returncode, stdout, stderr)


def retrain(project: Project, *args: str, timeout: float = RUN_TIMEOUT_S) -> Result:
    return run_cmd([str(VENV_BIN / "retrain"), *args], project.root, project.env, timeout)


def start_retrain(project: Project, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(VENV_BIN / "retrain"), *args],
        cwd=project.root,
        env=project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish(process: subprocess.Popen, timeout: float = RUN_TIMEOUT_S) -> Result:
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        stdout, stderr = process.communicate()
        raise AssertionError(f"retrain ran longer than {timeout}s\n{stderr[-4000:]}") from None
    return Result(process.returncode, stdout, stderr)


def kill_when(project: Project, marker: str, *args: str, timeout: float = RUN_TIMEOUT_S) -> str:
    """Start `retrain *args`; SIGKILL its whole process group when `marker` appears on stderr.

    Returns the stderr read so far. Fails when the run ends (or times out) before the marker shows: a kill
    that never happened would make the test vacuous.
    """
    process = start_retrain(project, *args)
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    killed = False
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if marker in line:
            _kill_group(process)
            killed = True
            break
    if not killed:
        _kill_group(process)
    process.wait(timeout=30)
    text = "".join(seen)
    assert killed, f"`{marker}` never appeared on stderr (exit {process.returncode}):\n{text[-4000:]}"
    assert process.returncode == -signal.SIGKILL, process.returncode
    return text


# --- projects ---------------------------------------------------------------------------------------------
def deliver(project: Project, name: str, content: bytes, message: str | None = None) -> Path:
    """A data delivery the README's way: a file in data/raw, `dvc add` it, commit its .dvc file."""
    path = project.root / "data" / "raw" / name
    path.write_bytes(content)
    project.dvc_add(f"data/raw/{name}")
    project.git("add", f"data/raw/{name}.dvc")
    project.git("commit", "--quiet", "-m", message or f"data: add {name}")
    return path


def snapshot(project: Project, *paths: str) -> dict[str, bytes | None]:
    """The bytes of workspace files (directories: every file inside), to prove a failure wrote nothing."""
    found: dict[str, bytes | None] = {}
    for name in paths:
        path = project.root / name
        if path.is_dir():
            for item in sorted(path.rglob("*")):
                if item.is_file():
                    found[str(item.relative_to(project.root))] = item.read_bytes()
        else:
            found[name] = path.read_bytes() if path.exists() else None
    return found


# --- S3 that a test can stop -----------------------------------------------------------------------------
class ControlledS3:
    """moto's S3 API on its own port, sharing the session's in-process moto state (bucket and objects).

    stop() is an outage: every open connection is cut and new ones are refused; start() brings it back on
    the same port. cut_when(predicate) stops it from inside the first request that matches, after reading
    part of that request's body: an upload cut off in flight.
    """

    def __init__(self) -> None:
        self.port = 0
        self.down = threading.Event()
        self._server = None
        self._thread: threading.Thread | None = None
        self._trigger: Callable[[dict], bool] | None = None
        self.cut_requests: list[str] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _app(self):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        moto_app = DomainDispatcherApplication(create_backend_app)

        def app(environ, start_response):
            trigger = self._trigger
            if not self.down.is_set() and trigger is not None and trigger(environ):
                self._trigger = None
                environ["wsgi.input"].read(256 * 1024)  # the upload is under way...
                self.cut_requests.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
                self.down.set()  # ...when S3 goes away
                threading.Thread(target=self._stop_listening, daemon=True).start()
            if self.down.is_set():
                sock = environ.get("werkzeug.socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                start_response("503 Service Unavailable", [("Connection", "close")])
                return [b""]
            return moto_app(environ, start_response)

        return app

    def start(self) -> ControlledS3:
        from moto.moto_server.werkzeug_app import MotoRequestHandler
        from werkzeug.serving import make_server

        self.down.clear()
        self._server = make_server(
            "127.0.0.1", self.port, self._app(), threaded=True, request_handler=MotoRequestHandler
        )
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def stop(self) -> None:
        self.down.set()
        self._stop_listening()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def cut_when(self, predicate: Callable[[dict], bool]) -> None:
        self._trigger = predicate

    def wait_down(self, timeout: float = 10) -> None:
        assert self.down.wait(timeout), "the S3 server was never cut off"
        deadline = time.monotonic() + timeout
        while self._server is not None and time.monotonic() < deadline:
            time.sleep(0.05)


# --- what every fault test asserts ------------------------------------------------------------------------
OUTPUTS = ("dvc.lock", "metrics", "data/processed", "models", "plots")


def assert_failed(result: Result, exit_code: int, *fragments: str) -> str:
    """The run failed with `exit_code`, its last stderr line is one `error: ...` naming each fragment."""
    assert result.returncode == exit_code, result.describe()
    last = result.last_line
    assert last.startswith("error: "), f"last line is not an error a user can read: {last!r}\n{result.describe()}"
    for fragment in fragments:
        assert fragment in last, f"{fragment!r} not in the last line: {last}"
    assert "Traceback" not in result.stderr, result.describe()
    if os.environ.get("FAULTS_SHOW_ERRORS"):
        with open(os.environ["FAULTS_SHOW_ERRORS"], "a") as shown:
            shown.write(f"{os.environ.get('PYTEST_CURRENT_TEST', '?').split(' ')[0]}\n    exit {exit_code}: {last}\n")
    return last


def repo_state(project: Project) -> dict:
    """What a failed run must leave alone: HEAD, tags here and on origin, origin's develop, the outputs."""
    return {
        "head": project.git("rev-parse", "HEAD"),
        "tags": project.tags(),
        "origin_tags": project.origin_tags(),
        "origin_develop": project.origin_git("rev-parse", "develop"),
        "outputs": snapshot(project, *OUTPUTS),
    }


def assert_finishes(project: Project, storage_or_s3, expect: str, *args: str) -> Result:
    """With the fault removed, `retrain run --push` finishes the job: exit 0, the tag on origin, consistent."""
    from tests.helpers.consistency import assert_consistent

    result = retrain(project, "run", "--push", *args)
    assert result.returncode == 0, result.describe()
    assert result.last_stdout == expect, result.describe()
    tag = expect.split()[-1]
    assert tag in project.origin_tags(), f"{tag} not on origin after the re-run"
    assert_consistent(project, storage_or_s3, settled=True)
    return result


REPRODUCE_STEP = "[2/9] "  # the step whose start means compute began


def assert_refused_before_compute(project: Project, exit_code: int, *fragments: str) -> Result:
    """`retrain run --push` fails with `exit_code` and one line naming each fragment, before the reproduce
    step starts, leaving the clone, its tags and origin exactly as they were."""
    before = repo_state(project)
    result = retrain(project, "run", "--push")
    assert_failed(result, exit_code, *fragments)
    assert REPRODUCE_STEP not in result.stderr, "compute started"
    assert repo_state(project) == before
    return result
