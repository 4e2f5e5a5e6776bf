"""The tree flavours' predict against each library's own predict, on the same rows, one
thread, in one process: what serving a booster through stream-scorer adds (the categorical
codes, the frame handling, the outputs as scikit-learn gives them).

Per library, one binary classifier of `--trees` trees (depth 6) on `--features` features
(one of them a categorical string of 20 categories, one with 10% missing), fitted on 20k
rows. Scored: `--rows` rows in Arrow-batch sized chunks of 10,000, as the scoring stage hands
them over. Ours: `TreesPredictor.predict` on the columns as the JSON decoder gives them
(float64, strings as object). Theirs: the library's own predict of probabilities on a pandas
frame with the categorical column as a pandas category (XGBoost `inplace_predict`, LightGBM
`Booster.predict`, CatBoost `predict(prediction_type="Probability")`), one thread. The two
alternate for `--rounds` rounds; the table gives medians of rows/s and ours / theirs.
Not Spark, not Kafka: the end-to-end figures are `bench.e2e`'s.
Run: `python -m bench.trees_predict [--rows 200000] [--trees 200] [--features 30] [--rounds 3]`.
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from stream_scorer.config.model_settings import TreesModelConfig
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.flavors.base import load_predictor
from stream_scorer.versions.publish import publish_trees
from stream_scorer.versions.store import ModelStore

BATCH = 10_000
CATEGORIES = [f"k{i}" for i in range(20)]


def frame(rows: int, features: int, seed: int) -> pd.DataFrame:
    """`features - 1` numbers (`f0` 10% missing) and `cat`, a category of CATEGORIES."""
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(rows, features - 1))
    data[rng.random(rows) < 0.1, 0] = np.nan
    out = pd.DataFrame(data, columns=[f"f{i}" for i in range(features - 1)])
    out["cat"] = pd.Categorical(rng.choice(CATEGORIES, rows), categories=CATEGORIES)
    return out


def train(library: str, train_rows: pd.DataFrame, trees: int, folder: Path):
    """(the library's booster-level predict on a frame, the saved native file)."""
    y = (np.nan_to_num(train_rows["f0"]) + train_rows["f1"] > 0).to_numpy().astype(int)
    y ^= (train_rows["cat"].cat.codes.to_numpy() % 3 == 0).astype(int)
    if library == "xgboost":
        import xgboost

        model = xgboost.XGBClassifier(
            n_estimators=trees, max_depth=6, enable_categorical=True, n_jobs=1
        ).fit(train_rows, y)
        path = folder / "model.ubj"
        model.get_booster().save_model(path)
        booster = model.get_booster()
        return (lambda f: booster.inplace_predict(f)), path
    if library == "lightgbm":
        import lightgbm

        model = lightgbm.LGBMClassifier(
            n_estimators=trees, max_depth=6, num_leaves=63, n_jobs=1, verbose=-1
        ).fit(train_rows, y)
        path = folder / "model.txt"
        model.booster_.save_model(path)
        return (lambda f: model.booster_.predict(f, num_threads=1)), path
    import catboost

    strings = train_rows.assign(cat=train_rows["cat"].astype(str))
    model = catboost.CatBoostClassifier(
        iterations=trees, depth=6, cat_features=["cat"], verbose=0, thread_count=1,
        allow_writing_files=False,
    ).fit(strings, y)  # fmt: skip
    path = folder / "model.cbm"
    model.save_model(str(path))
    return (lambda f: model.predict(f, prediction_type="Probability", thread_count=1)), path


def rate(score, batches: list) -> float:
    """Rows per second of `score` over every batch."""
    began = time.perf_counter()
    for batch in batches:
        score(batch)
    return sum(len(b) for b in batches) / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--libraries", nargs="+", default=["xgboost", "lightgbm", "catboost"])
    args = parser.parse_args()
    rows = frame(args.rows, args.features, seed=1)
    theirs_input = {
        "xgboost": rows,
        "lightgbm": rows,
        "catboost": rows.assign(cat=rows["cat"].astype(str)),
    }
    ours_input = rows.assign(cat=rows["cat"].astype(object))  # as the JSON decoder gives it
    schema = {name: "double" for name in rows.columns[:-1]} | {"cat": "string"}
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'library':<9} {'ours rows/s':>12} {'theirs rows/s':>14} {'ours/theirs':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for library in args.libraries:
            folder = Path(tmp) / library
            folder.mkdir()
            theirs, path = train(library, frame(20_000, args.features, 0), args.trees, folder)
            store = ModelStore(folder / "models")
            manifest = publish_trees(
                store, path, library, FeaturesConfig(schema=schema), TreesModelConfig()
            )
            ours = load_predictor(path.read_bytes(), manifest)
            chunks = range(0, args.rows, BATCH)
            our_batches = [ours_input.iloc[i : i + BATCH] for i in chunks]
            their_batches = [theirs_input[library].iloc[i : i + BATCH] for i in chunks]
            check = np.asarray(theirs(their_batches[0]))
            check = check[:, 1] if check.ndim == 2 else check
            np.testing.assert_allclose(ours.predict(our_batches[0]).probability, check, rtol=1e-6)
            measured: dict[str, list[float]] = {"ours": [], "theirs": []}
            for _ in range(args.rounds):
                measured["ours"].append(rate(ours.predict, our_batches))
                measured["theirs"].append(rate(theirs, their_batches))
            a, b = (statistics.median(measured[k]) for k in ("ours", "theirs"))
            print(f"{library:<9} {a:>12,.0f} {b:>14,.0f} {a / b:>11.2f}x")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
