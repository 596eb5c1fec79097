"""Per-process probe for the benchmarks: loaded by every Python process started with benchmarks/probe on PYTHONPATH.

When BENCH_PROBE_DIR is set, each process writes one line at exit: pid, parent pid, start and end time (epoch
seconds; the start is the kernel's process start, so interpreter start-up counts), peak RSS (KiB, from
getrusage), user and system CPU seconds, and its argv. This is how the benchmark attributes wall time and peak
memory to each DVC stage command run inside `retrain run`; a stage process that `retrain run`'s warm stage host
ran records the peak RSS and CPU of the host's child that did its work. Without BENCH_PROBE_DIR it does nothing.
"""

import os

_DIR = os.environ.get("BENCH_PROBE_DIR")

if _DIR:
    import atexit
    import resource
    import sys
    import time

    def _started() -> float:
        """Epoch time of this process's start: now minus its age (from /proc, 10 ms resolution)."""
        try:
            with open("/proc/self/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open("/proc/uptime") as handle:
                uptime = float(handle.read().split()[0])
            age = uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")
            return time.time() - max(age, 0.0)
        except (OSError, ValueError, IndexError):
            return time.time()

    _START = _started()

    def _record() -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        maxrss, utime = usage.ru_maxrss, usage.ru_utime
        # A stage process that handed its script to the warm stage host (retrain.stagehost): the work, its
        # peak memory and CPU were the host's forked child's, which the host reported back.
        host = sys.modules.get("retrain.stagehost")
        delegated = getattr(host, "last_usage", None) if host else None
        if delegated:
            maxrss, utime = max(maxrss, delegated["maxrss_kib"]), utime + delegated["cpu_s"]
        fields = (
            str(os.getpid()),
            str(os.getppid()),
            repr(_START),
            repr(time.time()),
            str(maxrss),
            repr(utime),
            repr(usage.ru_stime),
            "\x1f".join(sys.argv),
        )
        try:
            with open(os.path.join(_DIR, f"{os.getpid()}.tsv"), "w") as handle:
                handle.write("\t".join(fields) + "\n")
        except OSError:
            pass

    atexit.register(_record)
