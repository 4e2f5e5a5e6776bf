"""Fall back to the version that served before when a newly switched one fails whole batches.

A model can pass publish and reload (its canary rows score) yet fail every real batch as a
whole, e.g. by returning outputs no scored row can hold. Such a batch is never committed,
so every restart would fail on it until someone rolls the model back. `ModelFallback`
counts the failed attempts of the batch in the checkpoint (`ServingRecord`), across
restarts; at `max_attempts` it refuses the new version, serves the previous one again and
lets the pipeline rescore the batch with it.

A model can also fail row by row: whatever `predict` raises is set aside per row, so such a
batch would be written with its good rows dead-lettered. A newly switched version therefore
scores its first batch in full before any sink writes it (`on_probation`); if it failed more
than `max_error_rate` of the rows that reached the model while the previous version failed
no more than that on its last batch, it is refused at once (`ModelErrorRateError`) and the
previous version rescores the batch.
"""

import logging

from stream_scorer.errors import ModelErrorRateError, ScorerError
from stream_scorer.runtime.model_faults import model_fault
from stream_scorer.runtime.serving_record import Served, ServingRecord
from stream_scorer.serving.model import ServingModel
from stream_scorer.serving.registry import ModelRegistry

log = logging.getLogger(__name__)


def served(model: ServingModel) -> Served:
    """The version and artefact of `model`, as the record keeps them."""
    return Served(model.version, model.manifest.sha256)


class ModelFallback:
    """Decides, on the driver, whether a failed batch is rescored by the previous version.

    Called by the pipeline once per written batch (`written`) and once per failed one
    (`after_failure`). Restores at construction what an earlier run refused, so a restart
    does not serve a refused version again while the pointer still names it.
    """

    def __init__(
        self,
        registry: ModelRegistry,
        record: ServingRecord,
        max_attempts: int,
        max_error_rate: float = 1.0,
    ) -> None:
        self.registry = registry
        self.record = record
        self.max_attempts = max_attempts
        self.max_error_rate = max_error_rate
        last = record.last_served
        refused = [(model.version, model.sha256) for model in record.refused]
        registry.restore(refused, last.version if last else None)

    def written(self, model: ServingModel, error_rate: float = 0.0) -> None:
        """Record that `model` served a batch every sink wrote, failing `error_rate` of the
        rows that reached it."""
        self.record.served(served(model), error_rate)

    def on_probation(self, model: ServingModel) -> bool:
        """True if `model` is newly switched to (it has written no batch yet) and an earlier
        version could take over: its batch is then scored in full before any sink writes."""
        previous = self.record.last_served
        return previous is not None and previous.version != model.version

    def check_error_rate(self, batch_id: int, model: ServingModel, error_rate: float) -> None:
        """Refuse `model`, on probation, if it failed too many rows of batch `batch_id`.

        Raises
        ------
        ModelErrorRateError
            If `error_rate` is over `max_error_rate` and the previous version's, on its last
            written batch, was not.
        """
        previous, before = self.record.last_served, self.record.last_error_rate
        if error_rate <= self.max_error_rate or previous is None or before > self.max_error_rate:
            return
        msg = (
            f"model {model.version} failed {error_rate:.0%} of the decoded rows of batch "
            f"{batch_id} (model.max_error_rate {self.max_error_rate:.0%}); {previous.version} "
            f"failed {before:.0%} of its last batch"
        )
        raise ModelErrorRateError(msg)

    def after_failure(
        self, error: BaseException, batch_id: int, model: ServingModel, committed: bool
    ) -> ServingModel | None:
        """The version to rescore batch `batch_id` with after `error`, or None to fail it.

        Falls back only when all of these hold: `model` is not the version that served the
        last written batch (it was newly switched to) and that version is known; no sink
        committed the batch (`committed` False: otherwise the sinks could hold two versions
        of it, so the batch keeps failing as before); `error` is the model's fault
        (`model_fault`); and this is the `max_attempts`-th such failure of the batch with
        `model`, or the first when `model` failed too many of its rows
        (`ModelErrorRateError`, from `check_error_rate`). Each counted failure is logged
        (ERROR) with its reason and batch id.
        """
        too_many = isinstance(error, ModelErrorRateError)
        reason = str(error) if too_many else model_fault(error)
        previous = self.record.last_served
        if reason is None or committed or (previous and previous.version == model.version):
            return None
        if previous is None:
            log.error(
                "batch %d failed with %s, the first version to serve: no earlier version to "
                "fall back to; roll the model back or publish a fixed one (%s)",
                batch_id,
                model.version,
                reason,
            )
            return None
        attempts = self.max_attempts if too_many else self.record.failed(batch_id, served(model))
        if attempts < self.max_attempts:
            log.error(
                "batch %d failed with model %s (attempt %d of %d before falling back to %s): %s",
                batch_id,
                model.version,
                attempts,
                self.max_attempts,
                previous.version,
                reason,
            )
            return None
        if not too_many:
            reason = f"batch {batch_id} failed {self.max_attempts} times with it: {reason}"
        return self._fall_back(batch_id, model, previous, reason)

    def _fall_back(
        self, batch_id: int, model: ServingModel, previous: Served, why: str
    ) -> ServingModel | None:
        try:
            older = self.registry.fall_back(previous.version, why)
        except ScorerError as exc:
            log.error("%s cannot serve again, batch %d fails: %s", previous.version, batch_id, exc)
            return None
        self.record.refuse(served(model))
        log.error(
            "model %s refused, %s serves again and rescores batch %d: %s",
            model.version,
            older.version,
            batch_id,
            why,
        )
        return older
