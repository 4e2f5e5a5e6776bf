"""Drift on the driver: merge each batch's counts, PSI over a window of batches, alerts.

`DriftMonitor` knows each model version's baseline (stored with it; or, with
`monitoring.baseline: first_rows`, made from the first rows it scores, kept under the
history's `baselines/`), hands the workers what to count (`counter`), and turns each batch's
payloads into a `DriftStats` (`observe`). The window restarts when the version changes: a new
version is compared with its own baseline.
"""

import collections
import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from stream_scorer.config.monitoring import MonitoringConfig
from stream_scorer.contract.manifest import Manifest
from stream_scorer.monitoring.baseline import PREDICTION, Baseline, build, prediction_kind, psi
from stream_scorer.monitoring.counts import BatchCounts, merge
from stream_scorer.monitoring.history import History

log = logging.getLogger("stream_scorer.monitoring")


@dataclasses.dataclass(frozen=True)
class DriftStats:
    """What monitoring says of one batch (rates and PSI over the window ending with it)."""

    baseline: str | None
    """The baseline's source (`publish`, `train`, `first_rows`), or None without one."""
    prediction_psi: float | None
    feature_psi: dict[str, float]
    feature_null_rate: dict[str, float]
    feature_out_of_range_rate: dict[str, float]
    feature_counts: dict[str, list[int]]
    """This batch's counts per baseline bin (nulls in none); the prediction's under
    `PREDICTION`."""
    dead_letter_reasons: dict[str, int]

    def summary(self) -> dict:
        """The JSON line's `drift` (no bin counts)."""
        return {
            "baseline": self.baseline,
            "prediction_psi": _rounded(self.prediction_psi),
            "feature_psi": {k: _rounded(v) for k, v in self.feature_psi.items()},
            "feature_null_rate": {k: _rounded(v) for k, v in self.feature_null_rate.items()},
            "feature_out_of_range_rate": {
                k: _rounded(v) for k, v in self.feature_out_of_range_rate.items()
            },
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 5)


@dataclasses.dataclass(frozen=True)
class VersionInfo:
    """What monitoring needs of a model version."""

    version: str
    feature_types: Mapping[str, str]
    prediction_kind: Literal["numeric", "categorical"]

    @classmethod
    def of(cls, version: str, manifest: Manifest) -> "VersionInfo":
        """Of `version`, from its manifest (its canary tells whether it gives probabilities)."""
        types = {name: manifest.feature_types[name] for name in manifest.feature_names}
        probabilities = manifest.canary.probabilities is not None
        return cls(version, types, prediction_kind(manifest.task, probabilities))


