"""The docker setup checked without a Docker engine: compose services, version pins, Kafka in
KRaft mode, healthchecks, start order, the Dockerfile's Kafka connector, configs/docker.yaml.
"""

import re
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from stream_scorer.config import load_config

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
SERVICES = {"kafka", "spark-master", "spark-worker", "scorer", "producer", "model-init", "tests"}
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _dot_env() -> dict[str, str]:
    pairs = {}
    for line in (DOCKER / ".env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def _resolve(text: str, env: dict[str, str]) -> str:
    return VAR.sub(lambda m: env[m.group(1)], text)


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return _dot_env()


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((DOCKER / "docker-compose.yml").read_text())["services"]


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (DOCKER / "Dockerfile").read_text()


def test_compose_defines_every_service(services):
    assert set(services) >= SERVICES


def test_every_image_is_pinned_by_variables_of_dot_env(services, env):
    for name, service in services.items():
        image = service["image"]
        names = VAR.findall(image)
        assert names, f"{name}: image {image} has no ${{VAR}} from docker/.env"
        assert set(names) <= set(env), f"{name}: {set(names) - set(env)} missing from .env"
        repository, _, tag = _resolve(image, env).rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: {image} is not pinned"


def test_build_args_come_from_dot_env(services, env):
    for name, service in services.items():
        for arg, value in service.get("build", {}).get("args", {}).items():
            assert value == f"${{{arg}}}" and arg in env, f"{name}: build arg {arg}={value}"


def test_dockerfile_base_image_comes_from_build_args(dockerfile, services):
    declared = set(re.findall(r"^ARG (\w+)", dockerfile, re.MULTILINE))
    base = re.search(r"^FROM (\S+)", dockerfile, re.MULTILINE).group(1)
    assert base == "python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE}"
    assert set(VAR.findall(base)) <= declared <= set(services["scorer"]["build"]["args"])


def test_kafka_runs_in_kraft_mode(services):
    kafka = services["kafka"]
    config = {k: str(v) for k, v in kafka["environment"].items()}
    assert kafka["image"].startswith("apache/kafka:")
    assert set(config["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert config["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{config['KAFKA_NODE_ID']}@kafka:9093"
    assert config["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert "CONTROLLER://:9093" in config["KAFKA_LISTENERS"].split(",")
    assert "PLAINTEXT://kafka:9092" in config["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert not [k for k in config if "ZOOKEEPER" in k]


def test_kafka_and_spark_master_have_healthchecks(services):
    kafka_check = " ".join(services["kafka"]["healthcheck"]["test"])
    master_check = " ".join(services["spark-master"]["healthcheck"]["test"])
    assert re.search(r"kafka-(broker-api-versions|topics)\.sh --bootstrap-server", kafka_check)
    assert "http://localhost:8080/json/" in master_check


def test_scorer_starts_after_kafka_is_healthy_and_the_model_is_published(services):
    needs = services["scorer"]["depends_on"]
    assert needs["kafka"]["condition"] == "service_healthy"
    assert needs["spark-master"]["condition"] == "service_healthy"
    assert needs["model-init"]["condition"] == "service_completed_successfully"


def test_scorer_is_spark_submitted_to_the_master(services):
    command = services["scorer"]["command"]
    master = command[command.index("--master") + 1]
    assert command[0] == "spark-submit"
    assert master == "spark://spark-master:7077"
    assert "7077" in services["spark-master"]["command"]
    assert master in services["spark-worker"]["command"]
    assert command[command.index("/app/stream_scorer/entry.py") + 1 :] == [
        "run",
        "--config",
        "/app/configs/docker.yaml",
    ]


def test_spark_services_run_spark_class_daemons(services):
    assert services["spark-master"]["command"][:2] == [
        "spark-class",
        "org.apache.spark.deploy.master.Master",
    ]
    assert services["spark-worker"]["command"][:2] == [
        "spark-class",
        "org.apache.spark.deploy.worker.Worker",
    ]


def test_producer_sends_to_the_compose_kafka(services):
    command = services["producer"]["command"]
    assert command[:2] == ["stream-scorer", "produce"]
    assert command[command.index("--bootstrap") + 1] == "kafka:9092"
    assert {"--topic", "--rate", "--count"} <= set(command)


def test_model_init_publishes_into_the_model_volume(services):
    script = services["model-init"]["command"][-1]
    assert "stream-scorer model publish" in script
    assert "--store /data/models" in script
    assert "models:/data/models" in services["model-init"]["volumes"]


def test_tests_service_runs_integration_tests_against_compose_kafka(services):
    tests = services["tests"]
    assert tests["profiles"] == ["test"]
    assert tests["environment"]["STREAM_SCORER_TEST_BOOTSTRAP"] == "kafka:9092"
    assert {"pytest", "-m", "integration", "tests/integration"} <= set(tests["command"])


def test_state_lives_on_named_volumes_shared_by_driver_and_executors(services):
    volumes = yaml.safe_load((DOCKER / "docker-compose.yml").read_text())["volumes"]
    assert set(volumes) >= {"models", "checkpoint", "outputs"}
    scorer, worker = set(services["scorer"]["volumes"]), set(services["spark-worker"]["volumes"])
    assert {"models:/data/models", "checkpoint:/data/checkpoint", "outputs:/data/out"} <= scorer
    assert {"models:/data/models:ro", "checkpoint:/data/checkpoint", "outputs:/data/out"} <= worker


def test_every_service_that_reads_the_model_store_mounts_it(services):
    readers = {"scorer", "spark-worker", "model-init"}  # driver, executors (big models), publish
    for name in readers:
        mounts = {
            volume.split(":")[:2] == ["models", "/data/models"]
            for volume in services[name]["volumes"]
        }
        assert True in mounts, name


def test_the_image_installs_the_extras_of_dot_env_at_the_tested_versions(dockerfile, env):
    extras = env["SCORER_EXTRAS"].split(",")
    declared = set(metadata.metadata("stream-scorer").get_all("Provides-Extra") or [])
    assert set(extras) <= declared, set(extras) - declared
    assert {"onnx", "mlflow", "avro", "xgboost", "lightgbm", "delta", "iceberg"} <= set(extras)
    assert 'pip install -c /app/constraints.txt "/app[${SCORER_EXTRAS}]"' in dockerfile
    pinned = {
        canonicalize_name(line.split("==")[0])
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    wanted = [Requirement(r) for r in metadata.requires("stream-scorer") or []]
    needed = [
        r
        for r in wanted
        if r.marker is None or any(r.marker.evaluate({"extra": e}) for e in extras)
    ]
    unpinned = {canonicalize_name(r.name) for r in needed} - pinned
    assert not unpinned, f"constraints.txt lacks {sorted(unpinned)}: run `make dist`"


def test_dockerfile_resolves_the_kafka_connector_of_the_pinned_spark(dockerfile, env):
    pyspark = re.search(r'"(pyspark[^"]*)"', (ROOT / "pyproject.toml").read_text()).group(1)
    coordinate = "org.apache.spark:spark-sql-kafka-0-10_${SCALA_BINARY_VERSION}:${SPARK_VERSION}"
    assert coordinate in dockerfile
    assert '.config("spark.jars.packages", os.environ["SPARK_KAFKA_CONNECTOR"])' in dockerfile
    assert 'pip install "pyspark==${SPARK_VERSION}"' in dockerfile
    assert env["SPARK_VERSION"] in Requirement(pyspark).specifier
    assert env["SCALA_BINARY_VERSION"] == "2.13"  # the only Scala that Spark 4 is built for


def test_image_runs_as_a_non_root_user(dockerfile):
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")


def test_docker_config_validates_with_the_scorer_environment(services):
    environment = services["scorer"]["environment"]
    config = load_config(ROOT / "configs" / "docker.yaml", env=environment)
    assert config.source.options["kafka.bootstrap.servers"] == "kafka:9092"
    assert config.spark["spark.master"] == "spark://spark-master:7077"
    assert config.model.store == "/data/models"
    assert config.checkpoint.startswith("/data/checkpoint/")
    assert sorted(sink.kind for sink in config.sinks) == ["kafka", "parquet"]
    assert config.source.kind == "python-kafka"  # jar-free by default


def test_docker_config_reads_the_bootstrap_from_the_environment():
    env = {"KAFKA_BOOTSTRAP_SERVERS": "broker-1:9092,broker-2:9092"}
    config = load_config(ROOT / "configs" / "docker.yaml", env=env)
    assert config.source.options["kafka.bootstrap.servers"] == "broker-1:9092,broker-2:9092"
