"""The serving record in a checkpoint: what a restarted scorer reads back."""

from stream_scorer.files import LocalFiles
from stream_scorer.runtime.serving_record import SERVING_FILE, Served, ServingRecord

V1, V2 = Served("v0001", "aa"), Served("v0002", "bb")


def _reopened(tmp_path) -> ServingRecord:
    return ServingRecord(LocalFiles(str(tmp_path)))


def test_new_checkpoint_has_no_served_version_and_nothing_refused(tmp_path):
    record = _reopened(tmp_path)
    assert (record.last_served, record.refused) == (None, [])
    assert not (tmp_path / SERVING_FILE).exists()


def test_last_served_version_is_read_back_after_a_restart(tmp_path):
    _reopened(tmp_path).served(V1)
    assert _reopened(tmp_path).last_served == V1


def test_failures_of_one_batch_and_version_count_across_restarts(tmp_path):
    assert _reopened(tmp_path).failed(7, V2) == 1
    assert _reopened(tmp_path).failed(7, V2) == 2
    assert _reopened(tmp_path).failed(7, V2) == 3


def test_another_batch_or_version_counts_from_one(tmp_path):
    record = _reopened(tmp_path)
    record.failed(7, V2)
    assert record.failed(8, V2) == 1
    assert record.failed(8, Served("v0002", "cc")) == 1


def test_a_written_batch_forgets_the_failed_attempts(tmp_path):
    record = _reopened(tmp_path)
    record.failed(7, V2)
    record.served(V1)
    assert _reopened(tmp_path).failed(7, V2) == 1


def test_refused_versions_are_read_back_once_each(tmp_path):
    record = _reopened(tmp_path)
    record.refuse(V2)
    record.refuse(V2)
    assert _reopened(tmp_path).refused == [V2]
