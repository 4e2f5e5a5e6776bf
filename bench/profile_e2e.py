"""Where a run-once scorer's Python CPU time goes: py-spy samples of bench/e2e.py, by phase.

Runs `python -m bench.e2e <args>`, attaches `py-spy record --subprocesses` to it once it
prints "timing" (after the warm-up run, unless `--cold`; py-spy is on PyPI:
`.venv/bin/pip install py-spy`) and sorts the samples of Spark's Python workers into
phases by the first listed phase any frame names. The daemon's idle `select` is left out;
the JVM's share (Arrow exchange, Parquet write, scheduling) is not sampled. Samples count
wall time while runnable, so on a loaded machine only the shares mean anything. Run:
`.venv/bin/python -m bench.profile_e2e --records 200000 --clients confluent-kafka`,
or `--raw FILE` to sort an existing raw profile.
"""

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from stream_scorer.runtime import worker_daemon

# (phase, substrings of a frame), first match wins, so specific phases come first.
PHASES = (
    ("worker start-up: imports", ("_find_and_load", "zipimport", "invalidate_caches")),
    ("record decoding (kafka-python)", ("kafka/record/",)),
    ("broker fetch + protocol (kafka-python)", ("kafka/",)),
    (
        "fetch + decoding (librdkafka consume)",
        ("_fetch (stream_scorer/sources/readers/confluent",),
    ),
    ("Arrow conversion of records", ("to_record_batch",)),
    ("JSON parsing", ("json_parser.py",)),
    ("scoring (model + UDF output)", ("stream_scorer/scoring/",)),
    ("Spark worker: Arrow exchange with the JVM", ("serializers.py", "worker.py")),
    ("daemon: forking workers", ("worker (daemon.py",)),
)


def phase_of(frames: list[str]) -> str:
    """Return the phase of one sampled stack (outermost frame first)."""
    for phase, marks in PHASES:
        if any(mark in frame for frame in frames for mark in marks):
            return phase
    return "other"


def summarize(raw: Path) -> dict[str, int]:
    """Return samples per phase of the Spark Python workers in a py-spy raw profile."""
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if worker_daemon.MODULE not in stack or not samples.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith("process ")]
        if frames and frames[-1].startswith("manager (daemon.py"):
            continue  # the daemon waiting in select(): idle, not CPU
        phase = (
            phase_of(frames) if frames else "native threads, no Python frame (librdkafka, Arrow)"
        )
        counts[phase] += int(samples)
    return dict(counts.most_common())


def profile(spy: str, raw: Path, e2e_args: list[str]) -> None:
    """Run bench.e2e, recording it with py-spy from its first "timing" line to its end."""
    bench = subprocess.Popen(
        [sys.executable, "-m", "bench.e2e", *e2e_args], stdout=subprocess.PIPE, text=True
    )
    recorder = None
    for line in bench.stdout:
        print(line, end="", flush=True)
        if recorder is None and line.startswith("timing"):
            command = [spy, "record", "--subprocesses", "--nonblocking", "--format", "raw"]
            command += ["-o", str(raw), "--pid", str(bench.pid)]
            recorder = subprocess.Popen(command)
    bench.wait()
    if recorder is not None:
        recorder.wait(timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, help="sort this raw profile instead of running")
    args, e2e_args = parser.parse_known_args()
    raw = args.raw
    if raw is None:
        spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
        raw = Path(tempfile.mkdtemp()) / "e2e.txt"
        profile(spy, raw, e2e_args)
    counts = summarize(raw)
    total = sum(counts.values()) or 1
    print(f"Python worker samples: {total} ({raw})")
    for phase, samples in counts.items():
        print(f"{samples / total:6.1%}  {phase}")


if __name__ == "__main__":
    main()
