"""A checkpoint read and written through the Spark session's Hadoop FileSystem API.

The scorer reads its checkpoint this way wherever it lives (hdfs://, s3a://); here the
Hadoop local filesystem stands in, on `file:` URLs, with Spark's checksum files.
"""

import os

import pytest

from stream_scorer.errors import CheckpointError, CheckpointInUseError
from stream_scorer.files import HadoopFiles
from stream_scorer.runtime.checkpoint import Checkpoint
from stream_scorer.runtime.lease import LeaseLock
from tests.checkpoint_helpers import make_checkpoint

pytestmark = pytest.mark.integration


def test_hadoop_files_list_and_read_the_checkpoint_logs(spark, tmp_path):
    root = make_checkpoint(tmp_path / "cp", offsets=(0, 1, 2), commits=(0, 1))
    checkpoint = Checkpoint(f"file:{root}", HadoopFiles(spark, f"file:{root}"))

    assert checkpoint.exists()
    assert checkpoint.batch_ids("offsets") == [0, 1, 2]
    assert checkpoint.last_committed() == 1
    assert checkpoint.source_offsets(1) == [{"t": {"0": 60}}]


def test_hadoop_files_replace_the_status_file_that_a_local_reader_reads(spark, tmp_path):
    url = f"file:{tmp_path / 'cp'}"
    written = Checkpoint(url, HadoopFiles(spark, url))
    written.write_status({"batch_id": 0})
    written.write_status({"batch_id": 1})

    assert Checkpoint.at(url).read_status() == {"batch_id": 1}
    names = sorted(p.name for p in (tmp_path / "cp" / "scorer").iterdir())
    assert names == [".status.json.crc", "status.json"]  # no temporary file left


def test_offsets_file_failing_its_checksum_is_refused_by_name(spark, tmp_path):
    root = make_checkpoint(tmp_path / "cp")
    url = f"file:{root}"
    files = HadoopFiles(spark, url)
    files.write_atomically("offsets/2", (root / "offsets" / "2").read_text())  # with its .crc
    (root / "offsets" / "2").write_text((root / "offsets" / "2").read_text().replace("90", "91"))

    with pytest.raises(CheckpointError, match=r"offsets/2 is damaged \(cannot be read: .*Checksum"):
        Checkpoint(url, files).verify()


def test_new_checkpoint_passes_through_hadoop(spark, tmp_path):
    url = f"file:{tmp_path / 'absent'}"
    Checkpoint(url, HadoopFiles(spark, url)).verify()


def test_a_lease_through_hadoop_files_refuses_a_second_holder_until_released(spark, tmp_path):
    url = f"file:{tmp_path / 'cp'}"
    held = LeaseLock(url, HadoopFiles(spark, url)).acquire()
    try:
        with pytest.raises(CheckpointInUseError, match=rf"pid {os.getpid()}, started"):
            LeaseLock(url, HadoopFiles(spark, url)).acquire()
    finally:
        held.release()
    LeaseLock(url, HadoopFiles(spark, url)).acquire().release()
