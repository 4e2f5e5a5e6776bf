"""Batch failures the served model caused, told from the environment's by the worker's traceback."""

from pyspark.errors import PythonException

from stream_scorer.errors import SinkError
from stream_scorer.runtime.model_faults import model_fault

WORKER = "An exception was thrown from the Python worker:\nTraceback (most recent call last):\n"
PYSPARK = '  File "/venv/pyspark.zip/pyspark/{0}", line 1, in {1}\n    code()\n'
OURS = '  File "/app/stream_scorer/{0}", line 1, in {1}\n    code()\n'
ARROW_LINE = (
    "pyspark.errors.exceptions.base.PySparkValueError: Failed to convert the value of the "
    "column '_p0' with type 'object' to Arrow type 'double'."
)
ARROW = (
    WORKER
    + PYSPARK.format("worker.py", "process_results")
    + PYSPARK.format("sql/conversion.py", "convert")
    + ARROW_LINE
    + "\n"
)
INDEX_LINE = "IndexError: index 1 is out of bounds for axis 1 with size 1"
SHAPING = (
    WORKER
    + OURS.format("scoring/udf.py", "score_batches")
    + OURS.format("flavors/sklearn/predictor.py", "predict_rows")
)


def _worker(text: str) -> PythonException:
    return PythonException(message=text)


def _in_sink(worker: PythonException) -> SinkError:
    try:
        raise SinkError("cannot write batch 4 to /out/batch_id=4") from worker
    except SinkError as exc:
        return exc


def test_arrow_conversion_of_the_scoring_output_is_the_models_fault():
    assert model_fault(_in_sink(_worker(ARROW))) == ARROW_LINE


def test_error_shaping_the_models_output_is_the_models_fault():
    assert (
        model_fault(_worker(SHAPING + INDEX_LINE + "\n\tat org.apache.spark.Foo\n")) == INDEX_LINE
    )


def test_kafka_sink_delivery_failure_is_not_the_models_fault():
    text = (
        WORKER
        + OURS.format("sinks/kafka.py", "send_partition")
        + "stream_scorer.errors.SinkError: 3 of 10 records of batch 4 were not delivered\n"
    )
    assert model_fault(_in_sink(_worker(text))) is None


def test_os_error_inside_scoring_is_not_the_models_fault():
    text = SHAPING + "ConnectionRefusedError: [Errno 111] Connection refused\n"
    assert model_fault(_worker(text)) is None


def test_memory_error_inside_scoring_is_not_the_models_fault():
    assert model_fault(_worker(SHAPING + "MemoryError\n")) is None


def test_artefact_not_loading_on_a_worker_is_not_the_models_fault():
    text = (
        WORKER
        + OURS.format("distribution/worker_cache.py", "cached_predictor")
        + "stream_scorer.errors.ModelRejectedError: cannot load the joblib artefact: No module\n"
    )
    assert model_fault(_worker(text)) is None


def test_a_schema_registry_out_of_reach_while_decoding_is_not_the_models_fault():
    text = (
        WORKER
        + OURS.format("scoring/udf.py", "score_batches")
        + OURS.format("features/avro.py", "decode")
        + "stream_scorer.errors.SchemaRegistryUnavailableError: Schema Registry at "
        + "http://registry:8081 did not give schema id 2 after 3 retries\n"
    )
    assert model_fault(_worker(text)) is None


def test_driver_side_error_without_a_worker_failure_is_not_the_models_fault():
    assert model_fault(SinkError("cannot write batch 4: No space left on device")) is None


def test_source_error_in_the_one_pass_scorer_is_not_the_models_fault():
    line = "stream_scorer.errors.SourceError: topic 't' partition 0 range [0, 9) at offset 3"
    reading = (
        WORKER
        + OURS.format("scoring/one_pass.py", "__call__")
        + OURS.format("sources/readers/base.py", "read")
        + line
        + "\n"
    )
    assert model_fault(_in_sink(_worker(reading))) is None


def test_one_pass_conversion_of_the_models_output_is_the_models_fault():
    line = (
        "stream_scorer.errors.ScorerError: Failed to convert the value of the column "
        "'prediction' with type 'object' to Arrow type 'double': Could not convert 'low'"
    )
    cause = "pyarrow.lib.ArrowInvalid: Could not convert 'low' with type str\n"
    converting = (
        WORKER
        + PYSPARK.format("pyarrow/error.pxi", "check_status")
        + cause
        + "\nThe above exception was the direct cause of the following exception:\n\n"
        + "Traceback (most recent call last):\n"
        + OURS.format("scoring/one_pass.py", "_scored")
        + line
        + "\n"
    )
    assert model_fault(_in_sink(_worker(converting))) == line


def test_a_worker_that_died_in_a_task_is_the_models_fault():
    job = RuntimeError(
        "Job aborted due to stage failure: Task 0 in stage 7.0 failed 1 times: "
        "org.apache.spark.SparkException: Python worker exited unexpectedly (crashed)."
    )
    error = SinkError("cannot write batch 4 to /out/batch_id=4")
    error.__cause__ = job

    assert model_fault(error) == (
        "a Python worker died scoring the batch (Python worker exited unexpectedly (crashed))"
    )
