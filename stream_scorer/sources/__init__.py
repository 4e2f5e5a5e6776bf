"""Kafka sources: the jar-free `python-kafka` data source and Spark's own `spark-kafka`.

Both produce Spark's Kafka source schema and take Spark's Kafka option names;
`stream_scorer.sources.factory.read_stream(spark, source_config)` picks one from the config.
The python-kafka source also has an offset-range form (`ranges`), which the scorer's
one-pass path reads.
Nothing is imported here: Spark's data source planner processes import
`stream_scorer.sources.python_kafka`, and this package's `__init__` with it, at query start,
so re-exports here would make them load the config models (pydantic, YAML) for nothing.
"""
