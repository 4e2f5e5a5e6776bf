"""The full-size trees figure: a 500-tree model per library, our scoring stage against the
library's own predict on the same rows, one thread per process, two processes at once; and
whether treelite's GTIL predicts a scikit-learn RandomForest faster than its own predict.

Per library (XGBoost, LightGBM, CatBoost), the binary classifier of `bench.trees_predict`
(`--trees` trees of depth 6 on `--features` features, one a categorical string of 20
categories, one 10% missing, fitted on 20k rows), saved natively and published. Then
`--processes` spawned processes each score their own `--rows / processes` rows in
10,000-row batches (an Arrow batch of the scoring stage), one thread each, started together;
a contender's rate is all rows over the wall time until the last process ends. Ours:
`TreesPredictor.predict` of the published version on columns as the JSON decoder gives
them. Theirs: the library's own booster predict of probabilities loaded from the same file
(pandas categorical for XGBoost and LightGBM, strings for CatBoost). The RandomForest row:
`RandomForestClassifier(n_estimators=--rf-trees, max_depth=10)` on the numeric features,
its own `predict_proba` (n_jobs=1) against `treelite.gtil.predict` (nthread=1) of the model
`treelite.sklearn.import_model` made of it; outputs compared for equality first. Contenders
alternate for `--rounds` rounds; medians, ratios, load average before and after.
Run: `python -m bench.trees_full [--rows 1000000] [--trees 500] [--rounds 3] [--processes 2]`
(treelite: `pip install treelite`, for this benchmark only).
"""

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.trees_predict import BATCH, frame, train
from stream_scorer.config.model_settings import TreesModelConfig
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.versions.publish import publish_trees
from stream_scorer.versions.store import ModelStore

_CONTENDERS = {"rf": ("treelite", "sklearn")}
_scorers: dict[tuple[str, str], object] = {}
_batches: dict[tuple[str, str], list] = {}


def _theirs(library: str, path: Path):
    """The library's own booster predict of probabilities, loaded from `path`, one thread."""
    if library == "xgboost":
        import xgboost

        booster = xgboost.Booster(params={"nthread": 1}, model_file=str(path))
        return lambda f: booster.inplace_predict(f)
    if library == "lightgbm":
        import lightgbm

        booster = lightgbm.Booster(model_file=str(path))
        return lambda f: booster.predict(f, num_threads=1)
    import catboost

    model = catboost.CatBoost()
    model.load_model(str(path))
    return lambda f: model.predict(f, prediction_type="Probability", thread_count=1)


def _rf_scorers(path: Path):
    """(sklearn's predict_proba, treelite GTIL's predict) of the pickled forest at `path`."""
    import pickle

    import treelite

    forest = pickle.loads(path.read_bytes())
    forest.n_jobs = 1
    model = treelite.sklearn.import_model(forest)
    return forest.predict_proba, lambda x: treelite.gtil.predict(model, x, nthread=1)


def _init(jobs: list[tuple], rows: int, features: int, index: int) -> None:
    """Load every contender's model and build this process's batches (seed by index)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    from stream_scorer.contract.manifest import Manifest
    from stream_scorer.flavors.base import load_predictor

    data = frame(rows, features, seed=100 + index)
    ours_input = data.assign(cat=data["cat"].astype(object))
    chunks = range(0, rows, BATCH)
    for library, path, manifest_json in jobs:
        path = Path(path)
        if library == "rf":
            sk, tl = _rf_scorers(path)
            numeric = data.drop(columns="cat").to_numpy(dtype=np.float64)
            numeric = np.nan_to_num(numeric)
            batches = [numeric[i : i + BATCH] for i in chunks]
            _scorers[(library, "sklearn")], _scorers[(library, "treelite")] = sk, tl
            _batches[(library, "sklearn")] = _batches[(library, "treelite")] = batches
            continue
        manifest = Manifest.from_json(manifest_json)
        ours = load_predictor(path.read_bytes(), manifest)
        _scorers[(library, "ours")] = ours.predict
        _scorers[(library, "theirs")] = _theirs(library, path)
        _batches[(library, "ours")] = [ours_input.iloc[i : i + BATCH] for i in chunks]
        theirs = data.assign(cat=data["cat"].astype(str)) if library == "catboost" else data
        _batches[(library, "theirs")] = [theirs.iloc[i : i + BATCH] for i in chunks]


def _run(job: tuple[str, str], start_at: float) -> float:
    """Score this process's batches with one contender, from `start_at`; seconds taken."""
    score, batches = _scorers[job], _batches[job]
    time.sleep(max(0.0, start_at - time.time()))
    began = time.perf_counter()
    for batch in batches:
        score(batch)
    return time.perf_counter() - began


