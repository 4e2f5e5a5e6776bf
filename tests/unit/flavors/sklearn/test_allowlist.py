"""Every kind of estimator and pipeline we serve loads through the allowlist, unchanged."""

import functools
import io
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.svm import SVC

from stream_scorer.devtools.demo_models import KINDS, demo_texts, train_demo_model
from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.sklearn.formats import load_model_bytes

RNG = np.random.default_rng(0)
NUMBERS = pd.DataFrame(RNG.normal(size=(120, 4)), columns=["f0", "f1", "f2", "f3"])
LABELS = (NUMBERS["f0"] > 0).astype(int)
COLORS = pd.DataFrame({"f0": np.linspace(-2, 2, 60), "color": ["red", "green", "blue"] * 20})
TEXTS, TEXT_LABELS = demo_texts(60, RNG)


@functools.cache
def _fitted(name: str) -> tuple[object, object]:
    """An estimator fitted on small data, and the inputs to compare its predictions on."""
    if name in KINDS:
        texts = pd.Series(TEXTS, name="text")
        return train_demo_model(name), texts if name == "text" else NUMBERS
    if name == "column-transformer":
        encode = ColumnTransformer(
            [("onehot", OneHotEncoder(), ["color"])], remainder="passthrough"
        )
        pipeline = Pipeline([("encode", encode), ("classify", LogisticRegression())])
        return pipeline.fit(COLORS, COLORS["f0"] > 0), COLORS
    if name == "column-selector":
        columns = [
            ("onehot", OneHotEncoder(), make_column_selector(dtype_include=object)),
            ("scale", StandardScaler(), make_column_selector(dtype_include=np.number)),
        ]
        pipeline = make_pipeline(ColumnTransformer(columns), LogisticRegression())
        return pipeline.fit(COLORS, COLORS["f0"] > 0), COLORS
    if name == "tfidf":
        pipeline = make_pipeline(TfidfVectorizer(), MultinomialNB())
        return pipeline.fit(TEXTS, TEXT_LABELS), TEXTS
    if name == "log1p":
        pipeline = make_pipeline(FunctionTransformer(np.log1p), LogisticRegression())
        return pipeline.fit(NUMBERS.abs(), LABELS), NUMBERS.abs()
    estimators = {
        "svc": SVC(probability=True, random_state=0),
        "random-forest": RandomForestClassifier(n_estimators=5, random_state=0),
        "gradient-boosting": GradientBoostingClassifier(n_estimators=5, random_state=0),
        "hist-gradient-boosting": HistGradientBoostingClassifier(max_iter=5, random_state=0),
        "k-neighbours": KNeighborsClassifier(algorithm="kd_tree"),
    }
    return estimators[name].fit(NUMBERS, LABELS), NUMBERS


ESTIMATORS = [
    *KINDS,
    "column-transformer",
    "column-selector",
    "tfidf",
    "log1p",
    "svc",
    "random-forest",
    "gradient-boosting",
    "hist-gradient-boosting",
    "k-neighbours",
]
SAVED_AS = {
    "joblib": lambda model: _joblib_bytes(model, compress=0),
    "joblib-compressed": lambda model: _joblib_bytes(model, compress=3),
    "pickle": lambda model: pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL),
    "pickle-protocol-2": lambda model: pickle.dumps(model, protocol=2),
}


def _joblib_bytes(model: object, compress: int) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=compress)
    return buffer.getvalue()


@pytest.mark.filterwarnings("ignore::FutureWarning")  # SVC(probability=True), deprecated in 1.9
@pytest.mark.parametrize("saved_as", list(SAVED_AS))
@pytest.mark.parametrize("name", ESTIMATORS)
def test_estimator_loads_and_predicts_the_same(name, saved_as):
    model, inputs = _fitted(name)
    fmt = "pickle" if saved_as.startswith("pickle") else "joblib"

    loaded = load_model_bytes(SAVED_AS[saved_as](model), fmt)

    assert type(loaded) is type(model)
    assert loaded.predict(inputs).tolist() == model.predict(inputs).tolist()


def test_search_object_is_refused_for_its_scorer():
    from sklearn.model_selection import GridSearchCV

    search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2).fit(NUMBERS, LABELS)

    with pytest.raises(ModelRejectedError, match=r"sklearn\.metrics\._scorer\._PassthroughScorer"):
        load_model_bytes(pickle.dumps(search), "pickle")
