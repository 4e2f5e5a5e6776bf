"""The command line fails fast, with the key named, before any Spark or Kafka work."""

from stream_scorer.cli.main import main


def test_run_with_bad_config_exits_2_naming_the_key(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("source: {options: {subscribe: t}}\nfeatures: {schema: {f0: dbl}}\n")
    assert main(["run", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "features.schema.f0: got 'dbl'" in err
    assert "kafka.bootstrap.servers" in err


def test_run_with_missing_config_file_exits_2(tmp_path, capsys):
    assert main(["run", "--config", str(tmp_path / "absent.yaml")]) == 2
    assert "cannot read config" in capsys.readouterr().err
