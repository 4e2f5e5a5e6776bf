"""Prints each micro-batch to stdout, for development."""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from stream_scorer.sinks.base import Sink


class ConsoleSink(Sink):
    """Prints `batch N: <count> rows` and the first `num_rows` rows of each micro-batch.

    Rows with an `error` (dead letters) show it first, and a binary `value` as its text where
    it is UTF-8, else as hex (`0x...`). Not idempotent: a replayed batch is printed again.
    """

    single_pass = False  # a count, then show

    def __init__(self, num_rows: int = 20) -> None:
        super().__init__("stdout")
        self.num_rows = num_rows

    def _write_batch(self, df: DataFrame, batch_id: int) -> int:
        """Print the batch and return its row count.

        A failure propagates Spark's own error (nothing is written anywhere).
        """
        count = df.count()
        print(f"batch {batch_id}: {count} rows", flush=True)
        readable(df).show(self.num_rows, truncate=False)
        return count


def readable(df: DataFrame) -> DataFrame:
    """`df` for a reader: `error` first, a binary `value` as text (or hex where not UTF-8)."""
    columns: list[Column] = [F.col(f"`{name}`") for name in df.columns]
    types = {field.name: field.dataType for field in df.schema.fields}
    if isinstance(types.get("value"), T.BinaryType):
        text = F.col("value").cast("string")
        hexed = F.concat(F.lit("0x"), F.hex("value"))
        shown = F.when(F.is_valid_utf8(text), text).otherwise(hexed)
        columns[df.columns.index("value")] = shown.alias("value")
    if "error" in types:
        columns.insert(0, columns.pop(df.columns.index("error")))
    return df.select(*columns)
