"""Operational metrics of a running scorer: the per-batch JSON log line, the Prometheus
endpoint, the status file and `stream-scorer status`.

One scenario serves every test: 120 records (3 malformed) on 2 partitions, read in three
batches of 40 by `maxOffsetsPerTrigger`, so each batch's counts and lag are known exactly.
"""

import json
import logging
import socket
import urllib.request
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from stream_scorer.cli.main import main
from stream_scorer.devtools.broker import free_port
from stream_scorer.runtime.scorer import Scorer
from tests.kafka_helpers import create_topic, produce_exact, spread
from tests.scorer_helpers import NUMERIC, encode, publish, records, scorer_config

pytestmark = pytest.mark.integration

BATCH = 40  # maxOffsetsPerTrigger: 20 offsets of each partition per batch
BAD_AT = (7, 45, 61)  # value indexes of malformed records: batch 0 has one, batch 1 two
# batch id -> (input rows, scored, dead-lettered, lag per partition after the batch)
EXPECTED = {0: (40, 39, 1, 40), 1: (40, 38, 2, 20), 2: (40, 40, 0, 0)}


def _values() -> list[bytes]:
    values = encode(records(range(120), NUMERIC))
    for i in BAD_AT:
        values[i] = b"not json"
    return values  # spread over 2 partitions: batch k reads values[40k:40k+40]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, spark, bootstrap):
    """Run the scorer over the three batches; keep its log lines, a scrape and its config."""
    tmp = tmp_path_factory.mktemp("metrics")
    topic = create_topic(bootstrap, 2)
    produce_exact(bootstrap, topic, spread(_values(), 2))
    publish(tmp / "models", "binary", NUMERIC)
    port = free_port()
    source = scorer_config(tmp, bootstrap, topic).source.model_dump(mode="json")
    source["options"]["maxOffsetsPerTrigger"] = str(BATCH)
    config = scorer_config(tmp, bootstrap, topic, source=source, metrics={"prometheus_port": port})
    config_file = tmp / "scorer.yaml"
    config_file.write_text(
        yaml.safe_dump(config.model_dump(mode="json", by_alias=True, exclude_unset=True))
    )

    lines: list[dict] = []
    handler = _JsonLines(lines)
    metrics_log = logging.getLogger("stream_scorer.metrics")
    metrics_log.addHandler(handler)
    metrics_log.setLevel(logging.INFO)
    readable: list[str] = []
    readable_handler = _Messages(readable)
    batches_log = logging.getLogger("stream_scorer.batches")
    batches_log.addHandler(readable_handler)
    batches_log.setLevel(logging.INFO)
    scorer = Scorer(config, spark=spark, once=True)
    try:
        query = scorer.start()
        assert query.awaitTermination(120), "the availableNow query did not finish in 120s"
        assert query.exception() is None
        assert scorer.listener.wait_terminated(60), "no query-terminated event within 60s"
        url = f"http://127.0.0.1:{port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            scrape = response.read().decode()
    finally:
        scorer.close()
        metrics_log.removeHandler(handler)
        batches_log.removeHandler(readable_handler)
    return {
        "lines": lines,
        "readable": readable,
        "scrape": scrape,
        "port": port,
        "config": config,
        "config_file": config_file,
    }


class _JsonLines(logging.Handler):
    """Keeps the parsed JSON of every record of the `stream_scorer.metrics` logger."""

    def __init__(self, sink: list[dict]) -> None:
        super().__init__(logging.INFO)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(json.loads(record.getMessage()))


class _Messages(logging.Handler):
    """Keeps the message of every record of a logger."""

    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.INFO)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


def _batches(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["event"] == "batch"]


def _samples(scrape: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(scrape)
        for s in family.samples
    }


def test_each_batch_logs_one_json_line_with_its_exact_counts(scenario):
    batches = _batches(scenario["lines"])
    assert [b["batch_id"] for b in batches] == [0, 1, 2]
    for b in batches:
        rows, scored, dead, _ = EXPECTED[b["batch_id"]]
        assert (b["input_rows"], b["scored"], b["dead_lettered"]) == (rows, scored, dead)
        assert b["model_version"] == "v0001"
        assert b["batch_duration_ms"] > 0


def test_the_readable_line_gives_the_json_lines_counts_and_duration(scenario):
    expected = [
        f"batch {b['batch_id']}: {b['scored']} scored by model v0001, "
        f"{b['dead_lettered']} dead-lettered, {b['batch_duration_ms'] / 1000:.2f}s"
        for b in _batches(scenario["lines"])
    ]
    assert scenario["readable"] == expected


def test_batch_line_reports_the_lag_of_every_partition_down_to_zero(scenario):
    topic = scenario["config"].source.options["subscribe"]
    for b in _batches(scenario["lines"]):
        lag = EXPECTED[b["batch_id"]][3]
        assert b["source_lag"] == {f"{topic}/0": lag, f"{topic}/1": lag}
        assert b["total_lag"] == 2 * lag


def test_prometheus_counters_equal_the_batch_counts(scenario):
    topic = scenario["config"].source.options["subscribe"]
    samples = _samples(scenario["scrape"])
    assert samples[("stream_scorer_batches_total", ())] == 3
    assert samples[("stream_scorer_input_rows_total", ())] == 120
    assert samples[("stream_scorer_scored_rows_total", (("model_version", "v0001"),))] == 117
    assert samples[("stream_scorer_dead_lettered_rows_total", ())] == 3
    assert samples[("stream_scorer_model_info", (("model_version", "v0001"),))] == 1
    for partition in (0, 1):
        assert samples[("stream_scorer_source_lag", (("partition", f"{topic}/{partition}"),))] == 0


def test_status_file_holds_the_last_batch(scenario):
    config = scenario["config"]
    status = json.loads((Path(config.checkpoint) / "scorer" / "status.json").read_text())
    assert status["batch_id"] == 2
    assert (status["input_rows"], status["scored"], status["dead_lettered"]) == (40, 40, 0)
    assert status["total_lag"] == 0


def test_status_command_prints_committed_batch_offsets_and_model(scenario, capsys):
    capsys.readouterr()
    assert main(["status", "--config", str(scenario["config_file"]), "--json"]) == 0

    status = json.loads(capsys.readouterr().out)
    topic = scenario["config"].source.options["subscribe"]
    assert status["last_committed_batch"] == 2
    assert status["committed_offsets"] == [{topic: {"0": 60, "1": 60}}]
    assert status["serving_model"] == status["current_model"] == "v0001"
    assert status["last_progress"]["model_version"] == "v0001"
    assert status["last_progress"]["batch_id"] == 2
    assert status["running"] is None  # the scorer was closed


def test_closed_scorer_releases_the_metrics_port(scenario):
    with socket.socket() as sock:  # as an HTTP server binds: the scrape's TIME_WAIT is fine
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", scenario["port"]))
        sock.listen()


def test_status_before_the_first_batch_says_none_yet(tmp_path, bootstrap, capsys):
    config_file = tmp_path / "scorer.yaml"
    config = scorer_config(tmp_path, bootstrap, "never-read")
    config_file.write_text(yaml.safe_dump(config.model_dump(mode="json", by_alias=True)))
    Path(config.checkpoint).mkdir()  # a missing checkpoint is an error (unit tests)

    assert main(["status", "--config", str(config_file)]) == 0

    out = capsys.readouterr().out.splitlines()
    assert "scorer running:        no scorer holds the checkpoint" in out
    assert "last committed batch:  None" in out
    assert f"model source now:      None ({tmp_path / 'models'})" in out
    assert "last batch:            none yet (the scorer has not completed a batch)" in out
