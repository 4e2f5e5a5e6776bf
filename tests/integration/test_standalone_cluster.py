"""spark-submit against a real standalone cluster (master + worker JVMs on 127.0.0.1).

One cluster serves the module: starting it is the expensive part. The first test proves the
harness (tasks run on the worker's executor, not in the driver); the second runs the scorer
itself, as users do, through `stream_scorer/entry.py`.
"""

import json
import textwrap
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from stream_scorer.devtools.demo_models import save_model, train_demo_model
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore
from tests.integration.standalone_cluster import StandaloneCluster, java_missing
from tests.kafka_helpers import create_topic, produce_exact, spread
from tests.scorer_process import write_config

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(java_missing() is not None, reason=java_missing() or ""),
]

ENTRY = Path(__file__).resolve().parents[2] / "stream_scorer" / "entry.py"
FEATURES = {"f0": "double", "f1": "double", "f2": "double", "f3": "double"}

# Runs as the driver: broadcasts a value, then a pandas UDF over 2 partitions reports, per row,
# the Python worker's PID and working directory and the broadcast value it saw.
PROBE = textwrap.dedent(
    """
    import json, os, sys
    import pandas as pd
    from pyspark.sql import SparkSession
    from pyspark.sql.functions import pandas_udf

    spark = SparkSession.builder.appName("cluster-probe").getOrCreate()
    token = spark.sparkContext.broadcast("token-42")

    @pandas_udf("string")
    def where(ids: pd.Series) -> pd.Series:
        seen = json.dumps([os.getpid(), os.getcwd(), token.value])
        return pd.Series([seen] * len(ids))

    rows = spark.range(0, 8, numPartitions=2).select("id", where("id").alias("seen")).collect()
    report = {
        "driver_pid": os.getpid(),
        "master": spark.sparkContext.master,
        "app_id": spark.sparkContext.applicationId,
        "rows": {r.id: json.loads(r.seen) for r in rows},
    }
    spark.stop()
    with open(sys.argv[1], "w") as f:
        json.dump(report, f)
    """
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> StandaloneCluster:
    """One master and one 2-core worker for the module; both process groups ended after."""
    with StandaloneCluster(tmp_path_factory.mktemp("standalone")) as running:
        yield running


def _failure(result) -> str:
    return (
        f"spark-submit exited {result.returncode}\n"
        f"stdout tail:\n{result.stdout[-3000:]}\nstderr tail:\n{result.stderr[-3000:]}"
    )


def test_submitted_job_runs_its_tasks_on_the_cluster_executor(cluster, tmp_path):
    script, report_path = tmp_path / "probe.py", tmp_path / "report.json"
    script.write_text(PROBE)

    result = cluster.submit(script, [str(report_path)])

    assert result.returncode == 0, _failure(result)
    report = json.loads(report_path.read_text())
    executor_dir = cluster.work_dir / report["app_id"]
    assert report["master"] == cluster.master_url
    assert sorted(int(i) for i in report["rows"]) == list(range(8))
    for pid, cwd, token in report["rows"].values():
        assert pid != report["driver_pid"]
        assert Path(cwd).parent == executor_dir
        assert token == "token-42"
    finished = [app["id"] for app in cluster.state()["completedapps"]]
    assert report["app_id"] in finished


def _publish_demo_model(store: Path, tmp_path: Path) -> None:
    artefact = tmp_path / "model.joblib"
    save_model(train_demo_model("binary"), artefact)
    publish_sklearn(ModelStore(store), artefact, FEATURES)


def test_scorer_submitted_to_the_cluster_scores_every_offset_once(cluster, bootstrap, tmp_path):
    topic = create_topic(bootstrap, partitions=2)
    values = [
        json.dumps({"id": i, **{f: i / 10 + k for k, f in enumerate(FEATURES)}}).encode()
        for i in range(60)
    ]
    produce_exact(bootstrap, topic, spread(values, 2))
    _publish_demo_model(tmp_path / "models", tmp_path)
    config = write_config(  # no spark.master: spark-submit's --master must hold
        tmp_path, bootstrap, topic, app_name=f"scorer-on-cluster-{topic}",
        spark={"spark.sql.shuffle.partitions": "2"},
    )  # fmt: skip

    result = cluster.submit(ENTRY, ["run", "--config", str(config), "--once"])

    assert result.returncode == 0, _failure(result)
    table = ds.dataset(tmp_path / "predictions", format="parquet", partitioning="hive")
    coordinates = table.to_table(columns=["partition", "offset"]).to_pylist()
    scored = sorted((row["partition"], row["offset"]) for row in coordinates)
    assert scored == [(p, o) for p in (0, 1) for o in range(30)]
    finished = [app["name"] for app in cluster.state()["completedapps"]]
    assert f"scorer-on-cluster-{topic}" in finished, (
        f"the scorer never registered with {cluster.master_url} (finished apps: {finished}): "
        "it ran in local mode, so the session ignored spark-submit's --master"
    )
