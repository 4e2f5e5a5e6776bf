"""Delta and Iceberg sink settings: bad ones fail at start naming the key, the value and the
need; a missing extra is named."""

import pytest

from stream_scorer.config import load_config, table_sinks
from stream_scorer.errors import ConfigError
from tests.unit.config.test_settings import GOOD, write

ICEBERG = "{kind: iceberg, catalog: {type: sql, uri: 'sqlite:///c.db'}, table: ns.preds}"


def sinks(text: str) -> str:
    return GOOD.replace("[{kind: parquet, path: ./out}]", f"[{text}]")


def test_table_sinks_load_with_day_partitions(tmp_path):
    config = load_config(write(tmp_path, sinks(f"{{kind: delta, path: ./t}}, {ICEBERG}")), env={})
    delta, iceberg = config.sinks
    assert (delta.kind, delta.path, delta.partition_by) == ("delta", str(tmp_path / "t"), "day")
    assert (iceberg.kind, iceberg.table, iceberg.partition_by) == ("iceberg", "ns.preds", "day")


@pytest.mark.parametrize(
    ("sink", "expected"),
    [
        ("{kind: delta, path: 's3://b/t'}", "delta.path: got 's3://b/t'; expected: a local"),
        ("{kind: delta, path: ./t, partition_by: hour}", "sinks.0.delta.partition_by: got 'hour'"),
        (ICEBERG.replace("ns.preds", "preds"), "sinks.0.iceberg.table: got 'preds'"),
        (ICEBERG.replace("type: sql, uri: 'sqlite:///c.db'", "type: sql"), "database `uri`"),
        (ICEBERG.replace("type: sql, uri: 'sqlite:///c.db'", "warehouse: x"), "a `type`"),
    ],
)
def test_bad_table_sink_names_key_and_value(tmp_path, sink, expected):
    with pytest.raises(ConfigError, match=r"c\.yaml") as err:
        load_config(write(tmp_path, sinks(sink)), env={})
    assert expected in str(err.value)


@pytest.mark.parametrize(("kind", "module"), [("delta", "deltalake"), ("iceberg", "pyiceberg")])
def test_a_missing_extra_is_named(tmp_path, monkeypatch, kind, module):
    real = table_sinks.find_spec
    monkeypatch.setattr(
        table_sinks, "find_spec", lambda name: None if name == module else real(name)
    )
    sink = "{kind: delta, path: ./t}" if kind == "delta" else ICEBERG
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, sinks(sink)), env={})
    assert f"pip install 'stream-scorer[{kind}]'" in str(err.value)
