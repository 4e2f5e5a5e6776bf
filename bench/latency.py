"""Latency at a steady rate: p50/p95/p99 of (scored_at - Kafka record timestamp).

A `SteadyProducer` streams 10k records/s (linger 5 ms, 4 partitions) into a fresh embedded
broker for 60 s (quick: 20 s); the scorer runs with a `250 milliseconds` trigger (`--trigger`).
Records of the first seconds (worker start-up) are left out of the percentiles. Target: p99
<= 1 s.

The embedded broker's latest offset is the base offset of a partition's last record batch + 1,
so a record already acknowledged when a micro-batch is planned may stay invisible until the
next producer batch lands, and then wait for the next trigger. Measured per record: a record
from a producer batch that straddles two micro-batches was hidden by the bug (see
`tansu_delay`). Run: `python -m bench.latency [--quick] [--rate N] [--seconds S] [--trigger S]`.
"""

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from bench.steady_producer import LINGER_MS, Produced
from bench.stream_harness import StreamBench, exactly_once, save_result, target_row
from stream_scorer.testing.scorer_setup import NUMERIC, publish

TARGET_P99_S = 1.0
SAME_ACK_S = 100e-6
"""Acks of one producer batch differ by microseconds; consecutive batches by >= ~1 ms."""
QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}


def main(argv: list[str] | None = None) -> int:
    """Run the latency bench, print the figures, write bench/results/latency.json."""
    args = _parse(argv)
    with (
        tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp,
        StreamBench(Path(tmp), NUMERIC, trigger_s=args.trigger) as bench,
    ):
        publish(bench.store.root, "binary", NUMERIC)
        bench.start()
        bench.warm_up()
        steady = bench.stream(args.rate)
        time.sleep(args.seconds)
        produced = bench.finish(steady)
        frame, batches = bench.outputs(), bench.batches()
    document = analyse(frame, batches, produced, args.warmup)
    document["settings"] = vars(args) | {"linger_ms": LINGER_MS}
    _print(document)
    print(f"wrote {save_result('latency', document)}")
    return 0


def analyse(frame: pd.DataFrame, batches: pd.DataFrame, produced: Produced, warmup_s: float):
    """Latency percentiles after `warmup_s`, batch figures, the Tansu-bug share, row counts."""
    acks = pd.DataFrame(
        [(p, o, t) for p, offsets in produced.acked.items() for o, t in offsets.items()],
        columns=["partition", "offset", "acked"],
    )
    rows = tansu_delay(frame.merge(acks, on=["partition", "offset"]))
    rows = rows[rows["created"] >= rows["created"].min() + warmup_s]
    latency = rows["scored"] - rows["created"]
    delay = rows["tansu_delay"]
    late_half = latency[rows["created"] >= rows["created"].median()]
    p99 = float(latency.quantile(0.99))
    p99_no_bug = float((latency - delay).quantile(0.99))
    delayed = delay[delay > 0]
    spanning = rows[rows["spans"]].groupby("producer_batch")["first_part"].first()
    document = {
        "producer": {"rate": produced.rate, "records": produced.count,
                     "max_backlog": produced.max_backlog},
        "latency_s": {**_quantiles(latency), "max": float(latency.max()),
                      "p99_second_half": float(late_half.quantile(0.99)), "rows": len(rows)},
        "batches": {"count": len(batches), "median_s": float(batches["seconds"].median()),
                    "p95_s": float(batches["seconds"].quantile(0.95)),
                    "median_add_batch_s": float(batches["add_batch_s"].median()),
                    "median_rows": float(batches["rows"].median())},
        "tansu_bug": {"delayed_rows": len(delayed),
                      "delayed_fraction": float((delay > 0).mean()),
                      "mean_delay_of_delayed_s": float(delayed.mean()) if len(delayed) else 0.0,
                      "mean_delay_all_s": float(delay.mean()),
                      "p99_without_bug_delay_s": p99_no_bug,
                      "split_producer_batches": len(spanning),
                      "split_after_first_record": int((spanning == 1).sum())},
        "exactly_once": exactly_once(frame, produced),
    }  # fmt: skip
    document["summary"] = [
        target_row("latency p99", p99, "s", f"<= {TARGET_P99_S:g} s", p99 <= TARGET_P99_S),
        target_row("latency p99 w/o Tansu delay", p99_no_bug, "s", "(info)", None),
    ]
    return document


