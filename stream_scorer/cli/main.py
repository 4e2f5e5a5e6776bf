"""The `stream-scorer` command line."""

import argparse
import sys

from stream_scorer import __version__
from stream_scorer.cli.commands import broker, demo, model, produce, report, run, status
from stream_scorer.errors import ScorerError
from stream_scorer.runtime.logs import configure_console
from stream_scorer.sinks.base import NO_HOOKS, BatchHooks


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="stream-scorer",
        description="Score a Kafka stream with a scikit-learn model on Spark, with hot reload.",
    )
    parser.add_argument("--version", action="version", version=f"stream-scorer {__version__}")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR")
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show Spark's and the Kafka clients' log lines here too (else: in the log file)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (run, status, report, model, produce, broker, demo):
        command.register(sub)
    return parser


def main(argv: list[str] | None = None, hooks: BatchHooks = NO_HOOKS) -> int:
    """Run a sub-command; a ScorerError prints `error: ...` and exits 2.

    `hooks` observe every batch of `run` (tests pass fault hooks: `testing.fault_run`).
    """
    args = build_parser().parse_args(argv)
    args.hooks = hooks
    configure_console(args.log_level, args.verbose)
    try:
        return args.func(args)
    except ScorerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
