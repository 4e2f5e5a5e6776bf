"""The broker goes away while the scorer runs: a clear failure, never a silent skip.

These tests start their own embedded broker on a fixed port, since they stop it. The
embedded broker (Tansu) is in-memory: restarted, it has lost every topic and offset, so
"the scorer resumes where it stopped after an outage" cannot be tested with it (that needs
a broker that keeps its log, e.g. docker-compose's Kafka). What can be tested: a broker
that stays down ends the query with an error naming the broker, after the batches before
it were committed; and a broker that comes back empty (offsets went backwards) is
reported as data loss instead of being read from a wrong position.
"""

import pytest
from pyspark.errors import StreamingQueryException

from stream_scorer.config.settings import SourceConfig
from stream_scorer.devtools.broker import EmbeddedBroker
from stream_scorer.runtime.scorer import Scorer
from tests.kafka_helpers import create_topic, produce_exact, spread
from tests.scorer_helpers import (
    NUMERIC,
    encode,
    publish,
    read_sink,
    records,
    scored_coordinates,
)
from tests.scorer_helpers import scorer_config as make_config
from tests.scorer_process import batch_files

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DOWN_TIMEOUT_S = 120


@pytest.fixture
def broker(tmp_path):
    """An embedded broker of this test alone, which the test may stop and start again."""
    own = EmbeddedBroker(log_path=tmp_path / "tansu.log")
    with own:
        yield own


def run_first_load(tmp_path, spark, broker):
    topic = create_topic(broker.bootstrap_servers, 2, name="outage")
    produce_exact(broker.bootstrap_servers, topic, spread(encode(records(range(40), NUMERIC)), 2))
    publish(tmp_path / "models", "binary", NUMERIC)
    config = make_config(tmp_path, broker.bootstrap_servers, topic)
    # One quick retry: the back-off itself is unit-tested; here the outage outlasts any retry.
    options = {**config.source.options, "fetchOffset.numRetries": "1"}
    options["fetchOffset.retryIntervalMs"] = "100"
    source = SourceConfig(kind=config.source.kind, options=options)  # validated, parsed again
    return topic, config.model_copy(update={"source": source})


def test_broker_down_ends_the_query_with_an_error_naming_it(tmp_path, spark, broker):
    topic, config = run_first_load(tmp_path, spark, broker)
    scorer = Scorer(config, spark=spark)
    query = scorer.start()
    try:
        query.processAllAvailable()
        broker.stop()
        servers = broker.bootstrap_servers.replace(".", r"\.")
        with pytest.raises(StreamingQueryException, match=rf"could not .* on {servers}"):
            query.awaitTermination(DOWN_TIMEOUT_S)
    finally:
        scorer.close()

    checkpoint = tmp_path / "checkpoint"
    assert batch_files(checkpoint, "offsets") == batch_files(checkpoint, "commits") == [0]
    expected = sorted((topic, p, o) for p in range(2) for o in range(20))
    assert scored_coordinates(spark, tmp_path) == expected


def test_broker_back_empty_is_reported_as_data_loss(tmp_path, spark, broker):
    topic, config = run_first_load(tmp_path, spark, broker)
    Scorer(config, spark=spark, once=True).run()
    broker.stop()
    broker.start()  # same port, no topics: what a restarted in-memory broker looks like
    create_topic(broker.bootstrap_servers, 2, name=topic)
    produce_exact(broker.bootstrap_servers, topic, spread(encode(records(range(10), NUMERIC)), 2))

    with pytest.raises(StreamingQueryException, match=r"lost data on topic 'outage' partition"):
        Scorer(config, spark=spark, once=True).run()

    assert len(read_sink(spark, tmp_path / "predictions")) == 40
