"""Test-side helpers for gradient-boosted trees: small XGBoost, LightGBM and CatBoost models
trained on a frame with a missing numeric value and a categorical string, saved in each
library's own format, and each library's own predictions for records as Kafka carries them."""

from pathlib import Path

import numpy as np
import pandas as pd

FEATURES = {"a": "double", "b": "double", "c": "string"}
CATEGORIES = ["x", "y", "z"]
LIBRARIES = ("xgboost", "lightgbm", "catboost")
TASKS = ("binary", "multiclass", "regression")
SUFFIX = {"xgboost": ".ubj", "lightgbm": ".txt", "catboost": ".cbm"}


def training_frame(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """Features a (NaN in every 9th row), b, c (a category of CATEGORIES)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    a[::9] = np.nan
    c = pd.Categorical(rng.choice(CATEGORIES, n), categories=CATEGORIES)
    return pd.DataFrame({"a": a, "b": rng.normal(size=n), "c": c})


def targets(frame: pd.DataFrame, task: str) -> np.ndarray:
    """Labels that depend on all three features, a missing `a` included."""
    score = np.nan_to_num(frame["a"].to_numpy(), nan=1.0) + frame["b"].to_numpy()
    score = score + 1.5 * (frame["c"] == "y").to_numpy()
    if task == "binary":
        return (score > 0.5).astype(int)
    if task == "multiclass":
        return np.digitize(score, [-0.5, 1.0])
    return score


def train(library: str, task: str, folder: Path, seed: int = 0) -> tuple[object, Path]:
    """A small `library` model for `task` fitted on `training_frame`, saved natively in
    `folder`; returns (the sklearn-API estimator, the file)."""
    frame = training_frame(seed=seed)
    y = targets(frame, task)
    path = folder / f"{library}-{task}-{seed}{SUFFIX[library]}"
    classifier = task != "regression"
    if library == "xgboost":
        import xgboost

        cls = xgboost.XGBClassifier if classifier else xgboost.XGBRegressor
        model = cls(n_estimators=6, max_depth=3, enable_categorical=True, n_jobs=1)
        model.fit(frame, y)
        model.get_booster().save_model(path)
    elif library == "lightgbm":
        import lightgbm

        cls = lightgbm.LGBMClassifier if classifier else lightgbm.LGBMRegressor
        model = cls(n_estimators=6, min_child_samples=5, min_data_per_group=5, verbose=-1)
        model.fit(frame, y)
        model.booster_.save_model(path)
    else:
        import catboost

        cls = catboost.CatBoostClassifier if classifier else catboost.CatBoostRegressor
        model = cls(
            iterations=6, depth=3, cat_features=["c"], verbose=0, thread_count=1,
            allow_writing_files=False,
        )  # fmt: skip
        model.fit(frame.assign(c=frame["c"].astype(str)), y)
        model.save_model(str(path))
    return model, path


def records(n: int, seed: int = 1) -> list[dict]:
    """Records with an `id`: `a` null in every 7th and absent in every 11th, `c` null in
    every 13th and unseen ('w') in every 10th."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        rec: dict = {
            "id": i,
            "a": round(float(rng.normal()), 4),
            "b": round(float(rng.normal()), 4),
        }
        rec["c"] = str(rng.choice(CATEGORIES))
        if i % 7 == 3:
            rec["a"] = None
        if i % 11 == 5:
            del rec["a"]
        if i % 10 == 4:
            rec["c"] = "w"
        if i % 13 == 6:
            rec["c"] = None
        out.append(rec)
    return out


def library_input(library: str, recs: list[dict]) -> pd.DataFrame:
    """What the library's own predict takes for `recs`: `a` NaN where null or absent; `c` a
    pandas category of the training categories (unseen or null: NaN), or a string for
    CatBoost."""
    frame = pd.DataFrame(
        {
            "a": [np.nan if r.get("a") is None else r["a"] for r in recs],
            "b": [r["b"] for r in recs],
            "c": [r["c"] for r in recs],
        }
    )
    if library == "catboost":
        return frame
    return frame.assign(c=pd.Categorical(frame["c"], categories=CATEGORIES))


def expected(library: str, model, recs: list[dict]) -> tuple[np.ndarray, np.ndarray | None]:
    """(predictions, class probabilities or None) of `model`'s own predict on `recs`."""
    frame = library_input(library, recs)
    prediction = np.asarray(model.predict(frame)).ravel()
    proba = model.predict_proba(frame) if hasattr(model, "predict_proba") else None
    return prediction, proba
