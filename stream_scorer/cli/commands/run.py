"""`stream-scorer run`: the scoring daemon."""

import argparse

from stream_scorer.config import load_config
from stream_scorer.runtime.scorer import Scorer


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `run` sub-command."""
    p = subparsers.add_parser(
        "run",
        help="run the scorer (daemon)",
        description="Read the Kafka source, score each micro-batch with the serving model and "
        "write the sinks. Resumes from the checkpoint. SIGTERM stops between batches.",
    )
    p.add_argument("--config", required=True, help="YAML config file (see configs/local.yaml)")
    p.add_argument(
        "--once",
        action="store_true",
        help="process everything available now (availableNow), then exit 0",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the config (failing fast on errors), then run until stopped or drained."""
    config = load_config(args.config)
    return Scorer(config, once=args.once).run()
