"""Small, deterministic demo models for the demo, the tests and the benchmarks.

Numeric models take features `f0..f{n-1}` (double) and are fitted on pandas DataFrames, so
scikit-learn records `feature_names_in_`; the text model takes one string feature `text`.
"""

import pickle
from pathlib import Path

import numpy as np
import pandas as pd

from stream_scorer.flavors.sklearn.formats import format_of

KINDS = ("binary", "multiclass", "regression", "text")
TRAIN_ROWS = 400
SPAM_WORDS = ("cheap", "pills", "winner", "free", "offer", "click", "prize", "casino")
HAM_WORDS = ("meeting", "report", "lunch", "project", "family", "weekend", "invoice", "notes")


def train_demo_model(kind: str, n_features: int = 4, seed: int = 0) -> object:
    """Fit a demo estimator of `kind` on synthetic data; same seed, same model.

    Kinds: 'binary' (LogisticRegression, classes 0/1), 'multiclass' (LogisticRegression,
    classes 0/1/2), 'regression' (Ridge), 'text' (HashingVectorizer + MultinomialNB
    Pipeline on the `text` feature, classes 'ham'/'spam').

    Raises
    ------
    ValueError
        If `kind` is not one of `KINDS` or `n_features` < 1.
    """
    if kind not in KINDS or n_features < 1:
        msg = f"demo model kind must be one of {KINDS} with n_features >= 1; got {kind!r}"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    if kind == "text":
        return _train_text(rng)
    from sklearn.linear_model import LogisticRegression, Ridge

    features = demo_features(n_features, TRAIN_ROWS, rng)
    weights = rng.normal(size=(n_features, 3))
    scores = features.to_numpy() @ weights
    if kind == "binary":
        return LogisticRegression().fit(features, (scores[:, 0] > 0).astype(np.int64))
    if kind == "multiclass":
        return LogisticRegression().fit(features, scores.argmax(axis=1).astype(np.int64))
    target = scores[:, 0] + rng.normal(scale=0.1, size=TRAIN_ROWS)
    return Ridge().fit(features, target)


def demo_features(n_features: int, rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """Standard-normal features `f0..f{n-1}` as a float64 DataFrame."""
    names = [f"f{i}" for i in range(n_features)]
    return pd.DataFrame(rng.normal(size=(rows, n_features)), columns=names)


def demo_texts(rows: int, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """Synthetic messages and their labels ('spam' or 'ham'), about half each."""
    labels = rng.choice(["ham", "spam"], size=rows).tolist()
    texts = []
    for label in labels:
        own, other = (SPAM_WORDS, HAM_WORDS) if label == "spam" else (HAM_WORDS, SPAM_WORDS)
        words = list(rng.choice(own, size=5)) + list(rng.choice(other, size=1))
        texts.append(" ".join(str(w) for w in rng.permutation(words)))
    return texts, labels


def save_model(model: object, path: str | Path) -> Path:
    """Save `model` to `path` in the format its extension names (.joblib, .pkl, .skops)."""
    path = Path(path)
    fmt = format_of(path)
    if fmt == "joblib":
        import joblib

        joblib.dump(model, path)
    elif fmt == "pickle":
        path.write_bytes(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    else:
        import skops.io as sio

        sio.dump(model, path)
    return path


def _train_text(rng: np.random.Generator) -> object:
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import Pipeline

    texts, labels = demo_texts(TRAIN_ROWS, rng)
    model = Pipeline(
        [
            ("vectorizer", HashingVectorizer(n_features=2**12, alternate_sign=False)),
            ("classifier", MultinomialNB()),
        ]
    )
    return model.fit(pd.Series(texts, name="text"), np.asarray(labels, dtype=object))
