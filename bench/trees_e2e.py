"""A gradient-boosted tree model end to end from Kafka against the LogisticRegression path.

The same N JSON records (`id` + 8 double features, 4 partitions) are scored by fresh
`stream-scorer run --once` processes into Parquet, taking turns over `--rounds` rounds: the
demo LogisticRegression (scikit-learn, joblib) and an XGBoost classifier of `--trees` trees
(depth 6) fitted on the same features and served from its own UBJSON file (`--kind
xgboost`). *Steady* is the rows over the summed `batch_duration_ms` of batches 1 onwards
(batch 0 pays the Python workers' start-up). Prints each run, the medians and the ratio
with the load average; writes `bench/results/trees_e2e.json`. Run:
`.venv/bin/python -m bench.trees_e2e --records 200000 --rounds 3 --trees 200`.
"""

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from bench.e2e import load
from bench.one_pass import FEATURES, N_FEATURES, scorer_run, steady_rate, write_config
from stream_scorer.config.model_settings import TreesModelConfig
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.devtools.broker import EmbeddedBroker
from stream_scorer.devtools.demo_models import save_model, train_demo_model
from stream_scorer.versions.publish import publish_sklearn, publish_trees
from stream_scorer.versions.store import ModelStore

RESULTS = Path(__file__).parent / "results" / "trees_e2e.json"
TOPIC = "features"


def xgboost_model(folder: Path, trees: int) -> Path:
    """An XGBoost classifier of `trees` trees on FEATURES, saved as UBJSON."""
    import xgboost

    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(20_000, N_FEATURES)), columns=list(FEATURES))
    y = (x["f0"] + 0.5 * x["f1"] * x["f2"] - x["f3"] > 0).astype(int)
    model = xgboost.XGBClassifier(n_estimators=trees, max_depth=6, n_jobs=1)
    model.fit(x, y)  # a frame: the booster records the feature names
    path = folder / "xgboost.ubj"
    model.get_booster().save_model(str(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--budget", type=int, default=200_000, help="maxOffsetsPerTrigger")
    args = parser.parse_args()
    tree = Path(__file__).resolve().parents[1]
    steady: dict[str, list[float]] = {"lr": [], "xgboost": []}
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        root, bootstrap = Path(tmp), broker.bootstrap_servers
        load(bootstrap, TOPIC, args.records, features=N_FEATURES)
        lr = save_model(train_demo_model("binary", n_features=N_FEATURES), root / "lr.joblib")
        publish_sklearn(ModelStore(root / "lr" / "models"), lr, FEATURES)
        publish_trees(
            ModelStore(root / "xgboost" / "models"),
            xgboost_model(root, args.trees),
            "xgboost",
            FeaturesConfig(schema=FEATURES),
            TreesModelConfig(),
        )
        for rnd in range(args.rounds):
            order = ["lr", "xgboost"] if rnd % 2 == 0 else ["xgboost", "lr"]
            for name in order:
                config = write_config(root / name, f"run-{rnd}", bootstrap, TOPIC, args.budget)
                seconds, batches = scorer_run(tree, config)
                rate = steady_rate(batches) or 0.0
                steady[name].append(rate)
                print(
                    f"round {rnd} {name}: {seconds:.1f} s, steady {rate:,.0f} rec/s over "
                    f"{len(batches)} batches (load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
    medians = {name: statistics.median(rates) for name, rates in steady.items()}
    ratio = medians["xgboost"] / medians["lr"]
    print(f"median steady: lr {medians['lr']:,.0f}, xgboost {medians['xgboost']:,.0f} rec/s")
    print(f"ratio xgboost / lr {ratio:.2f} (load average {os.getloadavg()})")
    RESULTS.parent.mkdir(exist_ok=True)
    report = {"records": args.records, "trees": args.trees, "steady": steady, "ratio": ratio}
    RESULTS.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
