"""The row schema of Spark's Kafka source, which every stream-scorer source produces."""

from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

HEADERS_TYPE = ArrayType(
    StructType([StructField("key", StringType()), StructField("value", BinaryType())])
)

KAFKA_SCHEMA = StructType(
    [
        StructField("key", BinaryType()),
        StructField("value", BinaryType()),
        StructField("topic", StringType()),
        StructField("partition", IntegerType()),
        StructField("offset", LongType()),
        StructField("timestamp", TimestampType()),
        StructField("timestampType", IntegerType()),
    ]
)


def kafka_schema(include_headers: bool = False) -> StructType:
    """Return Spark's Kafka source schema, with the optional `headers` column."""
    if not include_headers:
        return KAFKA_SCHEMA
    return StructType([*KAFKA_SCHEMA.fields, StructField("headers", HEADERS_TYPE)])
