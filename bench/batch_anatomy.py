"""Where a steady micro-batch spends its time, at 10k records/s with a 250 ms trigger.

Runs the `bench.latency` setup (`StreamBench`: embedded broker, `SteadyProducer`, the
product's `Scorer`, Parquet) with Spark's event log on, for `--seconds` of steady stream,
then reports medians and 90th percentiles (and the 5 slowest triggers' phases) of:
- Spark's `durationMs` phases per trigger (offset log, planning, `addBatch`, commit log);
- timed calls on the driver: `foreachBatch`, each sink's `write`, the commit marker;
- per scoring job, from the event log: job time, first task launch, tasks, task wall and
  executor CPU time.

Batches 0-5 (the JVM compiling) are left out. Writes `bench/results/batch_anatomy.json`.
Run: `.venv/bin/python -m bench.batch_anatomy [--seconds 30] [--conf k=v ...]`.
"""

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from bench import stream_harness
from bench.stream_harness import StreamBench, save_result
from stream_scorer.runtime.pipeline import BatchPipeline
from stream_scorer.sinks.base import BatchMarkers, Sink
from stream_scorer.testing.scorer_setup import NUMERIC, publish

RATE = 10_000
TRIGGER_S = 0.25
FIRST_STEADY_BATCH = 6
"""Batches before it run while the JVM compiles its hot paths."""


def timed_calls(owner: type, name: str, label: str, into: dict[str, list[float]]) -> None:
    """Wrap `owner.name` so that each call appends its wall milliseconds to `into[label]`."""
    original: Callable = getattr(owner, name)

    def timed(*args, **kwargs):
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            into[label].append((time.perf_counter() - began) * 1000)

    setattr(owner, name, timed)


def spread(values: list[float]) -> dict[str, float]:
    """Median and 90th percentile of `values` (empty: zeros)."""
    if not values:
        return {"median": 0.0, "p90": 0.0}
    ordered = sorted(values)
    return {"median": statistics.median(ordered), "p90": ordered[int(len(ordered) * 0.9)]}


def job_figures(event_dir: Path, since_ms: float) -> dict[str, dict[str, float]]:
    """Per job of the event log submitted after `since_ms` (epoch), leaving out the first
    `FIRST_STEADY_BATCH`: wall ms, ms to the first task launch, tasks, and the medians per
    job of task wall ms and executor CPU ms."""
    jobs: dict[int, dict] = {}
    tasks_by_stage: dict[int, list[tuple[int, int, float]]] = defaultdict(list)
    for path in event_dir.glob("*/events_*"):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            kind = event["Event"]
            if kind == "SparkListenerJobStart":
                jobs[event["Job ID"]] = {
                    "start": event["Submission Time"],
                    "stages": event["Stage IDs"],
                }
            elif kind == "SparkListenerJobEnd" and event["Job ID"] in jobs:
                jobs[event["Job ID"]]["end"] = event["Completion Time"]
            elif kind == "SparkListenerTaskEnd":
                info, metrics = event["Task Info"], event.get("Task Metrics") or {}
                cpu_ms = metrics.get("Executor CPU Time", 0) / 1e6
                tasks_by_stage[event["Stage ID"]].append(
                    (info["Launch Time"], info["Finish Time"], cpu_ms)
                )
    figures: dict[str, list[float]] = defaultdict(list)
    steady_jobs = [job for _, job in sorted(jobs.items()) if job["start"] >= since_ms]
    for job in steady_jobs[FIRST_STEADY_BATCH:]:
        tasks = [t for stage in job["stages"] for t in tasks_by_stage.get(stage, [])]
        if not tasks or "end" not in job:
            continue
        figures["job ms"].append(job["end"] - job["start"])
        figures["to first launch ms"].append(min(t[0] for t in tasks) - job["start"])
        figures["tasks"].append(len(tasks))
        figures["task wall ms"].append(statistics.median(t[1] - t[0] for t in tasks))
        figures["task CPU ms"].append(statistics.median(t[2] for t in tasks))
    return {name: spread(values) for name, values in figures.items()}


def run(seconds: float, conf: dict[str, str]) -> dict:
    """Stream for `seconds` and return the figures (see the module)."""
    calls: dict[str, list[float]] = defaultdict(list)
    timed_calls(BatchPipeline, "_process", "foreachBatch", calls)
    timed_calls(Sink, "write", "sink write, marker included", calls)
    timed_calls(BatchMarkers, "mark_committed", "commit marker", calls)
    with tempfile.TemporaryDirectory() as tmp:
        events = Path(tmp) / "events"
        events.mkdir()
        stream_harness.SPARK_CONF.update(
            {
                "spark.eventLog.enabled": "true",
                "spark.eventLog.dir": str(events),
                "spark.eventLog.compress": "false",
                **conf,
            }
        )
        with StreamBench(Path(tmp) / "work", NUMERIC, trigger_s=TRIGGER_S) as bench:
            publish(bench.store.root, "binary", NUMERIC)
            bench.start()
            bench.warm_up()
            for values in calls.values():
                values.clear()
            steady_began_ms = time.time() * 1000
            steady = bench.stream(RATE)
            time.sleep(seconds)
            produced = bench.finish(steady)
            progress = [
                p
                for p in bench.scorer.query.recentProgress
                if p["batchId"] >= bench.first_steady_batch + FIRST_STEADY_BATCH
            ]
            calls = {name: values[FIRST_STEADY_BATCH:] for name, values in calls.items()}
        phases = sorted({name for p in progress for name in p["durationMs"]})
        return {
            "records": produced.count,
            "batches": len(progress),
            "phases_ms": {
                name: spread([p["durationMs"].get(name, 0) for p in progress]) for name in phases
            },
            "driver_calls_ms": {name: spread(values) for name, values in calls.items()},
            "jobs": job_figures(events, steady_began_ms),
            "slowest": [
                {"batch": p["batchId"], **p["durationMs"]}
                for p in sorted(progress, key=lambda p: -p["durationMs"]["triggerExecution"])[:5]
            ],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--conf", nargs="*", default=[], help="extra Spark settings key=value")
    args = parser.parse_args()
    result = run(args.seconds, dict(kv.split("=", 1) for kv in args.conf))
    print(f"{result['records']:,} records, {result['batches']} steady batches (median, p90):")
    for section in ("phases_ms", "driver_calls_ms", "jobs"):
        for name, figure in result[section].items():
            print(f"  {section:16s} {name:32s} {figure['median']:8.1f} {figure['p90']:8.1f}")
    for batch in result["slowest"]:
        print("  slowest", {name: ms for name, ms in batch.items() if ms})
    print(f"wrote {save_result('batch_anatomy', result)}")


if __name__ == "__main__":
    main()
