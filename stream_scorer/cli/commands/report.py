"""`stream-scorer report`: the monitoring history drawn into one self-contained HTML file."""

import argparse

from stream_scorer.monitoring.history_read import history_location, parse_age
from stream_scorer.monitoring.report import write_report


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `report` sub-command."""
    p = subparsers.add_parser(
        "report",
        help="draw the monitoring history into one HTML file",
        description="Reads the history the scorer keeps (monitoring.history, else "
        "<checkpoint>/history) and writes one self-contained HTML file (no network needed "
        "to open it): records per second, batch latency and lag; model versions with "
        "reloads, refusals and fallbacks; dead letters by reason; PSI per feature over "
        "time; the baseline against the recent distribution of the worst features.",
    )
    p.add_argument("--config", required=True, help="the scorer's YAML config (for its history)")
    p.add_argument("--since", help="only the last part of the history: 30m, 24h, 7d")
    p.add_argument("--out", default="report.html", help="the HTML file to write (report.html)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the report; a missing or empty history raises `HistoryError` naming its path."""
    since = parse_age(args.since) if args.since else None
    location = history_location(args.config)
    frame = write_report(location, args.out, since)
    first, last = (f"{t:%Y-%m-%d %H:%M}" for t in frame["time"].iloc[[0, -1]])
    print(f"{args.out}: {len(frame)} batches from {first} to {last} UTC")
    return 0
