"""Every benchmark in one run, then one summary table: `python -m bench.suite [--quick]`.

Parts run one after another, each in its own Python process (a fresh Spark JVM and fresh
Python workers, so one part's memory or failure cannot touch the next; each bounded in time):
scoring (`bench.run`), end to end (`bench.e2e`'s `main`, when importable), latency, reload,
memory. Each part prints its own report and writes `bench/results/<part>.json`; the table
compares their figures with the project's targets and goes to `bench/results/suite.json`.
"""

import argparse
import importlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.stream_harness import RESULTS_DIR, target_row

ROOT = Path(__file__).parent.parent
E2E_TARGET = 150_000
"""Records/s the project targets for `stream-scorer run --once` on 2 cores."""
_CALL_MAIN = (
    "import inspect, sys; from {module} import main; "
    "code = main(sys.argv[1:]) if inspect.signature(main).parameters else main(); "
    "sys.exit(code or 0)"
)
_E2E_LINE = re.compile(r"^(\S+)\s+(maxRecordsPerPartition=\S+)\s+([\d,]+) records/s", re.M)
"""A rate line `bench.e2e` prints (it writes no results file)."""


@dataclass(frozen=True)
class Part:
    """One benchmark: its module, arguments for a full and a quick run, its results file."""

    name: str
    module: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    results: str


PARTS = (
    Part("scoring", "bench.run", ("--repeats", "1"), ("--quick",), "scoring"),
    Part("end to end", "bench.e2e", (), ("--records", "100000"), "e2e"),
    Part("latency", "bench.latency", (), ("--quick",), "latency"),
    Part("reload", "bench.reload", (), ("--quick",), "reload"),
    Part("memory", "bench.memory", (), ("--quick",), "memory"),
)


def main(argv: list[str] | None = None) -> int:
    """Run every part, print the summary table, write bench/results/suite.json."""
    parser = argparse.ArgumentParser(prog="python -m bench.suite", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="every part's quick variant")
    parser.add_argument("--only", nargs="+", choices=[p.results for p in PARTS], metavar="PART")
    parser.add_argument("--timeout", type=float, help="seconds per part (900; quick 600)")
    args = parser.parse_args(argv)
    timeout = args.timeout or (600.0 if args.quick else 900.0)
    started, rows, parts = time.time(), [], []
    for part in PARTS:
        if args.only and part.results not in args.only:
            continue
        print(f"\n=== {part.name}: {part.module} ===", flush=True)
        began = time.time()
        status, output = run_part(part, part.quick if args.quick else part.full, timeout)
        parts.append({"part": part.name, "status": status, "seconds": time.time() - began})
        rows += [{"part": part.name, **row} for row in part_rows(part, began, output)]
    document = {"quick": args.quick, "seconds": time.time() - started,
                "load_avg_at_end": os.getloadavg(), "parts": parts, "rows": rows}  # fmt: skip
    (RESULTS_DIR / "suite.json").write_text(json.dumps(document, indent=2, default=float))
    print_table(parts, rows)
    return 0 if all(p["status"] == "ok" for p in parts) else 1


def run_part(part: Part, args: tuple[str, ...], timeout_s: float) -> tuple[str, str]:
    """Run `part` in a child process, echoing its output; return (status, output).

    Status: "ok", "failed (exit N)", "timed out after S s", or "skipped: <why>" when the
    module cannot be imported. The child's process group is killed on timeout.
    """
    try:
        importlib.import_module(part.module)
    except Exception as exc:  # any import failure means: skip, and say why
        status = f"skipped: {part.module} not importable ({type(exc).__name__}: {exc})"
        print(status)
        return status, ""
    code = ["-c", _CALL_MAIN.format(module=part.module)]
    child = subprocess.Popen(
        [sys.executable, *code, *args], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    timer = threading.Timer(timeout_s, os.killpg, (child.pid, signal.SIGKILL))
    timer.start()
    lines = []
    for line in child.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    returncode = child.wait()
    timed_out = not timer.is_alive()  # the timer ran: it killed the child
    timer.cancel()
    if timed_out:
        return f"timed out after {timeout_s:.0f} s", "".join(lines)
    return ("ok" if returncode == 0 else f"failed (exit {returncode})"), "".join(lines)


def part_rows(part: Part, since: float, output: str) -> list[dict]:
    """Summary rows of a part: its results file's `summary` if written by this run, else
    what the part's own format allows (scoring.json's stage rows, e2e's printed rates)."""
    path = RESULTS_DIR / f"{part.results}.json"
    document = {}
    if path.exists() and path.stat().st_mtime >= since:
        document = json.loads(path.read_text())
    if "summary" in document:
        return document["summary"]
    if part.results == "scoring" and document:
        return _scoring_rows(document)
    if part.results == "e2e":
        return [_e2e_row(client, split, float(rate.replace(",", "")))
                for client, split, rate in _E2E_LINE.findall(output)]  # fmt: skip
    return []


def _e2e_row(client: str, split: str, rate: float) -> dict:
    setting = split.split("=", 1)[1]
    metric = f"run --once, {client}" + ("" if setting == "unset" else f", split {setting}")
    return target_row(metric, rate, "records/s", f">= {E2E_TARGET:,}", rate >= E2E_TARGET)


def _scoring_rows(document: dict) -> list[dict]:
    rows = []
    for result in document["results"]:
        if result["key"] == "stage" and result["rows_per_s"]:
            rate = statistics.median(result["rows_per_s"])
            ratio = result.get("x_vs_5")
            note = "(info)" if ratio is None else f"(info) {ratio:.2f}x pandas_udf"
            rows.append(target_row(f"stage {result['model']} rows/s", rate, "rows/s", note, None))
    return rows


def print_table(parts: list[dict], rows: list[dict]) -> None:
    """Print each part's status and time, then every figure against its target."""
    print("\n=== summary ===")
    for p in parts:
        print(f"{p['part']:<11} {p['seconds']:>6.0f} s  {p['status']}")
    print(f"\n{'part':<11} {'metric':<40} {'measured':>20}  {'target':<36} met")
    for r in rows:
        number = f"{r['value']:,.0f}" if abs(r["value"]) >= 100 else f"{r['value']:.3g}"
        met = {True: "yes", False: "NO", None: "-"}[r["met"]]
        print(
            f"{r['part']:<11} {r['metric']:<40} {number + ' ' + r['unit']:>20}  "
            f"{r['target']:<36} {met}"
        )
    print(f"\nload average now: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    raise SystemExit(main())
