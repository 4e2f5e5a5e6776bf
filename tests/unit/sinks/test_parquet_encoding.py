"""Which Parquet columns the sink writes without a dictionary."""

from pyspark.sql import types as T

from stream_scorer.sinks.parquet import plain_encoded


def test_distinct_valued_columns_are_plain_and_the_others_keep_their_dictionary():
    schema = T.StructType(
        [
            T.StructField("topic", T.StringType()),
            T.StructField("partition", T.IntegerType()),
            T.StructField("offset", T.LongType()),
            T.StructField("timestamp", T.TimestampType()),
            T.StructField("probability", T.DoubleType()),
            T.StructField("probabilities", T.ArrayType(T.DoubleType())),
            T.StructField("model_version", T.StringType()),
            T.StructField("flag", T.BooleanType()),
        ]
    )
    assert plain_encoded(schema) == {
        "parquet.enable.dictionary#offset": "false",
        "parquet.enable.dictionary#timestamp": "false",
        "parquet.enable.dictionary#probability": "false",
        "parquet.enable.dictionary#probabilities.list.element": "false",
    }
