"""A warm interpreter for the stage commands that `retrain run` reproduces.

Every stage command (`python src/train.py ...`) is a new Python process that imports pandas, pyarrow and
scikit-learn before it does any work: about a second per stage, three stages a run, as long as the whole
training at 100k rows (benchmarks/analysis.md). So from the moment the first stage is about to run until DVC
is done, `retrain run` keeps one host process that imports those libraries once, while the first stages run.
A stage process that finds RETRAIN_STAGE_HOST in its environment hands its argv, working directory,
environment and standard streams to the host; the host forks a child that runs the same script file from disk
as `__main__`, and the stage process exits with the child's status. The child is a copy of a process that
already imported the libraries, so the stage starts in milliseconds.

Nothing else changes: the script, its arguments, outputs, messages and exit codes are those of
`python src/train.py ...`; `dvc repro` by hand has no host and runs stages the ordinary way; when the host
cannot be reached the stage runs the ordinary way too. RETRAIN_STAGE_HOST=off turns the host off. Linux only
(see `available`).

The host never imports `retrain` itself (it runs this file by path, with only the standard library and the
third-party libraries imported), so each stage imports the project's own modules from its script's folder,
exactly as a fresh `python src/<stage>.py` does.
"""

from __future__ import annotations

import json
import os
import resource
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
# What the stage scripts import, loaded once by the host in this order (the first stage needs only pandas) and in
# small steps (a stage arriving meanwhile waits for one step at most). A library that is not installed is
# skipped: a stage that needs it imports it itself, as usual.
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
_STREAMS = (0, 1, 2)
SERVED_LOG = "served"  # beside the socket: one line per stage command the host ran (written as it starts it)
WARM_MARK = "warm"  # beside the socket: made once the host has imported WARM_MODULES
_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes on Linux, 104 on macOS

last_usage: dict | None = None  # the delegated stage's peak RSS (KiB) and CPU seconds, once it has finished


def available() -> bool:
    """Linux only: fork() after importing numpy and pyarrow is well trodden there (CI runners); macOS system
    libraries are not fork-safe, and Windows has no fork. Elsewhere stages run the ordinary way."""
    return sys.platform == "linux" and hasattr(socket, "send_fds")


