"""Cold start: `stream-scorer run --once` on a 4-record topic against a bare PySpark floor.

Starts an embedded broker, loads 4 JSON records into a 4-partition topic (one record, one
batch, per partition), publishes the LR demo model, then in turns (each run rotating the
order), `--repeats` times each: (a) the floor, a fresh `python -c` that starts a `local[2]`
session, runs one pandas UDF over 4 rows and stops; (b) `python -m stream_scorer run --once
--config X` in a fresh process with a fresh checkpoint; with `--baseline DIR`, (c) the same
command run from the checkout in DIR (put first on PYTHONPATH), for a before/after in one
run. Reports the wall medians, their ratio to the floor (target: 1.5x at most) and each
scorer's phases from the timestamps of its own log lines. Writes
`bench/results/cold_start.json`. Run:
`.venv/bin/python -m bench.cold_start [--repeats 3] [--baseline ../checkout] [--conf k=v ...]`.
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
from stream_scorer.testing.scorer_setup import raw_config
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore

RECORDS = 4
CHECKOUT = Path(__file__).resolve().parents[1]
RESULTS = CHECKOUT / "bench" / "results" / "cold_start.json"

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
    raw = raw_config(
        root / f"run-{run}",
        bootstrap,
        topic,
        FEATURES,
        model={"store": str(root / "models")},
        spark={"spark.master": "local[2]", **conf},
    )
    path = root / f"scorer-{run}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def timed(cmd: list[str], env: dict[str, str], cwd: Path = CHECKOUT) -> tuple[float, float, str]:
    """Run `cmd` in `cwd`; return its start (epoch s), wall seconds and stderr. Raises on
    failure. (`python -m` puts `cwd` first on the path: it decides which checkout runs.)"""
    began_epoch, began = time.time(), time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
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


def run_scorer(root: Path, bootstrap: str, tag: str, conf: dict, checkout: Path) -> tuple:
    """Run `stream-scorer run --once` from `checkout` with a fresh checkpoint; return wall s
    and phases. The checkout goes first on PYTHONPATH too, for Spark's Python processes."""
    cfg = scorer_config(root, bootstrap, "cold", tag, conf)
    cmd = [sys.executable, "-m", "stream_scorer", "run", "--once", "--config", str(cfg)]
    path = os.pathsep.join([str(checkout), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYTHONPATH": path}
    began, seconds, stderr = timed(cmd, env, checkout)
    if f"batch 0: {RECORDS} scored" not in stderr:
        msg = f"scorer did not score {RECORDS} records in batch 0:\n{stderr[-3000:]}"
        raise RuntimeError(msg)
    return seconds, phases(stderr, began, seconds)


def report(name: str, walls: list[float], breakdown: list[dict], floor: float) -> dict:
    """Print one scorer's wall times and phases; return them with the medians and ratio."""
    medians = {phase: statistics.median(b[phase] for b in breakdown) for phase, _ in PHASES}
    ratio = statistics.median(walls) / floor
    runs = " / ".join(f"{s:.1f}" for s in walls)
    print(f"{name:58s} {statistics.median(walls):9.1f}  {runs}  ({ratio:.2f}x the floor)")
    for phase, _ in PHASES:
        runs = " / ".join(f"{b[phase]:.1f}" for b in breakdown)
        print(f"  {phase:56s} {medians[phase]:9.1f}  {runs}")
    return {"wall_s": walls, "ratio": ratio, "phases_s": breakdown, "phase_medians_s": medians}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each, in turns")
    parser.add_argument("--conf", nargs="*", default=[], help="extra Spark settings key=value")
    parser.add_argument("--baseline", type=Path, help="a checkout to run in turns, as before")
    args = parser.parse_args()
    conf = dict(kv.split("=", 1) for kv in args.conf)
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    scorers = {"stream-scorer run --once, 4 records": CHECKOUT}
    if args.baseline:
        scorers[f"... from {args.baseline}"] = args.baseline.resolve()
    floor: list[float] = []
    walls: dict[str, list[float]] = {name: [] for name in scorers}
    breakdown: dict[str, list[dict]] = {name: [] for name in scorers}
    loads = []
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        load(broker.bootstrap_servers, "cold", RECORDS)
        model = save_model(train_demo_model("binary", n_features=4), root / "lr.joblib")
        publish_sklearn(ModelStore(root / "models"), model, FEATURES)
        for run in range(args.repeats):
            # Each run rotates the order, so no command always follows the same one.
            order = [None, *scorers]
            order = order[run % len(order) :] + order[: run % len(order)]
            for name in order:
                loads.append(load_average())
                if name is None:
                    floor.append(timed([sys.executable, "-c", FLOOR], env)[1])
                    print(f"run {run}: floor {floor[-1]:5.1f} s  (load {loads[-1]})", flush=True)
                    continue
                tag = f"{run}-{list(scorers).index(name)}"
                bootstrap = broker.bootstrap_servers
                seconds, split = run_scorer(root, bootstrap, tag, conf, scorers[name])
                walls[name].append(seconds)
                breakdown[name].append(split)
                phases_s = ", ".join(f"{v:.1f}" for v in split.values())
                print(f"run {run}: {name[:30]:30s} {seconds:4.1f} s  ({phases_s})  "
                      f"(load {loads[-1]})", flush=True)  # fmt: skip
    median_floor = statistics.median(floor)
    print(f"\n{'':58s} {'median s':>9s}  runs")
    runs = " / ".join(f"{s:.1f}" for s in floor)
    print(f"{'floor: local[2] + one pandas UDF over 4 rows':58s} {median_floor:9.1f}  {runs}")
    results = {name: report(name, walls[name], breakdown[name], median_floor) for name in scorers}
    print(f"target 1.5x the floor; load averages (1, 5, 15 min) over the run: {loads}")
    RESULTS.parent.mkdir(exist_ok=True)
    result = {
        "conf": conf,
        "floor_s": floor,
        "scorers": results,
        "load_averages": loads,
    }
    RESULTS.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
