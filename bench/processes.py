"""Spark's processes under this one, and their memory, from /proc (Linux only).

Python workers are the processes forked by an executor JVM's worker daemon
(`stream_scorer.runtime.worker_daemon`, a local master's): they read the source and run the
scoring UDF. Spark's own `pyspark.daemon` serves the data source planners; it is left out.
RSS counts every page a process maps; PSS divides each shared page among the processes
sharing it, so summed PSS is what a set of processes really costs.
"""

import os
from pathlib import Path

from stream_scorer.runtime import worker_daemon

DAEMON_COMMAND = [worker_daemon.MODULE, "pyspark.worker"]
"""How the worker daemon's command line ends."""


def spark_processes(root: int | None = None) -> dict[str, list[int]]:
    """The JVMs started by `root` (default: this process), their worker daemons and workers.

    Returns {"jvm": [pid], "daemon": [pid], "workers": [pid]}, pids sorted.
    """
    tree = _processes()
    root = root or os.getpid()
    jvms = {pid for pid, (ppid, cmd) in tree.items() if ppid == root and "java" in cmd}
    below = _descendants(tree, jvms)
    daemons = {p for p in below if tree[p][0] in jvms and tree[p][1].split()[-2:] == DAEMON_COMMAND}
    workers = {p for p in below if tree[p][0] in daemons}
    return {"jvm": sorted(jvms), "daemon": sorted(daemons), "workers": sorted(workers)}


def cpu_seconds(root: int | None = None) -> float:
    """User and system CPU seconds of `root` (default: this process) and every live process
    under it (the JVM, its worker daemons and Python workers)."""
    tree = _processes()
    root = root or os.getpid()
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in {root} | _descendants(tree, {root}):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def rss(pid: int) -> int:
    """Resident set size of `pid` in bytes (0 if it ended)."""
    return _status_kb(pid, "VmRSS:") * 1024


def pss(pid: int) -> int:
    """Proportional set size of `pid` in bytes, from /proc/PID/smaps_rollup (0 if it ended)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process /proc shows."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended while we looked
            continue
        out[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), cmd)
    return out


def _descendants(tree: dict[int, tuple[int, str]], roots: set[int]) -> set[int]:
    found, frontier = set(), set(roots)
    while frontier:
        frontier = {pid for pid, (ppid, _) in tree.items() if ppid in frontier} - found
        found |= frontier
    return found