# --- the side of `retrain run` ------------------------------------------------------------------------------------
class Host:
    """The host of one `retrain run`: started when the first stage command is about to run (a run where no
    stage runs pays nothing), stopped at the end of the `serving()` block."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._process: subprocess.Popen | None = None
        self._folder: str | None = None

    def start(self) -> None:
        """Start the host and point stage commands started from now on at it (RETRAIN_STAGE_HOST)."""
        if not self.enabled or self._process is not None:
            return
        folder = tempfile.mkdtemp(prefix="retrain-host-")
        if len(folder) > _SOCKET_PATH_MAX - 5:  # a deep TMPDIR: the socket path would not fit
            os.rmdir(folder)
            folder = tempfile.mkdtemp(prefix="retrain-host-", dir="/tmp")
        path = os.path.join(folder, "sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(path)
            listener.listen(8)  # listening before the host runs: a stage can connect at once, and waits
            self._process = subprocess.Popen(
                # -P: not this file's folder on sys.path, so no project module shadows a library's import
                [sys.executable, "-P", __file__, str(listener.fileno()), str(os.getpid())],
                pass_fds=(listener.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
        self._folder = folder
        os.environ[HOST_ENV] = path

    def stop(self) -> None:
        if self._process is None:
            return
        os.environ.pop(HOST_ENV, None)
        # SIGKILL: the host holds nothing to clean up (this side removes the folder), and a host stopped in the
        # middle of importing a library would make SIGTERM wait for the import.
        self._process.kill()
        self._process.wait()
        self._process = None
        if self._folder:
            shutil.rmtree(self._folder, ignore_errors=True)


@contextmanager
def serving() -> Iterator[Host]:
    """A host for the stage commands run inside this block, once `start()` is called; stopped after the block.

    With RETRAIN_STAGE_HOST=off (or already set by an outer block) the host never starts.
    """
    host = Host(enabled=not os.environ.get(HOST_ENV) and available())
    try:
        yield host
    finally:
        host.stop()


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
        first = reader.readline()
    except OSError:
        return None
    if not first:
        return None  # the host ended before it forked: nothing ran, so run it here
    # Two messages come: the child's pid (from the host) and how the child ended (from the child itself, or from
    # the host when a signal killed it), in either order: a stage can end before the host has sent the pid.
    message = json.loads(first)
    if "pid" in message:
        child = message["pid"]

        def forward(signum: int, _frame: object) -> None:
            with suppress(ProcessLookupError):
                os.kill(child, signum)

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, forward)
        try:
            message = json.loads(reader.readline() or "{}")
        except (OSError, ValueError):
            message = {}
    if "exit" not in message:
        print(f"error: the stage host ended while {sys.argv[0]} ran", file=sys.stderr)
        return 1
    last_usage = {"maxrss_kib": message["maxrss_kib"], "cpu_s": message["cpu_s"]}
    return message["exit"]


def exit_like(code: int) -> None:
    """End this process the way the stage ended: its exit code, or the signal that killed it."""
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    raise SystemExit(code)


def _send(connection: socket.socket, message: dict) -> None:
    connection.sendall(json.dumps(message).encode() + b"\n")


# --- the host process -----------------------------------------------------------------------------------------------
class _HostLoop:
    """One thread, one loop: import the next library, accept stage requests, reap finished stages.

    Stages are forked between two imports (so one waits at most one library's import), and imports go on while a
    stage runs (the stage on one core, the imports on the other). No second thread: fork() copies only the
    calling thread, and a thread caught holding the import lock would leave the child stuck.
    """

    def __init__(self, listener: socket.socket, parent: int) -> None:
        self.listener = listener
        self.parent = parent
        self.folder = os.path.dirname(listener.getsockname())
        self.pending = list(WARM_MODULES)
        self.running: dict[int, socket.socket] = {}  # child pid -> the connection of its stage process

    def run(self) -> None:
        import importlib

        self.listener.setblocking(False)
        while os.getppid() == self.parent:
            if self.pending:
                with suppress(ImportError):
                    importlib.import_module(self.pending.pop(0))
                if not self.pending:
                    with open(os.path.join(self.folder, WARM_MARK), "w"):
                        pass
            waiting = [self.listener, *self.running.values()]
            readable, _, _ = select.select(waiting, [], [], 0 if self.pending else POLL_SECONDS)
            for ready in readable:
                if ready is self.listener:
                    self.accept()
                else:
                    self.stage_process_gone(ready)
            self.reap()
        for pid in list(self.running):  # `retrain run` was killed: so are its stages
            os.kill(pid, signal.SIGKILL)
        self.reap(block=True)

    def accept(self) -> None:
        try:
            connection, _ = self.listener.accept()
        except BlockingIOError:
            return
        connection.setblocking(True)
        try:
            _, fds, _, _ = socket.recv_fds(connection, 1, len(_STREAMS))
            request = json.loads(connection.makefile("r", encoding="utf-8").readline())
        except (OSError, ValueError):
            connection.close()  # the stage process went away before it asked: it runs nothing, or runs itself
            return
        with open(os.path.join(self.folder, SERVED_LOG), "a") as log:  # before the fork: counted before it ends
            log.write(f"{request['argv'][0]}\n")
        pid = os.fork()
        if pid == 0:
            _child(request, fds, connection, [self.listener, *self.running.values()])
        for fd in fds:
            os.close(fd)
        with suppress(OSError):
            _send(connection, {"pid": pid})
        self.running[pid] = connection

    def stage_process_gone(self, connection: socket.socket) -> None:
        """A stage process sends nothing after its request: readable means it closed, or was killed."""
        with suppress(OSError):
            if connection.recv(1, socket.MSG_PEEK):
                return
        for pid, held in self.running.items():
            if held is connection:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def reap(self, block: bool = False) -> None:
        for pid in list(self.running):
            done, status, usage = os.wait4(pid, 0 if block else os.WNOHANG)
            if not done:
                continue
            connection = self.running.pop(pid)
            # The child reported its own exit already, unless a signal ended it: then this is the report.
            with suppress(OSError):
                _send(connection, _result(os.waitstatus_to_exitcode(status), usage))
            connection.close()


def _result(code: int, usage: resource.struct_rusage) -> dict:
    return {"exit": code, "maxrss_kib": usage.ru_maxrss, "cpu_s": round(usage.ru_utime + usage.ru_stime, 3)}


def _child(request: dict, fds: list[int], connection: socket.socket, inherited: list[socket.socket]) -> None:
    """In the forked child: become the stage process, run its script, report how it ended; never returns."""
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
    if code < 0:  # die of the signal, as an interrupted Python process does (the host reports it)
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    with suppress(OSError):  # at once: the host may be busy importing a library for a while
        _send(connection, _result(code, resource.getrusage(resource.RUSAGE_SELF)))
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
    _HostLoop(socket.socket(fileno=listener_fd), parent).run()


if __name__ == "__main__":
    _host_main(int(sys.argv[1]), int(sys.argv[2]))
