"""`stream-scorer status`: last progress, committed offsets and the serving model version."""

import argparse
import json
import time

from stream_scorer.config import load_config
from stream_scorer.config.settings import ScorerConfig
from stream_scorer.contract.family_info import FamilyInfo
from stream_scorer.errors import CheckpointError, ScorerError
from stream_scorer.files import files_at, is_local
from stream_scorer.runtime.checkpoint import Checkpoint
from stream_scorer.runtime.checkpoint_lock import FileLock, Holder
from stream_scorer.runtime.lease import LeaseLock
from stream_scorer.sinks.factory import build_sink
from stream_scorer.versions.sources.base import ModelSource
from stream_scorer.versions.sources.factory import open_source


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `status` sub-command."""
    p = subparsers.add_parser(
        "status",
        help="show the scorer's last progress and serving model",
        description="Reads the checkpoint (whether a scorer holds it, the last committed batch "
        "and its offsets), the status file the running scorer writes after each batch, the "
        "model source's pointer (the store's CURRENT, or an MLflow alias), and each Delta or "
        "Iceberg sink's last committed batch and table version. "
        "A local checkpoint is read directly; a Hadoop URL (hdfs://, s3a://) through a local "
        "SparkSession built with the config's `spark` settings.",
    )
    p.add_argument("--config", required=True, help="the scorer's YAML config (for its checkpoint)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the status; exit 0 even when the scorer has not completed a batch yet.

    Raises
    ------
    CheckpointError
        If the checkpoint directory does not exist.
    """
    config = load_config(args.config)
    checkpoint = _checkpoint(config)
    if not checkpoint.exists():
        msg = (
            f"no checkpoint at {config.checkpoint}: the scorer has not run with this config "
            "yet, or `checkpoint` names another directory"
        )
        raise CheckpointError(msg)
    source = open_source(config.model, dict(config.features.feature_schema))
    status = collect(checkpoint, source)
    holder = _holder(config)
    status["running"] = holder.to_dict() if holder else None
    status["tables"] = table_states(config)
    if args.json:
        print(json.dumps(status, indent=2, sort_keys=True))
        return 0
    print(f"checkpoint:            {config.checkpoint}")
    running = f"yes: {holder.describe()}" if holder else "no scorer holds the checkpoint"
    print(f"scorer running:        {running}")
    print(f"last committed batch:  {status['last_committed_batch']}")
    print(f"committed offsets:     {json.dumps(status['committed_offsets'])}")
    print(f"serving model:         {status['serving_model']} (in the last batch)")
    family = status["current_family"]
    source = status["model_source"] + (f"; {family}" if family else "")
    print(f"model source now:      {status['current_model']} ({source})")
    last = status["last_progress"]
    if last:
        print(
            f"last batch:            {last['batch_id']}, {last['age_s']:.0f}s ago: "
            f"{last['input_rows']} rows, {last['processed_rows_per_second']} rows/s, "
            f"scored {last['scored']}, dead-lettered {last['dead_lettered']}, "
            f"total lag {last['total_lag']}"
        )
    else:
        print("last batch:            none yet (the scorer has not completed a batch)")
    for table in status["tables"]:
        print(
            f"table {table['table']}: last committed batch {table['last_committed_batch']}, "
            f"version {table['version']}"
        )
    return 0


def table_states(config: ScorerConfig) -> list[dict]:
    """Each table sink's (and a table dead letter's) last committed batch and version."""
    kinds = ("delta", "iceberg")
    sinks = [s for s in [*config.sinks, config.dead_letter] if s.kind in kinds]
    states = [build_sink(sink, "", None, checkpoint=config.checkpoint).state() for sink in sinks]
    return [state for state in states if state is not None]


def collect(checkpoint: Checkpoint, store: ModelSource) -> dict:
    """Gather the status from the checkpoint, its status file and the model source.

    `serving_model` is the version that scored the last batch; `current_model` is what the
    source's pointer (the store's CURRENT, an MLflow alias) names now (they differ while a
    new version waits for the next batch, or after a version was refused). `current_family`
    says how many keys that version holds when it is a per-key family ('family of 1000 keys
    + fallback'), else None.
    """
    current = store.current_version()
    committed = checkpoint.last_committed()
    offsets = checkpoint.source_offsets(committed) if committed is not None else None
    last = checkpoint.read_status()
    if last:
        last["age_s"] = time.time() - last.get("written_at", time.time())
    return {
        "last_committed_batch": committed,
        "committed_offsets": offsets,
        "serving_model": last["model_version"] if last else None,
        "current_model": current,
        "current_family": _family_summary(store, current),
        "model_source": store.location,
        "last_progress": last,
    }


def _family_summary(source: ModelSource, version: str | None) -> str | None:
    try:
        info = FamilyInfo.of(source.manifest(version)) if version else None
    except ScorerError:  # unreadable, or a version that can never serve: no family to name
        return None
    return f"family of {info.summary()}" if info else None


def _holder(config: ScorerConfig) -> Holder | None:
    """The scorer holding the checkpoint now (its OS lock or live lease), or None."""
    if is_local(config.checkpoint) and config.checkpoint_lock == "auto":
        return FileLock(config.checkpoint).holder()
    return LeaseLock(config.checkpoint, files_at(config.checkpoint)).holder()


def _checkpoint(config: ScorerConfig) -> Checkpoint:
    """The config's checkpoint: read directly if local, else through a local[1] session."""
    if is_local(config.checkpoint):
        return Checkpoint.at(config.checkpoint)
    from stream_scorer.runtime.session import build_session

    spark = build_session(f"{config.app_name}-status", {**config.spark, "spark.master": "local[1]"})
    return Checkpoint.at(config.checkpoint, spark)
