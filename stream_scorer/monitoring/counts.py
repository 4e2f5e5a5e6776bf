"""What a scoring task measures of one Arrow batch for monitoring, and how it travels.

`BatchCounts` rides in the scoring closure (small: the baseline's bins). Per Arrow batch it
bins the decoded feature columns and the predictions the worker already holds
(`Distribution.counts`: numpy, no Python loop over rows), counts the dead letters by reason,
and, while a version has no baseline (`monitoring.baseline: first_rows`), keeps a sample of
the rows instead. The result is one small payload (JSON bytes) in the scored struct's `DRIFT`
field of the batch's first row; the driver collects the payloads with the batch's
`Observation` (`collect_list` skips the other rows' nulls) and merges them (`merge`).
"""

import dataclasses
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
import pandas as pd

from stream_scorer.monitoring.baseline import PREDICTION, Baseline

DRIFT = "_drift"
"""The scored struct's field holding a batch's payload (on its first row; null elsewhere)."""

_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_NUMBER = re.compile(r"(?<![\w'])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
_REASON_CHARS = 200


def reason_of(error: str) -> str:
    """A dead letter's reason without its variable parts (values, numbers), so that reasons
    group: `expected double, got string "abc"` -> `expected double, got string "…"`."""
    text = _NUMBER.sub("N", _QUOTED.sub('"…"', error))
    return text[:_REASON_CHARS]


@dataclasses.dataclass(frozen=True)
class BatchCounts:
    """The measuring of one model version's batches, on the workers."""

    baseline: Baseline | None
    """The bins to count in; None: sample rows instead (no baseline yet)."""
    sample_rows: int = 0
    """Without a baseline: rows of each Arrow batch to keep as a sample (at most)."""
    feature_names: tuple[str, ...] = ()
    """The features to sample (without a baseline)."""

    def payload(
        self,
        features: pd.DataFrame | np.ndarray,
        decoded: np.ndarray,
        predicted: np.ndarray | pd.Series | None,
        errors: Sequence[str | None],
    ) -> bytes:
        """The payload of one Arrow batch.

        Parameters
        ----------
        features
            The decoded feature columns of every row (placeholders on rows with an error).
        decoded
            Indices of the rows that decoded.
        predicted
            The monitored prediction value of each scored row (see `baseline`), or None.
        errors
            Each row's reason, or None.
        """
        reasons = Counter(reason_of(e) for e in errors if e) if any(errors) else {}
        data: dict[str, Any] = {"reasons": reasons}
        frame = features if isinstance(features, pd.DataFrame) else None
        if self.baseline is not None:
            counts = []
            for name, distribution in self.baseline.features.items():
                if frame is not None and name in frame:
                    column = frame[name].to_numpy()
                    every = len(decoded) == len(column)
                    counts.append(distribution.counts(column if every else column[decoded]))
                else:
                    counts.append(np.zeros(distribution.width, dtype=np.int64))
            if self.baseline.prediction is not None:
                values = predicted if predicted is not None else np.empty(0)
                counts.append(self.baseline.prediction.counts(values))
            data["counts"] = np.concatenate(counts) if counts else np.empty(0, np.int64)
        elif self.sample_rows:
            kept = decoded[: self.sample_rows]
            sample: dict[str, Any] = {}
            if frame is not None:
                for name in self.feature_names:
                    if name in frame:
                        sample[name] = frame[name].to_numpy()[kept].tolist()
            if predicted is not None:
                sample[PREDICTION] = pd.Series(predicted).iloc[: self.sample_rows].tolist()
            data["sample"] = sample
        return orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY)


@dataclasses.dataclass
class Merged:
    """The payloads of one micro-batch, merged on the driver."""

    counts: dict[str, np.ndarray]
    """Column (feature, or `PREDICTION`) -> [bins..., nulls, out of range]; empty without a
    baseline."""
    reasons: dict[str, int]
    sample: dict[str, list]


def merge(payloads: Sequence[bytes | bytearray], baseline: Baseline | None) -> Merged:
    """Sum the counts and reasons of a batch's payloads; concatenate their samples."""
    columns = baseline.columns if baseline is not None else {}
    total = np.zeros(sum(d.width for d in columns.values()), dtype=np.int64)
    reasons: Counter = Counter()
    sample: dict[str, list] = {}
    for payload in payloads:
        data = orjson.loads(bytes(payload))
        reasons.update(data.get("reasons", {}))
        counts = data.get("counts")
        if counts is not None and len(counts) == len(total):
            total += np.asarray(counts, dtype=np.int64)
        for name, values in data.get("sample", {}).items():
            sample.setdefault(name, []).extend(values)
    split, start = {}, 0
    for name, distribution in columns.items():
        split[name] = total[start : start + distribution.width]
        start += distribution.width
    return Merged(split, dict(reasons), sample)
