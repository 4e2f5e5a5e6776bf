"""Scoring: the pandas UDF that scores Arrow batches with the serving model, and the stage
foreachBatch calls (`stage.score`, `stage.predictions`, `stage.dead_letters`).

Executors load a model version once per Python worker (`distribution.worker_cache`), from
its artefact (`distribution`); never per row or per Arrow batch.
"""
