"""Runtime wiring: the Spark session, the streaming query, foreachBatch and the checkpoint."""
