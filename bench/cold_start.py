"""Cold start: `stream-scorer run --once` on a 4-record topic against a bare PySpark floor.

Starts an embedded broker, loads 4 JSON records into a 4-partition topic (one record, one
batch, per partition), publishes the LR demo model, then in turns, `--repeats` times each:
(a) the floor, a fresh `python -c` that starts a `local[2]` session, runs one pandas UDF
over 4 rows and stops; (b) `python -m stream_scorer run --once --config X` in a fresh
process with a fresh checkpoint. Reports the wall medians, their ratio (target: 1.5x at
most) and the scorer's phases from the timestamps of its own log lines. Writes
`bench/results/cold_start.json`. Run:
`.venv/bin/python -m bench.cold_start [--repeats 3] [--conf k=v ...]`.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

from bench.e2e import FEATURES, load
from stream_scorer.devtools.broker import EmbeddedBroker
from stream_scorer.devtools.demo_models import save_model, train_demo_model
from stream_scorer.models.store import ModelStore

RECORDS = 4
RESULTS = Path(__file__).parent / "results" / "cold_start.json"

FLOOR = """
import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql.functions import pandas_udf

spark = SparkSession.builder.master("local[2]").getOrCreate()

@pandas_udf("long")
def plus_one(s: pd.Series) -> pd.Series:
    return s + 1

rows = spark.range(4).select(plus_one("id")).collect()
assert len(rows) == 4, rows
spark.stop()
"""
"""The floor: the least a PySpark program that runs Python on 4 rows pays for."""

PHASES = (
    ("pre-Spark (interpreter, imports, config, model, topics)", "checkpoint "),
    ("JVM + session", "Spark session ready"),
    ("checks in Spark (checkpoint, model load, sinks)", "start-time checks done"),
    ("query start", r"query \S+ started"),
    ("first batch (planning + batch 0)", "batch 0:"),
    ("stop and exit", None),
)
"""Each phase ends at the first log line matching its pattern; the last at process exit."""
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")


def scorer_config(root: Path, bootstrap: str, topic: str, run: int, conf: dict) -> Path:
    """Write a run-once scorer config with its own checkpoint and sinks; return its path."""
    raw = {
        "source": {
            "kind": "python-kafka",
            "options": {
                "kafka.bootstrap.servers": bootstrap,
                "subscribe": topic,
                "startingOffsets": "earliest",
            },
        },
        "features": {"schema": FEATURES, "passthrough": {"id": "long"}},
        "model": {"store": str(root / "models")},
        "checkpoint": str(root / f"checkpoint-{run}"),
        "sinks": [{"kind": "parquet", "path": str(root / f"out-{run}")}],
        "dead_letter": {"kind": "parquet", "path": str(root / f"dead-{run}")},
        "spark": {"spark.master": "local[2]", **conf},
    }
    path = root / f"scorer-{run}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run `cmd`; return its start (epoch s), wall seconds and stderr. Raises on failure."""
    began_epoch, began = time.time(), time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        msg = f"{cmd[:4]} exited {done.returncode}:\n{done.stderr[-3000:]}"
        raise RuntimeError(msg)
    return began_epoch, seconds, done.stderr


def phases(stderr: str, began: float, seconds: float) -> dict[str, float]:
    """Split a scorer run into PHASES from its log lines' timestamps (local time, ms)."""
    stamps: list[tuple[float, str]] = []
    for line in stderr.splitlines():
        found = _STAMP.match(line)
        if found:
            when = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            stamps.append((when, line))
    out, previous = {}, began
    for name, pattern in PHASES:
        if pattern is None:
            end = began + seconds
        else:
            end = next((t for t, line in stamps if re.search(pattern, line)), float("nan"))
        out[name] = end - previous
        previous = end
    return out


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` prints them."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each, in turns")
    parser.add_argument("--conf", nargs="*", default=[], help="extra Spark settings key=value")
    parser.add_argument("--label", default="", help="stored with the results (before/after)")
    args = parser.parse_args()
    conf = dict(kv.split("=", 1) for kv in args.conf)
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    floor, scorer, breakdown, loads = [], [], [], []
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        load(broker.bootstrap_servers, "cold", RECORDS)
        model = save_model(train_demo_model("binary", n_features=4), root / "lr.joblib")
        ModelStore(root / "models").publish(model, FEATURES)
        for run in range(args.repeats):
            loads.append(load_average())
            _, seconds, _ = timed([sys.executable, "-c", FLOOR], env)
            floor.append(seconds)
            print(f"run {run}: floor {seconds:5.1f} s  (load {loads[-1]})", flush=True)
            cfg = scorer_config(root, broker.bootstrap_servers, "cold", run, conf)
            cmd = [sys.executable, "-m", "stream_scorer", "run", "--once", "--config", str(cfg)]
            began, seconds, stderr = timed(cmd, env)
            if f"batch 0: {RECORDS} scored" not in stderr:
                msg = f"scorer did not score {RECORDS} records in batch 0:\n{stderr[-3000:]}"
                raise RuntimeError(msg)
            scorer.append(seconds)
            breakdown.append(phases(stderr, began, seconds))
            loads.append(load_average())
            split = ", ".join(f"{v:.1f}" for v in breakdown[-1].values())
            print(f"run {run}: scorer {seconds:4.1f} s  ({split})  (load {loads[-1]})", flush=True)
    ratio = statistics.median(scorer) / statistics.median(floor)
    medians = {name: statistics.median(b[name] for b in breakdown) for name, _ in PHASES}
    print(f"\n{'':58s} {'median s':>9s}  runs")
    print(f"{'floor: local[2] + one pandas UDF over 4 rows':58s} {statistics.median(floor):9.1f}  "
          + " / ".join(f"{s:.1f}" for s in floor))  # fmt: skip
    print(f"{'stream-scorer run --once, 4 records':58s} {statistics.median(scorer):9.1f}  "
          + " / ".join(f"{s:.1f}" for s in scorer))  # fmt: skip
    for name, _ in PHASES:
        runs = " / ".join(f"{b[name]:.1f}" for b in breakdown)
        print(f"  {name:56s} {medians[name]:9.1f}  {runs}")
    print(f"ratio scorer / floor: {ratio:.2f}x (target 1.5x); load averages {loads}")
    RESULTS.parent.mkdir(exist_ok=True)
    result = {
        "label": args.label,
        "conf": conf,
        "floor_s": floor,
        "scorer_s": scorer,
        "ratio": ratio,
        "phases_s": breakdown,
        "phase_medians_s": medians,
        "load_averages": loads,
    }
    RESULTS.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
