"""The command line fails fast, with the key named, before any Spark or Kafka work."""

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stream_scorer.cli.main import build_parser, main


def _options_without_help(parser: argparse.ArgumentParser, command: str) -> list[str]:
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                missing += _options_without_help(sub, f"{command} {name}")
        elif action.help is None:
            missing.append(f"{command} {'/'.join(action.option_strings) or action.dest}")
    return missing


def test_every_option_of_every_command_has_help_text():
    assert _options_without_help(build_parser(), "stream-scorer") == []


def test_produce_help_explains_the_schema_format(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["produce", "--help"])
    out = " ".join(capsys.readouterr().out.split())

    assert exited.value.code == 0
    assert "--schema NAME:TYPE,..." in out
    assert "e.g. 'visits:long,spend:double,city:string'" in out
    assert "TYPE one of double, float, long, int, string, boolean" in out


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


def test_config_mistake_fails_in_one_line_before_spark_starts(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("trigger: {processingTime: 2 secs}\n")
    cli = Path(sys.executable).with_name("stream-scorer")
    no_java = {**os.environ, "JAVA_HOME": str(tmp_path / "no-java")}  # Spark could not start
    done = subprocess.run(
        [cli, "run", "--config", config], capture_output=True, text=True, timeout=60, env=no_java
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"error: {config}: source: missing")
    assert "Traceback" not in done.stderr
    assert "log4j" not in done.stderr
    assert "java" not in done.stderr.lower()