def tansu_delay(rows: pd.DataFrame) -> pd.DataFrame:
    """Add each row's delay caused by the broker's latest-offset bug (`tansu_delay`, seconds).

    A producer batch is a run of consecutive offsets of a partition acknowledged together
    (within `SAME_ACK_S`). The broker appends a batch whole, so when a micro-batch holds part
    of one, the rest was already there at planning time and only the bug hid it: those rows'
    delay is their scored_at minus the scored_at of the batch's part in the earlier
    micro-batch. Also adds `producer_batch`, `spans` (the producer batch is split across
    micro-batches) and `first_part` (its rows in the earlier micro-batch; the bug predicts 1).
    """
    rows = rows.sort_values(["partition", "offset"]).reset_index(drop=True)
    same = (
        (rows["partition"] == rows["partition"].shift())
        & (rows["offset"] == rows["offset"].shift() + 1)
        & (rows["acked"] - rows["acked"].shift() < SAME_ACK_S)
    )
    rows["producer_batch"] = (~same).cumsum()
    group = rows.groupby("producer_batch")
    first = group["batch_id"].transform("min")
    earlier = rows["batch_id"] == first
    rows["spans"] = group["batch_id"].transform("nunique") > 1
    rows["first_part"] = earlier.groupby(rows["producer_batch"]).transform("sum")
    anchor = rows["scored"].where(earlier).groupby(rows["producer_batch"]).transform("max")
    rows["tansu_delay"] = (rows["scored"] - anchor).where(~earlier, 0.0).clip(lower=0.0)
    return rows


def _quantiles(values: pd.Series) -> dict[str, float]:
    return {name: float(values.quantile(q)) for name, q in QUANTILES.items()}


def _print(doc: dict) -> None:
    lat, bug, bat, prod = doc["latency_s"], doc["tansu_bug"], doc["batches"], doc["producer"]
    print(
        f"producer: {prod['records']:,} records at {prod['rate']:,.0f}/s "
        f"(max backlog {prod['max_backlog']:,})"
    )
    print(
        f"latency (s) over {lat['rows']:,} rows: p50 {lat['p50']:.3f}  p95 {lat['p95']:.3f}  "
        f"p99 {lat['p99']:.3f}  max {lat['max']:.3f}  (p99 second half "
        f"{lat['p99_second_half']:.3f})"
    )
    print(
        f"batches: {bat['count']}, median {bat['median_s']:.2f} s (foreachBatch "
        f"{bat['median_add_batch_s']:.2f} s), p95 {bat['p95_s']:.2f} s, "
        f"median {bat['median_rows']:,.0f} rows"
    )
    print(
        f"Tansu latest-offset bug: {bug['delayed_rows']:,} rows ({bug['delayed_fraction']:.2%}) "
        f"waited a batch longer ({bug['mean_delay_of_delayed_s']:.3f} s each, "
        f"{bug['mean_delay_all_s'] * 1e3:.2f} ms mean over all rows); p99 without that delay "
        f"{bug['p99_without_bug_delay_s']:.3f} s; {bug['split_producer_batches']} producer "
        f"batches split across micro-batches, {bug['split_after_first_record']} of them right "
        f"after their first record"
    )
    print(f"rows: {doc['exactly_once']}")  # fmt: skip


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20 s of streaming instead of 60")
    parser.add_argument("--rate", type=float, default=10_000, help="records/s (10,000)")
    parser.add_argument("--seconds", type=float, help="streaming time (60; quick 20)")
    parser.add_argument("--warmup", type=float, help="seconds left out at the start (5; quick 3)")
    parser.add_argument("--trigger", type=float, default=0.25, help="trigger interval, s (0.25)")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (20.0 if args.quick else 60.0)
    args.warmup = args.warmup or (3.0 if args.quick else 5.0)
    return args


if __name__ == "__main__":
    raise SystemExit(main())
