"""What model monitoring costs: the scorer with `monitoring.enabled` against without, one run.

Loads N JSON records (`id` + 8 double features, 4 partitions) on an embedded broker and
publishes a LogisticRegression with a baseline (`--baseline` rows of the same features). Then
for `--rounds` rounds, alternating which goes first, `python -m stream_scorer run --once` as
a fresh process into Parquet (the tasks write the files: the default path), with
`maxOffsetsPerTrigger` (default 200k), monitoring on (per feature counts per baseline bin in
the one pass, the drift window, a history row per batch) and off. The figure is *steady*: the
rows over the summed `batch_duration_ms` of batches 1 onwards, from the scorer's own JSON
lines (batch 0 pays the Python workers' start-up).

End to end, a loaded machine moves the rate more than monitoring does; so the **stage** is
measured too, in this process: decode and predict one Arrow batch of 10k records
(`udf._score_batch`, what each task runs) with and without the monitoring counts, the two
interleaved 15 times, best of each, `--rounds` times.

Prints each run, the medians, the on/off ratios (goal >= 0.9) and the load average; writes
`bench/results/monitoring_cost.json`. Run:
`.venv/bin/python -m bench.monitoring_cost --records 1000000 --rounds 3` (`--stage-only`: the
stage alone).
"""

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import orjson
import pandas as pd
import yaml

from bench.e2e import load
from bench.one_pass import FEATURES, N_FEATURES, scorer_run, steady_rate
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.devtools.broker import EmbeddedBroker
from stream_scorer.devtools.demo_models import save_model, train_demo_model
from stream_scorer.features.factory import build_decoder
from stream_scorer.flavors.base import load_predictor
from stream_scorer.monitoring.baseline import Baseline
from stream_scorer.monitoring.counts import BatchCounts
from stream_scorer.scoring.udf import _score_batch
from stream_scorer.testing.scorer_setup import raw_config
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore

RESULTS = Path(__file__).parent / "results" / "monitoring_cost.json"
TOPIC = "monitored"
STAGE_ROWS = 10_000
STAGE_REPEATS = 15


def reference_rows(rows: int) -> pd.DataFrame:
    """Rows with the features `bench.e2e.load` writes (the stream's own distribution)."""
    ids = pd.RangeIndex(rows)
    return pd.DataFrame({f"f{j}": (ids % 997) * 0.01 - j for j in range(N_FEATURES)})


def stage_rates(store: ModelStore, rounds: int) -> dict[str, list[float]]:
    """Records/s of `udf._score_batch` over one Arrow batch, with the counts and without,
    interleaved, best of `STAGE_REPEATS` each per round."""
    version = store.current_version() or ""
    manifest = store.manifest(version)
    predictor = load_predictor(store.read_artifact(version), manifest)
    decoder = build_decoder(FeaturesConfig(schema=FEATURES, passthrough={"id": "long"}), manifest)
    counts = BatchCounts(Baseline.from_json(store.baseline(version) or b""))
    values = [
        orjson.dumps({"id": i, **{f"f{j}": (i % 997) * 0.01 - j for j in range(N_FEATURES)}})
        for i in range(STAGE_ROWS)
    ]
    contenders = {"on": counts, "off": None}
    rates: dict[str, list[float]] = {"on": [], "off": []}
    for rnd in range(rounds):
        best = {"on": float("inf"), "off": float("inf")}
        for rep in range(STAGE_REPEATS):  # interleaved: a change of load hits both alike
            for name in ["on", "off"] if (rnd + rep) % 2 == 0 else ["off", "on"]:
                began = time.perf_counter()
                _score_batch(predictor, decoder, values, counts=contenders[name])
                best[name] = min(best[name], time.perf_counter() - began)
        for name, seconds in best.items():
            rates[name].append(STAGE_ROWS / seconds)
            print(f"round {rnd} stage monitoring {name}: {STAGE_ROWS / seconds:,.0f} rec/s")
    return rates


def write_config(root: Path, name: str, bootstrap: str, budget: int, enabled: bool) -> Path:
    """A run-once config reading the topic into Parquet under `root/name`."""
    raw = raw_config(root / name, bootstrap, TOPIC, FEATURES, model={"store": str(root / "models")})
    raw["source"]["options"]["maxOffsetsPerTrigger"] = str(budget)
    raw["monitoring"] = {"enabled": enabled}
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=400_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=200_000, help="maxOffsetsPerTrigger")
    parser.add_argument("--baseline", type=int, default=20_000, help="baseline rows")
    parser.add_argument("--stage-only", action="store_true", help="the stage alone")
    args = parser.parse_args()
    tree = Path(__file__).resolve().parents[1]
    figures: dict[str, list[float]] = {"on": [], "off": []}
    loads: list[float] = []
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        root, bootstrap = Path(tmp), broker.bootstrap_servers
        model = save_model(train_demo_model("binary", n_features=N_FEATURES), root / "lr.joblib")
        rows = reference_rows(args.baseline)
        store = ModelStore(root / "models")
        publish_sklearn(store, model, FEATURES, baseline=rows)
        stage = stage_rates(store, args.rounds)
        if not args.stage_only:
            load(bootstrap, TOPIC, args.records, features=N_FEATURES)
        for rnd in range(0 if args.stage_only else args.rounds):
            order = ["on", "off"] if rnd % 2 == 0 else ["off", "on"]
            for name in order:
                path = write_config(root, f"{name}-{rnd}", bootstrap, args.budget, name == "on")
                seconds, batches = scorer_run(tree, path)
                steady = steady_rate(batches) or 0.0
                figures[name].append(steady)
                loads.append(os.getloadavg()[0])
                drift = [b.get("drift") for b in batches if b.get("drift")]
                worst = max(
                    (max(d["feature_psi"].values(), default=0) for d in drift), default=None
                )
                print(
                    f"round {rnd} monitoring {name}: {seconds:.1f} s, steady {steady:,.0f} rec/s "
                    f"over {len(batches)} batches, worst PSI {worst} (load {loads[-1]:.1f})",
                    flush=True,
                )
    medians = {name: statistics.median(v) for name, v in figures.items() if v}
    ratio = medians["on"] / medians["off"] if medians.get("off") else float("nan")
    staged = {name: statistics.median(v) for name, v in stage.items()}
    stage_ratio = staged["on"] / staged["off"]
    for name, value in medians.items():
        print(f"median monitoring {name:4s} {value:12,.0f} rec/s end to end")
    for name, value in staged.items():
        print(f"median monitoring {name:4s} {value:12,.0f} rec/s stage")
    print(f"ratio on / off {ratio:5.2f} end to end, {stage_ratio:5.2f} stage (goal >= 0.90)")
    print(f"load average {os.getloadavg()}")
    RESULTS.parent.mkdir(exist_ok=True)
    report = {
        "records": args.records,
        "budget": args.budget,
        "figures": figures,
        "medians": medians,
        "ratio": ratio,
        "stage": stage,
        "stage_medians": staged,
        "stage_ratio": stage_ratio,
        "load": loads,
    }
    RESULTS.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
