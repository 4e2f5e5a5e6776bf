"""Test-side helpers to run `stream-scorer run` as a subprocess (killable) and read its outputs."""

import os
import subprocess
import sys
import time
from pathlib import Path

import yaml
from kafka import KafkaConsumer

from stream_scorer.testing.faults import ENV_VAR, RELEASE_VAR
from stream_scorer.testing.scorer_setup import raw_config

CLI = str(Path(sys.executable).with_name("stream-scorer"))
FAULT_RUN = [sys.executable, "-m", "stream_scorer.testing.fault_run"]
"""`stream-scorer` with the fault `STREAM_SCORER_FAULT` arms (the scorer never reads it)."""
RUN_TIMEOUT_S = 300


def write_config(
    tmp: Path,
    bootstrap: str,
    topic: str,
    kafka_sink_topic: str | None = None,
    max_offsets: int | None = None,
    trigger: dict | None = None,
    trusted_types: tuple[str, ...] = (),
    **overrides,
) -> Path:
    """Write `raw_config`'s scorer YAML under `tmp` for a `stream-scorer` process on one core
    (Parquet sink, optional Kafka sink, Parquet dead letter); `trusted_types` lets the scorer
    load test models of our own (`stream_scorer.testing`); `overrides` replace top-level keys."""
    config = raw_config(tmp, bootstrap, topic)
    if max_offsets:
        config["source"]["options"]["maxOffsetsPerTrigger"] = str(max_offsets)
    if kafka_sink_topic:
        config["sinks"].append({"kind": "kafka", "topic": kafka_sink_topic})
    config["model"]["trusted_types"] = list(trusted_types)
    config["trigger"] = trigger or config["trigger"]
    config["spark"] = {"spark.master": "local[1]", "spark.sql.shuffle.partitions": "1"}
    config.update(overrides)
    path = tmp / "scorer.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def scorer_env(fault: str | None = None, release: Path | None = None) -> dict[str, str]:
    """The subprocess environment: this interpreter for workers, the fault armed or not
    (`release`: the file that releases a `hold-batch`)."""
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    for name in (ENV_VAR, RELEASE_VAR):
        env.pop(name, None)
    if fault:
        env[ENV_VAR] = fault
    if release:
        env[RELEASE_VAR] = str(release)
    return env


def run_once(config: Path, fault: str | None = None) -> subprocess.CompletedProcess:
    """Run `stream-scorer run --config config --once` to its end; output captured."""
    return subprocess.run(
        [*_cli(fault), "run", "--config", str(config), "--once"],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, env=scorer_env(fault),
    )  # fmt: skip


def start_daemon(
    config: Path, log: Path, fault: str | None = None, release: Path | None = None
) -> subprocess.Popen:
    """Start `stream-scorer run --config config` (the daemon), its output going to `log`."""
    return _start([*_cli(fault), "run", "--config", str(config)], log, scorer_env(fault, release))


def start_once(config: Path, log: Path) -> subprocess.Popen:
    """Start `stream-scorer run --config config --once` without waiting; output to `log`."""
    return _start([CLI, "run", "--config", str(config), "--once"], log, scorer_env())


def _cli(fault: str | None) -> list[str]:
    return FAULT_RUN if fault else [CLI]


def _start(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)


def wait_for(condition, timeout_s: float, what: str, interval_s: float = 0.2) -> None:
    """Poll `condition()` until it is true; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout_s}s waiting for {what}"
        time.sleep(interval_s)


def batch_files(checkpoint: Path, log: str) -> list[int]:
    """Batch ids with a file in `<checkpoint>/<log>` (`offsets` or `commits`), sorted."""
    folder = checkpoint / log
    return sorted(int(p.name) for p in folder.glob("[0-9]*")) if folder.is_dir() else []


def sink_keys(bootstrap: str, topic: str, expected: set[str], timeout_s: float = 60.0) -> list[str]:
    """Keys of `topic`'s records from the start, read until all of `expected` were seen."""
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    keys: list[str] = []
    deadline = time.monotonic() + timeout_s
    try:
        while not expected <= set(keys) and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                keys.extend(record.key.decode() for record in batch)
    finally:
        consumer.close()
    return keys
