"""The console shows our lines; the clients' and the JVM's go to the log file."""

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from stream_scorer.runtime import logs


@pytest.fixture(autouse=True)
def _restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


def _emit() -> None:
    logging.getLogger("stream_scorer.runtime.scorer").info("model v0001 serving")
    logging.getLogger("kafka.net.selector").warning("is blocking the event loop")


def test_console_shows_our_lines_and_not_the_clients(capsys):
    logs.configure_console("INFO")
    _emit()
    err = capsys.readouterr().err
    assert "INFO stream_scorer.runtime.scorer: model v0001 serving" in err
    assert "blocking the event loop" not in err


def test_verbose_console_shows_the_clients_lines_too(capsys):
    logs.configure_console("INFO", verbose=True)
    _emit()
    assert "WARNING kafka.net.selector: is blocking the event loop" in capsys.readouterr().err


def test_log_file_gets_our_lines_and_the_clients(tmp_path, capsys):
    logs.configure_console("INFO")
    path = logs.log_to_file(tmp_path / "logs" / "scorer.log")
    _emit()
    text = path.read_text()
    assert "INFO stream_scorer.runtime.scorer: model v0001 serving" in text
    assert "WARNING kafka.net.selector: is blocking the event loop" in text


def test_default_log_file_is_under_a_local_checkpoint(tmp_path):
    path = logs.default_log_file(str(tmp_path / "cp"), "scorer")
    assert path == tmp_path / "cp" / "scorer" / "scorer.log"


def test_default_log_file_of_a_hadoop_checkpoint_is_in_the_temp_dir():
    path = logs.default_log_file("hdfs://nn:8020/cp", "scorer")
    assert (path.name, path.parent.is_dir()) == ("scorer.log", True)


def test_a_child_started_under_stderr_to_writes_its_stderr_to_the_file(tmp_path):
    path = tmp_path / "jvm.log"
    with logs.stderr_to(path):
        child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stderr.write('jvm\\n')"])
    child.wait(30)
    assert Path(path).read_text() == "jvm\n"
