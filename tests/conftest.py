"""Session-wide fixtures: one SparkSession, one Kafka broker and one S3 API server (moto, for
the object-store model store) per test process: the whole run, or each pytest-xdist worker of
`make test`.

The broker is the embedded Tansu unless STREAM_SCORER_TEST_BOOTSTRAP names another
(docker-compose's Apache Kafka, for example).
"""

import logging
import os
import sys

import pytest

from stream_scorer.devtools.broker import EmbeddedBroker
from tests import s3_helpers
from tests.s3_helpers import S3Server


@pytest.fixture(scope="session")
def bootstrap(tmp_path_factory: pytest.TempPathFactory) -> str:
    """`kafka.bootstrap.servers` of the test broker."""
    external = os.environ.get("STREAM_SCORER_TEST_BOOTSTRAP")
    if external:
        yield external
        return
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    with EmbeddedBroker(log_path=log) as broker:
        yield broker.bootstrap_servers


@pytest.fixture(scope="session")
def spark():
    """A local[2] SparkSession shared by every integration test."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from stream_scorer.runtime.session import build_session

    session = build_session(
        "stream-scorer-tests",
        {
            "spark.master": "local[2]",
            "spark.sql.shuffle.partitions": "2",
            # A Python worker has 15 s to connect back to the JVM by default: too short on
            # 2 cores busy with two test processes and their workers.
            "spark.python.authenticate.socketTimeout": "120s",
        },
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def s3() -> S3Server:
    """moto's S3 server on 127.0.0.1 (a free port), for the whole session."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    with s3_helpers.serve() as server:
        yield server
