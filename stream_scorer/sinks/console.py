"""Prints each micro-batch to stdout, for development."""

from pyspark.sql import DataFrame

from stream_scorer.sinks.base import Sink


class ConsoleSink(Sink):
    """Prints `batch N: <count> rows` and the first `num_rows` rows of each micro-batch.

    Not idempotent: a replayed batch is printed again.
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
        df.show(self.num_rows, truncate=False)
        return count
