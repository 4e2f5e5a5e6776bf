"""When a failed batch is rescored by the previous version, and when it keeps failing."""

from types import SimpleNamespace

import pytest
from pyspark.errors import PythonException

from stream_scorer.errors import ModelErrorRateError, SinkError
from stream_scorer.files import LocalFiles
from stream_scorer.runtime.model_fallback import ModelFallback
from stream_scorer.runtime.serving_record import Served, ServingRecord

OUTPUT_LINE = "IndexError: index 1 is out of bounds for axis 1 with size 1"
MODEL_FAULT = PythonException(
    message=(
        "An exception was thrown from the Python worker:\nTraceback (most recent call last):\n"
        '  File "/app/stream_scorer/flavors/sklearn/predictor.py", line 9, in predict_rows\n'
        f"{OUTPUT_LINE}\n"
    )
)
OUTAGE = SinkError("cannot write batch 4: No space left on device")


def _model(version: str, sha256: str) -> SimpleNamespace:
    return SimpleNamespace(version=version, manifest=SimpleNamespace(sha256=sha256))


V1, V2 = _model("v0001", "aa"), _model("v0002", "bb")


class FakeRegistry:
    """Records what the fallback asks of the registry."""

    def __init__(self) -> None:
        self.restored: tuple | None = None
        self.fell_back: list[tuple[str, str]] = []

    def restore(self, refused, last_served) -> None:
        self.restored = (list(refused), last_served)

    def fall_back(self, version: str, reason: str) -> SimpleNamespace:
        self.fell_back.append((version, reason))
        return V1


def _fallback(tmp_path, attempts: int = 3, last_served=V1) -> tuple[ModelFallback, FakeRegistry]:
    record = ServingRecord(LocalFiles(str(tmp_path)))
    if last_served is not None and record.last_served is None:
        record.served(Served(last_served.version, last_served.manifest.sha256))
    registry = FakeRegistry()
    return ModelFallback(registry, record, attempts), registry


def test_new_version_falls_back_at_the_last_attempt_only(tmp_path):
    fallback, registry = _fallback(tmp_path)
    outcomes = [fallback.after_failure(MODEL_FAULT, 4, V2, committed=False) for _ in range(3)]
    assert outcomes == [None, None, V1]
    assert registry.fell_back == [("v0001", f"batch 4 failed 3 times with it: {OUTPUT_LINE}")]


def test_attempts_count_across_restarts(tmp_path):
    for _ in range(2):
        assert _fallback(tmp_path)[0].after_failure(MODEL_FAULT, 4, V2, False) is None
    assert _fallback(tmp_path)[0].after_failure(MODEL_FAULT, 4, V2, False) is V1


def test_refused_version_is_restored_after_a_restart(tmp_path):
    fallback, _ = _fallback(tmp_path, attempts=1)
    fallback.after_failure(MODEL_FAULT, 4, V2, committed=False)
    _, registry = _fallback(tmp_path)
    assert registry.restored == ([("v0002", "bb")], "v0001")


def test_infrastructure_failure_never_falls_back(tmp_path):
    fallback, registry = _fallback(tmp_path, attempts=1)
    assert fallback.after_failure(OUTAGE, 4, V2, committed=False) is None
    assert registry.fell_back == []


def test_batch_a_sink_committed_never_falls_back(tmp_path):
    fallback, registry = _fallback(tmp_path, attempts=1)
    assert fallback.after_failure(MODEL_FAULT, 4, V2, committed=True) is None
    assert registry.fell_back == []


def test_version_that_served_before_never_falls_back(tmp_path):
    fallback, registry = _fallback(tmp_path, attempts=1)
    assert fallback.after_failure(MODEL_FAULT, 4, V1, committed=False) is None
    assert registry.fell_back == []


def test_first_version_ever_keeps_failing(tmp_path, caplog):
    fallback, registry = _fallback(tmp_path, attempts=1, last_served=None)
    assert fallback.after_failure(MODEL_FAULT, 0, V2, committed=False) is None
    assert registry.fell_back == []
    assert "the first version to serve: no earlier version to fall back to" in caplog.text


def _with_rate(tmp_path, previous_rate: float) -> tuple[ModelFallback, FakeRegistry]:
    record = ServingRecord(LocalFiles(str(tmp_path)))
    record.served(Served(V1.version, V1.manifest.sha256), previous_rate)
    registry = FakeRegistry()
    return ModelFallback(registry, record, 3, max_error_rate=0.2), registry


def test_a_new_version_failing_too_many_rows_is_refused_at_the_first_attempt(tmp_path):
    fallback, registry = _with_rate(tmp_path, previous_rate=0.01)
    assert fallback.on_probation(V2)

    with pytest.raises(ModelErrorRateError) as too_many:
        fallback.check_error_rate(5, V2, 0.75)
    older = fallback.after_failure(too_many.value, 5, V2, committed=False)

    assert older is V1
    assert registry.fell_back == [
        ("v0001", "model v0002 failed 75% of the decoded rows of batch 5 "
         "(model.max_error_rate 20%); v0001 failed 1% of its last batch"),
    ]  # fmt: skip
    assert fallback.record.refused == [Served("v0002", "bb")]


def test_error_rate_within_the_limit_or_as_high_as_before_keeps_the_new_version(tmp_path):
    fallback, _ = _with_rate(tmp_path, previous_rate=0.01)
    fallback.check_error_rate(5, V2, 0.2)  # at the limit

    worse_before, _ = _with_rate(tmp_path / "b", previous_rate=0.9)
    worse_before.check_error_rate(5, V2, 0.95)  # the data, not the new model


def test_the_serving_version_is_not_on_probation(tmp_path):
    fallback, _ = _with_rate(tmp_path, previous_rate=0.0)

    assert not fallback.on_probation(V1)
