"""Kafka glue shared by sources and sinks: option names, client settings, the row schema."""
