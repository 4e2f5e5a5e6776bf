"""Checkpoint, read locally: verify refuses a damaged offsets log naming the file; the status
command's reads (last commit, its offsets, the status file) return the checkpoint's values."""

import pytest

from stream_scorer.errors import CheckpointError
from stream_scorer.runtime.checkpoint import Checkpoint, offsets_problem
from tests.checkpoint_helpers import GOOD, make_checkpoint


def test_missing_and_fresh_checkpoints_pass(tmp_path):
    Checkpoint.at(str(tmp_path / "absent")).verify()
    (tmp_path / "fresh").mkdir()
    Checkpoint.at(str(tmp_path / "fresh")).verify()


def test_healthy_checkpoint_passes_with_a_batch_in_flight(tmp_path):
    root = make_checkpoint(tmp_path / "cp", offsets=(0, 1, 2), commits=(0, 1))
    Checkpoint.at(str(root)).verify()


def test_file_url_is_read_like_a_path(tmp_path):
    Checkpoint.at(f"file://{make_checkpoint(tmp_path / 'cp')}").verify()


def test_truncated_offsets_file_is_refused_by_name(tmp_path):
    root = make_checkpoint(tmp_path / "cp")
    (root / "offsets" / "1").write_text(GOOD[:40])
    with pytest.raises(CheckpointError, match=r"offsets/1 is damaged .*restore it"):
        Checkpoint.at(str(root)).verify()


def test_deleted_newest_offsets_file_is_refused(tmp_path):
    root = make_checkpoint(tmp_path / "cp")
    (root / "offsets" / "2").unlink()
    with pytest.raises(CheckpointError, match="offsets/2 is missing: the newest commit"):
        Checkpoint.at(str(root)).verify()


def test_deleted_offsets_dir_with_commits_is_refused(tmp_path):
    root = make_checkpoint(tmp_path / "cp", offsets=())
    with pytest.raises(CheckpointError, match="offsets is missing or empty while commits/ records"):
        Checkpoint.at(str(root)).verify()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "first line is ''"),
        ("v2\n{}\n{}", "first line is 'v2'"),
        ("v1\n{}", "no batch metadata"),
        ('v1\n{}\n{"t": {"0": 3', "line 3 is not JSON"),
    ],
)
def test_offsets_problem_says_what_is_wrong(text, problem):
    assert problem in offsets_problem(text)


def test_offsets_problem_accepts_a_source_without_offset():
    assert offsets_problem('v1\n{}\n{"t": {"0": 1}}\n-') is None


def test_missing_directory_does_not_exist_and_an_empty_one_does(tmp_path):
    (tmp_path / "empty").mkdir()
    assert not Checkpoint.at(str(tmp_path / "absent")).exists()
    assert Checkpoint.at(str(tmp_path / "empty")).exists()


def test_last_committed_is_the_newest_commit_not_the_newest_offsets(tmp_path):
    root = make_checkpoint(tmp_path / "cp", offsets=(0, 1, 2), commits=(0, 1))
    assert Checkpoint.at(str(root)).last_committed() == 1


def test_last_committed_is_none_before_the_first_commit(tmp_path):
    root = make_checkpoint(tmp_path / "cp", offsets=(0,), commits=())
    assert Checkpoint.at(str(root)).last_committed() is None


def test_source_offsets_are_one_mapping_per_source_none_for_no_offset_yet(tmp_path):
    root = make_checkpoint(tmp_path / "cp")
    (root / "offsets" / "1").write_text(GOOD + "\n-\n")
    assert Checkpoint.at(str(root)).source_offsets(1) == [{"t": {"0": 30}}, None]


def test_status_written_is_read_back_and_replaces_the_previous(tmp_path):
    checkpoint = Checkpoint.at(str(tmp_path / "cp"))
    checkpoint.write_status({"batch_id": 0})
    checkpoint.write_status({"batch_id": 1, "model_version": "v0002"})
    assert checkpoint.read_status() == {"batch_id": 1, "model_version": "v0002"}
    assert sorted(p.name for p in (tmp_path / "cp" / "scorer").iterdir()) == ["status.json"]


def test_status_is_none_before_the_first_batch(tmp_path):
    assert Checkpoint.at(str(make_checkpoint(tmp_path / "cp"))).read_status() is None
