"""What the report draws, computed from the history frame (`history_read.read_history`):
plain pandas and numpy, no plotting."""

import math
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd

PREDICTION = "__prediction__"
"""The key of the prediction's bin counts in `feature_counts` (the contract's name)."""
MAX_COLUMNS = 300
"""Time buckets of the heat map and the stacked dead letters: a long history is bucketed."""


@dataclass(frozen=True)
class Comparison:
    """One feature's baseline fractions beside its recent fractions, bin by bin."""

    feature: str
    psi: float
    bins: list[str]
    baseline: list[float]
    recent: list[float]


def utc_times(frame: pd.DataFrame) -> pd.Series:
    """The batch end times as naive UTC (what matplotlib draws without a time zone)."""
    return frame["time"].dt.tz_convert("UTC").dt.tz_localize(None)


def buckets(n: int, most: int = MAX_COLUMNS) -> np.ndarray:
    """The bucket of each of n rows: at most `most` consecutive buckets, as even as can be
    (the first ones one row longer)."""
    sizes = [len(b) for b in np.array_split(np.arange(n), min(n, most))]
    return np.repeat(np.arange(len(sizes)), sizes)


def _starts(frame: pd.DataFrame, bucket: np.ndarray) -> pd.Series:
    """Each bucket's first batch time (naive UTC)."""
    first = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    return utc_times(frame).iloc[first].reset_index(drop=True)


def psi_matrix(frame: pd.DataFrame) -> tuple[list[str], np.ndarray, pd.Series]:
    """Rows `prediction` then the features (worst first), one column per time bucket holding
    the bucket's highest PSI (NaN where unknown), and each bucket's first time."""
    per_feature = pd.DataFrame(list(frame["feature_psi"]), index=frame.index, dtype=float)
    per_feature = per_feature[per_feature.max().sort_values(ascending=False).index]
    table = pd.concat([frame["prediction_psi"].rename("prediction"), per_feature], axis=1)
    bucket = buckets(len(frame))
    values = table.reset_index(drop=True).groupby(bucket).max().to_numpy().T
    return list(table.columns), values, _starts(frame, bucket)


def dead_letters_by_reason(frame: pd.DataFrame) -> pd.DataFrame:
    """Dead letters per reason (columns, most frequent first) per time bucket (rows, indexed
    by the bucket's first time); empty when no batch dead-lettered a row."""
    per_batch = pd.DataFrame(list(frame["dead_letter_reasons"]), dtype=float).fillna(0.0)
    if per_batch.empty or not per_batch.to_numpy().any():
        return pd.DataFrame()
    per_batch = per_batch[per_batch.sum().sort_values(ascending=False).index]
    bucket = buckets(len(frame))
    sums = per_batch.groupby(bucket).sum()
    return sums.set_axis(_starts(frame, bucket).to_numpy(), axis=0)


def versions_in_order(frame: pd.DataFrame) -> list[str]:
    """Model versions in the order they first served."""
    return list(dict.fromkeys(frame["model_version"].fillna("none")))


def worst_features(frame: pd.DataFrame, count: int = 3) -> list[tuple[str, float]]:
    """The `count` features with the highest PSI in the last batch, worst first."""
    last = frame["feature_psi"].iloc[-1]
    known = [(f, v) for f, v in last.items() if v is not None and not math.isnan(v)]
    ranked = sorted(known, key=lambda fv: -fv[1])
    return ranked[:count]


def recent_counts(frame: pd.DataFrame, window: int = 10) -> dict[str, np.ndarray]:
    """Bin counts per feature summed over the last `window` batches of the last version
    (bins belong to that version's baseline, so other versions' batches are left out)."""
    version = frame["model_version"].iloc[-1]
    recent = frame[frame["model_version"] == version].tail(window)
    sums: dict[str, np.ndarray] = {}
    for counts in recent["feature_counts"]:
        for feature, values in counts.items():
            array = np.asarray(values, dtype=float)
            if feature in sums and len(sums[feature]) != len(array):
                continue  # a baseline with other bins: not comparable
            sums[feature] = sums[feature] + array if feature in sums else array
    return sums


def comparisons(frame: pd.DataFrame, baseline: dict, count: int = 3) -> list[Comparison]:
    """Baseline against recent fractions for the worst features (and the prediction)."""
    recent = recent_counts(frame)
    wanted = [*worst_features(frame, count), (PREDICTION, frame["prediction_psi"].iloc[-1])]
    out = []
    for feature, psi in wanted:
        spec = baseline.get("prediction") if feature == PREDICTION else None
        spec = spec or baseline.get("features", {}).get(feature)
        counts = recent.get(feature)
        if not spec or counts is None or len(counts) != len(spec["fractions"]) or not counts.sum():
            continue
        name = "prediction" if feature == PREDICTION else feature
        fractions = list(counts / counts.sum())
        out.append(Comparison(name, psi, bin_labels(spec), spec["fractions"], fractions))
    return out


def bin_labels(spec: dict) -> list[str]:
    """A baseline bin's label: '< e1', 'e1..e2', ..., '>= ek' or a category and 'other'."""
    if spec["kind"] == "categorical":
        return [*map(str, spec["categories"]), "other"]
    edges = [f"{e:.3g}" for e in spec["edges"]]
    inner = [f"{a}..{b}" for a, b in pairwise(edges)]
    return [f"< {edges[0]}", *inner, f">= {edges[-1]}"] if edges else ["all"]
