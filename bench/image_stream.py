"""stream-scorer on images (for `bench.images`): its scoring stage alone on a static frame, and
end to end (a fresh embedded broker, a topic of JPEG values, the CNN published to a store,
then timed run-once scorers)."""

import contextlib
import itertools
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow.parquet as pq
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from stream_scorer.config.loader import parse_config
from stream_scorer.config.model_settings import OnnxModelConfig
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.devtools.broker import EmbeddedBroker
from stream_scorer.distribution.broadcast import BroadcastArtefact
from stream_scorer.flavors.onnx.describe import describe_onnx
from stream_scorer.runtime.scorer import Scorer
from stream_scorer.scoring.stage import score
from stream_scorer.serving.model import ServingModel
from stream_scorer.versions.publish import publish_onnx
from stream_scorer.versions.store import ModelStore

PARTITIONS = 2
TOPIC = "images"
OPTIONS = OnnxModelConfig(classes=["Cat", "Dog"], scores="logits")


def stage(df: DataFrame, graph: bytes, size: int, threads: int = 1) -> DataFrame:
    """The scoring stage alone (`stage.score`) on a Kafka-schema frame of the images, decoded
    in `threads` threads per Python worker (`size` is the graph's own)."""
    threaded = {"image_decode_threads": threads} if threads > 1 else {}
    features = FeaturesConfig(format="image", **threaded)
    manifest = describe_onnx(graph, features, OPTIONS)
    artefact = BroadcastArtefact(df.sparkSession.sparkContext.broadcast(graph))
    serving = ServingModel("v-bench", manifest, artefact, ())
    kafka = df.select(
        F.lit(None).cast("binary").alias("key"),
        F.col("image").alias("value"),
        F.lit(TOPIC).alias("topic"),
        F.lit(0).alias("partition"),
        F.col("id").alias("offset"),
        F.current_timestamp().alias("timestamp"),
    )
    return score(kafka, serving, features)


@contextlib.contextmanager
def stream_runs(spark, images: list[bytes], graph: bytes) -> Iterator[Callable[[], float]]:
    """A fresh broker holding `images` and a store holding `graph`; yields a function that
    runs one run-once scorer over the whole topic into Parquet (a new checkpoint each call),
    checks it wrote every image and returns the seconds its batches spent in `addBatch`
    (reading Kafka, scoring, writing: the query's start and commits left out)."""
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker() as broker:
        root = Path(tmp)
        load(broker.bootstrap_servers, images)
        (root / "cnn.onnx").write_bytes(graph)
        features = {"format": "image"}
        publish_onnx(
            ModelStore(root / "models"), root / "cnn.onnx", FeaturesConfig(**features), OPTIONS
        )
        runs = itertools.count()

        def run() -> float:
            config = _config(root, broker.bootstrap_servers, features, next(runs))
            scorer = Scorer(config, spark=spark, once=True)
            scorer.run()
            written = pq.read_table(config.sinks[0].path, columns=["offset"]).num_rows
            if written != len(images):
                msg = f"scorer wrote {written} predictions, expected {len(images)}"
                raise RuntimeError(msg)
            progress = scorer.query.recentProgress if scorer.query is not None else []
            return sum(p["durationMs"].get("addBatch", 0) for p in progress) / 1000

        yield run


def load(bootstrap: str, images: list[bytes]) -> None:
    """Write the images round-robin; each partition ends with a one-record batch."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_request_size=2**22)
    body, tail = images[:-PARTITIONS], images[-PARTITIONS:]
    for i, image in enumerate(body):
        producer.send(TOPIC, value=image, partition=i % PARTITIONS)
    producer.flush()
    for i, image in enumerate(tail):
        producer.send(TOPIC, value=image, partition=(len(body) + i) % PARTITIONS)
        producer.flush()
    producer.close()


def _config(root: Path, bootstrap: str, features: dict, run: int):
    options = {"kafka.bootstrap.servers": bootstrap, "subscribe": TOPIC}
    raw = {
        "source": {"kind": "python-kafka", "options": {**options, "startingOffsets": "earliest"}},
        "features": features,
        "model": {"store": str(root / "models")},
        "checkpoint": str(root / f"checkpoint-{run}"),
        "sinks": [{"kind": "parquet", "path": str(root / f"out-{run}")}],
        "dead_letter": {"kind": "parquet", "path": str(root / f"dead-{run}")},
    }
    return parse_config(raw, "bench")
