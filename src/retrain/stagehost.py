"""A warm interpreter for the stage commands that `retrain run` reproduces.

Every stage command (`python src/train.py ...`) is a new Python process that imports pandas, pyarrow and
scikit-learn before it does any work: about a second per stage, three stages a run, as long as the whole
training at 100k rows (benchmarks/analysis.md). So while DVC reproduces, `retrain run` keeps one host process
that imported those libraries once. A stage process that finds RETRAIN_STAGE_HOST in its environment hands
its argv, working directory, environment and standard streams to the host; the host forks a child that runs
the same script file from disk as `__main__`, and the stage process exits with the child's status. The child is
a copy of a process that already imported the libraries, so the stage starts in milliseconds.

Nothing else changes: the script, its arguments, outputs, messages and exit codes are those of
`python src/train.py ...`; `dvc repro` by hand has no host and runs stages the ordinary way; when the host
cannot be reached the stage runs the ordinary way too. RETRAIN_STAGE_HOST=off turns the host off.

The host never imports `retrain` itself (it runs this file by path, with only the standard library and the
third-party libraries imported), so each stage imports the project's own modules from its script's folder,
exactly as a fresh `python src/<stage>.py` does.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

HOST_ENV = "RETRAIN_STAGE_HOST"  # the host's socket path, set while `retrain run` reproduces; "off" disables it
OFF = "off"
# What the stage scripts import: loaded once by the host, in this order (the first stage needs only pandas).
# A library that is not installed is skipped: a stage that needs it imports it itself, as usual.
# Small steps, so that a stage arriving meanwhile waits for one step at most.
WARM_MODULES = (
    "numpy",
    "pandas",
    "pyarrow.parquet",
    "yaml",
    "joblib",
    "scipy.sparse",
    "scipy.sparse.linalg",
    "scipy.stats",
    "sklearn.linear_model",
    "sklearn.metrics",
)
POLL_SECONDS = 0.02  # how often the host looks at a running stage and at its own parent
STOP_TIMEOUT_SECONDS = 5.0
_STREAMS = (0, 1, 2)
SERVED_LOG = "served"  # beside the socket: one line per stage command the host ran
WARM_MARK = "warm"  # beside the socket: made once the host has imported WARM_MODULES
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes on Linux, 104 on macOS

last_usage: dict | None = None  # the delegated stage's peak RSS (KiB) and CPU seconds, once it has finished


def available() -> bool:
    """Fork and descriptor passing: Linux and macOS; elsewhere stages run the ordinary way."""
    return hasattr(os, "fork") and hasattr(socket, "send_fds") and hasattr(socket, "AF_UNIX")


# --- the side of `retrain run` ------------------------------------------------------------------------------------
@contextmanager
def serving() -> Iterator[None]:
    """Start a host for the stage commands run inside this block (they see RETRAIN_STAGE_HOST), stop it after.

    Inside an outer block (or with RETRAIN_STAGE_HOST=off) it does nothing: the outer host serves.
    """
    if os.environ.get(HOST_ENV) or not available():
        yield
        return
    folder = tempfile.mkdtemp(prefix="retrain-host-")
    if len(folder) > _SOCKET_PATH_MAX - 5:  # a deep TMPDIR: the socket path would not fit
        os.rmdir(folder)
        folder = tempfile.mkdtemp(prefix="retrain-host-", dir="/tmp")
    path = os.path.join(folder, "sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)  # bound and listening before the host starts: a stage can connect at once, and waits
    host = subprocess.Popen(
        # -P: not this file's folder on sys.path, so no project module shadows a library's import
        [sys.executable, "-P", __file__, str(listener.fileno()), str(os.getpid())],
        pass_fds=(listener.fileno(),),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    listener.close()
    os.environ[HOST_ENV] = path
    try:
        yield
    finally:
        os.environ.pop(HOST_ENV, None)
        host.terminate()
        try:
            host.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            host.kill()
            host.wait()
        shutil.rmtree(folder, ignore_errors=True)


def served() -> int:
    """How many stage commands the running host has run so far (0 without a host)."""
    path = os.environ.get(HOST_ENV)
    if not path or path == OFF:
        return 0
    try:
        with open(os.path.join(os.path.dirname(path), SERVED_LOG)) as log:
            return sum(1 for _ in log)
    except OSError:
        return 0


def wait_until_warm(timeout: float) -> None:
    """Return once the running host has imported its libraries (at once without a host; at most `timeout` s).

    Lets other start-up work wait for the host rather than compete with it for the CPU.
    """
    path = os.environ.get(HOST_ENV)
    if not path or path == OFF:
        return
    mark = os.path.join(os.path.dirname(path), WARM_MARK)
    deadline = time.monotonic() + timeout
    while not os.path.exists(mark) and os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)


# --- the side of a stage process ----------------------------------------------------------------------------------
def delegate() -> int | None:
    """Run this stage process's script in the host; its exit code, or None to run it here (no host, or none reached).

    A negative code is a signal that ended the stage (as subprocess reports it).
    """
    global last_usage
    path = os.environ.get(HOST_ENV)
    if not path or path == OFF or not available():
        return None
    request = {"argv": sys.argv, "cwd": os.getcwd(), "env": {k: v for k, v in os.environ.items() if k != HOST_ENV}}
    try:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(path)
        socket.send_fds(connection, [b"R"], list(_STREAMS))
        _send(connection, request)
        reader = connection.makefile("r", encoding="utf-8")
        started = reader.readline()
    except OSError:
        return None
    if not started:
        return None  # the host ended before it forked: nothing ran, so run it here
    child = json.loads(started)["pid"]

    def forward(signum: int, _frame: object) -> None:
        with suppress(ProcessLookupError):
            os.kill(child, signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    try:
        finished = reader.readline()
    except OSError:
        finished = ""
    if not finished:
        print(f"error: the stage host ended while {sys.argv[0]} ran (pid {child})", file=sys.stderr)
        return 1
    result = json.loads(finished)
    last_usage = {"maxrss_kib": result["maxrss_kib"], "cpu_s": result["cpu_s"]}
    return result["exit"]


def exit_like(code: int) -> None:
    """End this process the way the stage ended: its exit code, or the signal that killed it."""
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    raise SystemExit(code)


def _send(connection: socket.socket, message: dict) -> None:
    connection.sendall(json.dumps(message).encode() + b"\n")


# --- the host process -----------------------------------------------------------------------------------------------
def _warm(listener: socket.socket, parent: int) -> None:
    """Import the libraries one by one; a stage that arrives meanwhile is served at once (it imports the rest)."""
    import importlib

    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        _serve_pending(listener, parent, wait=0.0)
    with open(os.path.join(os.path.dirname(listener.getsockname()), WARM_MARK), "w"):
        pass


def _serve_pending(listener: socket.socket, parent: int, wait: float | None) -> None:
    listener.settimeout(wait)
    try:
        connection, _ = listener.accept()
    except (TimeoutError, BlockingIOError):
        return
    with connection:
        connection.setblocking(True)
        _serve(connection, listener, parent)


def _serve(connection: socket.socket, listener: socket.socket, parent: int) -> None:
    try:
        _, fds, _, _ = socket.recv_fds(connection, 1, len(_STREAMS))
        request = json.loads(connection.makefile("r", encoding="utf-8").readline())
    except (OSError, ValueError):
        return  # the stage process went away before it asked: it runs nothing, or runs itself
    pid = os.fork()
    if pid == 0:
        _child(request, fds, (listener, connection))
    for fd in fds:
        os.close(fd)
    with suppress(OSError):
        _send(connection, {"pid": pid})
    status = None
    while status is None:
        done, waited, usage = os.wait4(pid, os.WNOHANG)
        if done:
            status = waited
            break
        gone = os.getppid() != parent
        readable, _, _ = select.select([connection], [], [], POLL_SECONDS)
        if gone or (readable and not connection.recv(1)):  # `retrain run` or the stage process was killed
            os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
    with open(os.path.join(os.path.dirname(listener.getsockname()), SERVED_LOG), "a") as log:
        log.write(f"{request['argv'][0]}\n")
    with suppress(OSError):
        _send(
            connection,
            {
                "exit": os.waitstatus_to_exitcode(status),
                "maxrss_kib": usage.ru_maxrss,
                "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
            },
        )


def _child(request: dict, fds: list[int], inherited: tuple[socket.socket, ...]) -> None:
    """In the forked child: become the stage process and run its script; never returns."""
    code = 1
    try:
        for sock in inherited:
            sock.close()
        for target, fd in zip(_STREAMS, fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = list(request["argv"])
        sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))  # as `python src/<stage>.py` does
        import runpy

        runpy.run_path(sys.argv[0], run_name="__main__")
        code = 0
    except SystemExit as ended:
        code = _exit_code(ended.code)
    except KeyboardInterrupt:
        code = -signal.SIGINT
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with suppress(OSError, ValueError):
                stream.flush()
    if code < 0:  # die of the signal, as an interrupted Python process does
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code)


def _exit_code(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    print(value, file=sys.stderr)
    return 1


def _host_main(listener_fd: int, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the stage child itself; the host waits for it
    # Stopped between stages, with nothing to clean up: skip the interpreter's slow teardown of the libraries.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    listener = socket.socket(fileno=listener_fd)
    _warm(listener, parent)
    while os.getppid() == parent:
        _serve_pending(listener, parent, wait=1.0)


if __name__ == "__main__":
    _host_main(int(sys.argv[1]), int(sys.argv[2]))
