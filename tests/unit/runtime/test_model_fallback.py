"""When a failed batch is rescored by the previous version, and when it keeps failing."""

from types import SimpleNamespace

from pyspark.errors import PythonException

from stream_scorer.errors import SinkError
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
