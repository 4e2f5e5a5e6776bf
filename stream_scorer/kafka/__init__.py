"""Kafka glue shared by config, sources and sinks: option names, the source options value,
client settings, the row schema."""
