"""The scoring stage of a 1,000-key family against one model, in-process, per Arrow batch.

What each scoring task runs per Arrow batch (`udf._score_batch`: decode the JSON values,
predict, the struct's columns), timed on one batch of `--rows` values (`id`, 4 doubles,
`store` cycling over `--keys` keys, as one partition of `bench.e2e.load` holds them: ~10
rows per key per batch at the defaults). Contenders: the single demo binary LR
(`bench.family_score.publish_both`) and the family of one LR per key (`model.route_by:
store`), each with its decoder as the scorer builds it. Per round the two alternate
`--repeats` times; a round keeps each one's best; the figures are medians over `--rounds`
rounds, with the family / single ratio (target >= 0.9) and the load average. `--profile`
then prints cProfile's top functions of the family's stage. Not Spark, not Kafka: the
end-to-end figure is `bench.family_score`'s.
Run: `python -m bench.family_stage [--rows 10000] [--keys 1000] [--rounds 5] [--profile]
[--root DIR]` (`--root`: publish both stores there once, reuse them in later runs).
"""

import argparse
import cProfile
import functools
import os
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from bench.e2e import FEATURES
from bench.family_score import publish_both
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.features.factory import build_decoder
from stream_scorer.flavors.base import load_predictor
from stream_scorer.scoring.udf import _score_batch
from stream_scorer.versions.store import ModelStore


def stage(root: Path, kind: str) -> Callable[[list[bytes]], object]:
    """The per-batch function of `kind` ('single' or 'family'), its keys' models loaded."""
    store = ModelStore(root / kind)
    version = store.current_version() or ""
    manifest = store.manifest(version)
    predictor = load_predictor(store.read_artifact(version), manifest)
    route_by = "store" if kind == "family" else None
    passthrough = {"id": "long"} | ({"store": "string"} if route_by else {})
    features = FeaturesConfig(schema=FEATURES, passthrough=passthrough)
    decoder = build_decoder(features, manifest, route_by)
    return functools.partial(_score_batch, predictor, decoder)


def values(rows: int, keys: int) -> list[bytes]:
    """One Arrow batch of JSON values, `store` cycling over `keys` keys."""
    return [
        orjson.dumps(
            {"id": i, **{f"f{j}": (i * 4 % 997) * 0.01 - j for j in range(4)}}
            | {"store": f"k{i % keys:04d}"}
        )
        for i in range(rows)
    ]


def main(argv: list[str] | None = None) -> int:
    """Time both stages in turns; print each round, the medians, the ratio and the load."""
    args = _parse(argv)
    batch = values(args.rows, args.keys)
    rates: dict[str, list[float]] = {"single": [], "family": []}
    loads: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.root or tmp)
        if not (root / "family").exists():
            root.mkdir(parents=True, exist_ok=True)
            publish_both(root, args.keys)
        stages = {kind: stage(root, kind) for kind in rates}
        for run in stages.values():
            run(batch)  # loads every key's model
        for rnd in range(args.rounds):
            best = dict.fromkeys(rates, float("inf"))
            for rep in range(args.repeats):  # interleaved: a change of load hits both alike
                for kind in list(rates) if (rnd + rep) % 2 == 0 else list(rates)[::-1]:
                    began = time.perf_counter()
                    stages[kind](batch)
                    best[kind] = min(best[kind], time.perf_counter() - began)
            loads.append(os.getloadavg()[0])
            for kind, seconds in best.items():
                rates[kind].append(args.rows / seconds)
            single, family = rates["single"][-1], rates["family"][-1]
            print(f"round {rnd}: single {single:,.0f} rec/s, family {family:,.0f} rec/s "
                  f"(load {loads[-1]:.1f})", flush=True)  # fmt: skip
        medians = {kind: statistics.median(found) for kind, found in rates.items()}
        print(f"medians: single {medians['single']:,.0f} rec/s, family {medians['family']:,.0f} "
              f"rec/s; family / single {medians['family'] / medians['single']:.2f}x "
              f"(target >= 0.9); load average {min(loads):.1f}-{max(loads):.1f}")  # fmt: skip
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(lambda: [stages["family"](batch) for _ in range(args.repeats)])
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.family_stage", description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000, help="rows of the Arrow batch")
    parser.add_argument("--keys", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5, help="runs of each per round")
    parser.add_argument("--profile", action="store_true", help="cProfile the family's stage")
    parser.add_argument("--root", help="stores published by an earlier run (kept), to reuse")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
