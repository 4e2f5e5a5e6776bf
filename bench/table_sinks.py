"""Steady rate of each table sink against the Parquet sink, on the same records.

The harness of `bench.sink_harness` (N JSON records in a 4-partition topic, the LR demo
model, run-once scorers in one warm session, the sinks in turns, each run to a fresh output
and checkpoint) with three sinks: Parquet, a Delta table and an Iceberg table (SQL catalog
on SQLite). On a local master the scoring tasks write every sink's data files; the table
sinks add their table commit per batch (`maxOffsetsPerTrigger` sets the batches). Each run's
output is read back with the table's own reader and counted. Run:
`.venv/bin/python -m bench.table_sinks --records 1000000 [--rounds 3] [--per-batch 250000]`.
"""

from pathlib import Path

from bench.sink_harness import PARQUET, SinkBench, main, parquet_rows
from stream_scorer.config.settings import ScorerConfig


def sink(kind: str, root: Path, tag: str, bootstrap: str) -> dict:
    """The sink config of `kind`, writing under `root` (fresh for `tag`)."""
    if kind == PARQUET:
        return {"kind": "parquet", "path": str(root / f"parquet-{tag}")}
    if kind == "delta":
        return {"kind": "delta", "path": str(root / f"delta-{tag}")}
    catalog = {"type": "sql", "uri": f"sqlite:///{root}/catalog.db", "warehouse": f"file://{root}"}
    return {"kind": "iceberg", "catalog": catalog, "table": f"bench.t_{tag.replace('-', '_')}"}


def written(cfg: ScorerConfig, bootstrap: str) -> int:
    """Rows the run's sink holds, read back with its own reader."""
    out = cfg.sinks[0]
    if out.kind == PARQUET:
        return parquet_rows(cfg)
    if out.kind == "delta":
        from deltalake import DeltaTable

        return DeltaTable(out.path).to_pyarrow_table(columns=["offset"]).num_rows
    from pyiceberg.catalog import load_catalog

    table = load_catalog("default", **out.catalog).load_table(out.table)
    return table.scan(selected_fields=("offset",)).to_arrow().num_rows


BENCH = SinkBench("table-sinks-bench", (PARQUET, "delta", "iceberg"), sink, written)

if __name__ == "__main__":
    main(BENCH, __doc__.splitlines()[0])