def _child(index: int, jobs, rows, features, tasks, results) -> None:
    _init(jobs, rows, features, index)
    results.put(("ready", index))
    while (task := tasks.get()) is not None:
        results.put((task, _run(*task)))


def _check(library: str, jobs: list[tuple], features: int) -> None:
    """Ours and theirs (or sklearn and treelite) agree on 10,000 rows, in this process."""
    _init([j for j in jobs if j[0] == library], BATCH, features, index=99)
    names = _CONTENDERS.get(library, ("ours", "theirs"))
    a, b = (_scorers[(library, n)](_batches[(library, n)][0]) for n in names)
    if library == "rf":
        np.testing.assert_array_equal(np.asarray(a).reshape(np.shape(b)), b)
        return
    a = a.probability
    b = np.asarray(b)
    b = b[:, 1] if b.ndim == 2 else b
    np.testing.assert_allclose(a, b, rtol=1e-6)


def _models(args: argparse.Namespace, folder: Path) -> list[tuple]:
    """(library, file, manifest JSON) per library; the forest pickled, no manifest."""
    jobs = []
    schema = {f"f{i}": "double" for i in range(args.features - 1)} | {"cat": "string"}
    for library in args.libraries:
        sub = folder / library
        sub.mkdir()
        training = frame(20_000, args.features, 0)
        if library == "rf":
            import pickle

            from sklearn.ensemble import RandomForestClassifier

            numeric = np.nan_to_num(training.drop(columns="cat").to_numpy(dtype=np.float64))
            y = (numeric[:, 0] + numeric[:, 1] > 0).astype(int)
            forest = RandomForestClassifier(args.rf_trees, max_depth=10, random_state=0)
            path = sub / "forest.pkl"
            path.write_bytes(pickle.dumps(forest.fit(numeric, y)))
            jobs.append((library, str(path), ""))
            continue
        _, path = train(library, training, args.trees, sub)
        store = ModelStore(sub / "models")
        features = FeaturesConfig(schema=schema)
        manifest = publish_trees(store, path, library, features, TreesModelConfig())
        jobs.append((library, str(path), manifest.to_json()))
    return jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--trees", type=int, default=500)
    parser.add_argument("--rf-trees", type=int, default=100)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--libraries", nargs="+", default=["xgboost", "lightgbm", "catboost", "rf"])
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        jobs = _models(args, Path(tmp))
        for library in args.libraries:
            _check(library, jobs, args.features)
        per_process = args.rows // args.processes
        tasks = [context.Queue() for _ in range(args.processes)]
        results = context.Queue()
        children = [
            context.Process(
                target=_child, args=(i, jobs, per_process, args.features, tasks[i], results)
            )
            for i in range(args.processes)
        ]
        for child in children:
            child.start()
        for _ in children:
            results.get()
        measured: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for library in args.libraries:
                for name in _CONTENDERS.get(library, ("ours", "theirs")):
                    start_at = time.time() + 0.2
                    for queue in tasks:
                        queue.put(((library, name), start_at))
                    seconds = max(results.get()[1] for _ in children)
                    rate = per_process * args.processes / seconds
                    measured.setdefault((library, name), []).append(rate)
        for queue in tasks:
            queue.put(None)
        for child in children:
            child.join()
    print(f"{'model':<9} {'contender':<9} {'rows/s (median)':>16} {'rounds':>30} {'ratio':>7}")
    for library in args.libraries:
        first, second = _CONTENDERS.get(library, ("ours", "theirs"))
        a, b = (statistics.median(measured[(library, n)]) for n in (first, second))
        for name, value in ((first, a), (second, b)):
            runs = " / ".join(f"{r:,.0f}" for r in measured[(library, name)])
            ratio = f"{a / b:.2f}x" if name == first else ""
            print(f"{library:<9} {name:<9} {value:>16,.0f} {runs:>30} {ratio:>7}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
