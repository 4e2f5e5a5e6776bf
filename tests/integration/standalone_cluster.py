"""A real Spark standalone cluster on 127.0.0.1 for integration tests: one master, one worker.

Both are separate JVMs started with the `spark-class` script that ships inside pyspark, each in
its own process group, so `stop()` ends them and every executor and Python worker under them.
Logs and the worker's directory (one folder per application and executor) live under `workdir`.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyspark

from stream_scorer.devtools.broker import free_port

SPARK_HOME = Path(pyspark.__file__).parent
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


def java_missing() -> str | None:
    """Return why a cluster cannot start here (no Java), or None if it can."""
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") or (java_home and (Path(java_home) / "bin" / "java").exists()):
        return None
    return "Spark standalone needs Java 17+ on PATH or in JAVA_HOME; none found"


class StandaloneCluster:
    """One master and one worker (`cores`, `memory`) on 127.0.0.1; `start()` blocks until ready.

    Parameters
    ----------
    workdir : Path
        Where logs (`logs/`) and the worker's application folders (`work/`) go.
    """

    def __init__(self, workdir: Path, cores: int = 2, memory: str = "1g") -> None:
        self.workdir = Path(workdir)
        self.cores = cores
        self.memory = memory
        self.port, self.webui_port, self.worker_webui_port = free_port(), free_port(), free_port()
        self._procs: list[subprocess.Popen[bytes]] = []

    @property
    def master_url(self) -> str:
        """`spark://127.0.0.1:<port>`, for `--master`."""
        return f"spark://127.0.0.1:{self.port}"

    @property
    def work_dir(self) -> Path:
        """The worker's directory: `<work_dir>/<application id>/<executor id>/` per executor."""
        return self.workdir / "work"

    def env(self) -> dict[str, str]:
        """Environment for the daemons and spark-submit: this interpreter, loopback only."""
        return {
            **os.environ,
            "SPARK_HOME": str(SPARK_HOME),
            "PYSPARK_PYTHON": sys.executable,
            "PYSPARK_DRIVER_PYTHON": sys.executable,
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_LOG_DIR": str(self.workdir / "logs"),
            "SPARK_WORKER_DIR": str(self.work_dir),
            "SPARK_DAEMON_MEMORY": "512m",
        }

    def state(self) -> dict[str, Any]:
        """The master's status as its web UI serves it at `/json/` (workers, apps)."""
        url = f"http://127.0.0.1:{self.webui_port}/json/"
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.load(response)

    def start(self, timeout_s: float = 60.0) -> "StandaloneCluster":
        """Start the master, then the worker; return once the worker is registered and ALIVE.

        Raises
        ------
        RuntimeError
            If a daemon exits or the worker is not registered within `timeout_s`; the
            message names the log folder. Whatever started is stopped first.
        """
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout_s
        try:
            self._spawn(
                "master",
                MASTER_CLASS,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--webui-port",
                str(self.webui_port),
            )
            self._wait(deadline, lambda s: s.get("status") == "ALIVE", "master to be ALIVE")
            self._spawn(
                "worker",
                WORKER_CLASS,
                self.master_url,
                "--host",
                "127.0.0.1",
                "--cores",
                str(self.cores),
                "--memory",
                self.memory,
                "--webui-port",
                str(self.worker_webui_port),
            )
            self._wait(deadline, self._worker_alive, "worker to register with the master")
        except BaseException:
            self.stop()
            raise
        return self

    def submit(
        self,
        app: str | Path,
        args: Sequence[str] = (),
        conf: Mapping[str, str] | None = None,
        timeout_s: float = 120.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run `spark-submit --master <this cluster> app args` (client mode) and wait for it.

        The driver runs in its own process group; past `timeout_s` the group is killed and
        the result has a non-zero return code and the output so far.
        """
        settings = {"spark.ui.enabled": "false", "spark.executor.memory": "512m", **(conf or {})}
        cmd = [str(SPARK_HOME / "bin" / "spark-submit"), "--master", self.master_url]
        for key, value in settings.items():
            cmd += ["--conf", f"{key}={value}"]
        cmd += [str(app), *args]
        proc = subprocess.Popen(
            cmd,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = proc.communicate()
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)

    def stop(self) -> None:
        """Stop the worker, then the master (each process group: TERM, then KILL after 10 s)."""
        for proc in reversed(self._procs):
            _kill_group(proc)
        self._procs.clear()

    def __enter__(self) -> "StandaloneCluster":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, name: str, main_class: str, *args: str) -> None:
        cmd = [str(SPARK_HOME / "bin" / "spark-class"), main_class, *args]
        with open(self.workdir / "logs" / f"{name}.out", "ab") as log:
            proc = subprocess.Popen(
                cmd, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._procs.append(proc)

    def _worker_alive(self, state: Mapping[str, Any]) -> bool:
        return any(w.get("state") == "ALIVE" for w in state.get("workers", []))

    def _wait(self, deadline: float, ready: Callable[[Mapping[str, Any]], bool], what: str) -> None:
        while time.monotonic() < deadline:
            for proc in self._procs:
                if proc.poll() is not None:
                    msg = f"{proc.args[1]} exited with {proc.returncode}; see {self.workdir}/logs"
                    raise RuntimeError(msg)
            try:
                if ready(self.state()):
                    return
            except OSError:
                pass  # web UI not listening yet
            time.sleep(0.5)
        msg = f"timed out waiting for the {what}; see {self.workdir}/logs"
        raise RuntimeError(msg)


def _kill_group(proc: subprocess.Popen) -> None:
    """TERM the process group, wait for its leader, then KILL whatever of the group is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            continue
