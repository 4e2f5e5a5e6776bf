"""The README's small figures, each measured here: what one call or one start costs.

`.venv/bin/python -m bench.figures [--rounds 20]` prints, as medians of `rounds`:

- the high-water-mark probe (`sources.high_watermark`) of a 3-partition topic on the
  embedded broker, in ms per trigger;
- one alias lookup (`MlflowSource.current_version`) on a local SQLite MLflow registry, in ms
  per micro-batch;
- the CPU-seconds a Python worker forked from `runtime.worker_daemon` saves: a fresh
  interpreter importing its PRELOADED modules, less one importing `pyspark.worker` (which
  Spark's own daemon imports before it forks), alternated, 3 rounds;
- the CPU-seconds a data source planner spends importing pyspark's data source API from
  Spark's bundled `pyspark.zip` against from site-packages (3 rounds each, alternated).
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyspark

from stream_scorer.runtime.worker_daemon import PRELOADED

ZIP = Path(pyspark.__file__).parent / "python" / "lib" / "pyspark.zip"
PLANNER_IMPORT = "import pyspark.sql.datasource, pyspark.sql.worker.plan_data_source_read"


def median_ms(call: Callable[[], object], rounds: int) -> float:
    """Median wall time of `call()` over `rounds` calls, in ms (one warm-up call first)."""
    call()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def child_cpu_s(code: str, env: dict[str, str]) -> float:
    """CPU-seconds (user + system) of `python -c code` in a fresh interpreter."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def probe_ms(rounds: int) -> float:
    """The probe of a 3-partition topic holding 10 records per partition."""
    from kafka import KafkaProducer
    from kafka.structs import TopicPartition

    from stream_scorer.devtools.broker import EmbeddedBroker
    from stream_scorer.sources.high_watermark import probe_high_watermarks
    from stream_scorer.sources.metadata import consumer_settings
    from stream_scorer.testing.topics import create_topic

    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker(log_path=Path(tmp, "b.log")) as b:
        topic = create_topic(b.bootstrap_servers, 3)
        producer = KafkaProducer(bootstrap_servers=b.bootstrap_servers)
        for i in range(30):
            producer.send(topic, b"{}", partition=i % 3)
        producer.flush()
        producer.close()
        settings = consumer_settings({"kafka.bootstrap.servers": b.bootstrap_servers})
        listed = {TopicPartition(topic, p): 10 for p in range(3)}
        return median_ms(lambda: probe_high_watermarks(settings, listed), rounds)


def alias_lookup_ms(rounds: int) -> float:
    """`current_version` of `models:/fraud@champion` on a SQLite registry."""
    from mlflow import MlflowClient

    from stream_scorer.config.model_uri import parse_model_uri
    from stream_scorer.versions.sources.mlflow import MlflowSource

    with tempfile.TemporaryDirectory() as tmp:
        uri = f"sqlite:///{tmp}/mlflow.db"
        client = MlflowClient(uri)
        client.create_registered_model("fraud")
        client.create_model_version("fraud", source=Path(tmp).as_uri())
        client.set_registered_model_alias("fraud", "champion", "1")
        source = MlflowSource(parse_model_uri("models:/fraud@champion"), uri, {}, [])
        return median_ms(source.current_version, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="calls per timed figure")
    rounds = parser.parse_args().rounds
    print(f"load before: {os.getloadavg()[0]:.2f}")
    print(f"high-water-mark probe, 3 partitions: {probe_ms(rounds):.1f} ms (median)")
    print(f"alias lookup, SQLite registry: {alias_lookup_ms(rounds):.1f} ms (median)")
    env = dict(os.environ)
    preload = "; ".join(f"import {name}" for name in PRELOADED)
    saved = [
        child_cpu_s(preload, env) - child_cpu_s("import pyspark.worker", env) for _ in range(3)
    ]
    print(f"saved per worker start by the preloading daemon: {statistics.median(saved):.2f} CPU-s")
    zipped, installed = [], []
    for _ in range(3):  # alternated: the zip's import compiles every module it imports
        zipped.append(child_cpu_s(PLANNER_IMPORT, {**env, "PYTHONPATH": str(ZIP)}))
        installed.append(child_cpu_s(PLANNER_IMPORT, env))
    zip_s, site_s = statistics.median(zipped), statistics.median(installed)
    print(
        f"planner import: {zip_s:.2f} CPU-s from pyspark.zip, {site_s:.2f} from site-packages "
        f"({zip_s - site_s:.2f} saved per planner, medians of 3)"
    )
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