class DriftMonitor:
    """One per scorer, on the driver; `counter` then `observe` once per batch, in order."""

    def __init__(
        self,
        config: MonitoringConfig,
        stored: Callable[[str], Baseline | None],
        history: History | None = None,
    ) -> None:
        self.config = config
        self.stored = stored
        """A version's stored baseline, or None (`ModelStore.baseline`)."""
        self.history = history
        self._baselines: dict[str, Baseline | None] = {}
        self._version: str | None = None
        self._window: collections.deque[dict[str, np.ndarray]] = collections.deque(
            maxlen=config.window
        )
        self._sample: dict[str, list] = {}
        self._warned: dict[str, int] = {}
        """Column -> the batch count at its last WARNING, while above `psi_warn`."""
        self._batches = 0

    def baseline(self, version: str) -> Baseline | None:
        """The baseline `version` is compared with, or None (yet)."""
        if version not in self._baselines:
            self._baselines[version] = self._find(version)
        return self._baselines[version]

    def _find(self, version: str) -> Baseline | None:
        baseline = self.stored(version)
        history = self.history
        if baseline is not None:
            if history is not None:
                history.write_baseline(version, baseline.to_json())
            return baseline
        if self.config.baseline != "first_rows" or history is None:
            return None
        text = history.read_baseline(version)  # made from its first rows before a restart
        return Baseline.from_json(text) if text is not None else None

    def counter(self, model: VersionInfo) -> BatchCounts:
        """What the workers measure of `model`'s next batch."""
        baseline = self.baseline(model.version)
        if baseline is not None or self.config.baseline != "first_rows":
            return BatchCounts(baseline)
        wanted = self.config.first_rows - _rows(self._sample)
        return BatchCounts(None, max(wanted, 0), tuple(model.feature_types))

    def observe(self, model: VersionInfo, payloads: Sequence[bytes | bytearray]) -> DriftStats:
        """Merge a batch's payloads (scored by `model`); window, PSI, alerts."""
        if model.version != self._version:
            self._version = model.version
            self._window.clear()
            self._sample = {}
            self._warned = {}
        self._batches += 1
        baseline = self.baseline(model.version)
        merged = merge(payloads, baseline)
        if baseline is None:
            self._collect(model, merged.sample)
            return DriftStats(None, None, {}, {}, {}, {}, merged.reasons)
        self._window.append(merged.counts)
        stats = self._stats(baseline, merged.counts, merged.reasons)
        self._alert(model.version, stats)
        return stats

    def _collect(self, model: VersionInfo, sample: dict[str, list]) -> None:
        """With `first_rows`: add the batch's sample; once it holds enough rows, make it the
        version's baseline and keep it in the history."""
        if self.config.baseline != "first_rows":
            return
        for name, values in sample.items():
            self._sample.setdefault(name, []).extend(values)
        n = self.config.first_rows
        if _rows(self._sample) < n:
            return
        names = [name for name in model.feature_types if name in self._sample]
        rows = pd.DataFrame({name: self._sample[name][:n] for name in names})
        predictions = self._sample.get(PREDICTION)
        baseline = build(
            rows,
            {name: model.feature_types[name] for name in names},
            "first_rows",
            None if predictions is None else pd.Series(predictions[:n]),
            model.prediction_kind,
        )
        self._baselines[model.version] = baseline
        self._sample = {}
        if self.history is not None:
            self.history.write_baseline(model.version, baseline.to_json())
        log.info(
            "model %s: its first %d scored rows are its baseline (monitoring.baseline first_rows)",
            model.version,
            baseline.rows,
        )

    def _stats(
        self, baseline: Baseline, counts: dict[str, np.ndarray], reasons: dict[str, int]
    ) -> DriftStats:
        window = {name: np.sum([w[name] for w in self._window], axis=0) for name in counts}
        feature_psi, nulls, out = {}, {}, {}
        prediction_psi = None
        for name, distribution in baseline.columns.items():
            total = window[name]
            bins = total[: len(distribution.fractions)]
            value = psi(bins, distribution.fractions)
            rows = int(bins.sum() + total[-2])
            if name == PREDICTION:
                prediction_psi = value
                continue
            if value is not None:
                feature_psi[name] = value
            if rows:
                nulls[name] = float(total[-2]) / rows
                out[name] = float(total[-1]) / rows
        this_batch = {
            name: [int(c) for c in counts[name][: len(d.fractions)]]
            for name, d in baseline.columns.items()
        }
        return DriftStats(
            baseline.source, prediction_psi, feature_psi, nulls, out, this_batch, reasons
        )

    def _alert(self, version: str, stats: DriftStats) -> None:
        """WARNING when a column's PSI crosses `psi_warn` (again once per window while it
        stays above); INFO when it falls back."""
        values = dict(stats.feature_psi)
        if stats.prediction_psi is not None:
            values[PREDICTION] = stats.prediction_psi
        limit, window = self.config.psi_warn, self.config.window
        for name, value in values.items():
            what = "the prediction" if name == PREDICTION else f"feature {name!r}"
            last = self._warned.get(name)
            if value > limit:
                if last is None or self._batches - last >= window:
                    self._warned[name] = self._batches
                    log.warning(
                        "drift: %s PSI %.3f over the last %d batches is above "
                        "monitoring.psi_warn %g (model %s)",
                        what,
                        value,
                        len(self._window),
                        limit,
                        version,
                    )
            elif last is not None:
                del self._warned[name]
                log.info(
                    "drift cleared: %s PSI %.3f is back below monitoring.psi_warn %g (model %s)",
                    what,
                    value,
                    limit,
                    version,
                )


def _rows(sample: dict[str, list]) -> int:
    return max((len(values) for values in sample.values()), default=0)
