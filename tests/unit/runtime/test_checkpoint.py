"""verify_checkpoint: a damaged offsets log refuses the start, naming the file."""

import pytest

from stream_scorer.errors import ScorerError
from stream_scorer.runtime.checkpoint import offsets_problem, verify_checkpoint

GOOD = 'v1\n{"batchWatermarkMs":0,"batchTimestampMs":1,"conf":{}}\n{"t": {"0": 30}}'


def make_checkpoint(root, offsets=(0, 1, 2), commits=(0, 1, 2)):
    (root / "offsets").mkdir(parents=True)
    (root / "commits").mkdir()
    (root / "metadata").write_text('{"id":"x"}\n')
    for n in offsets:
        (root / "offsets" / str(n)).write_text(GOOD)
        (root / "offsets" / f".{n}.crc").write_bytes(b"\0")
    for n in commits:
        (root / "commits" / str(n)).write_text('v1\n{"nextBatchWatermarkMs":0}')
    return root


def test_missing_and_fresh_checkpoints_pass(tmp_path):
    verify_checkpoint(str(tmp_path / "absent"))
    (tmp_path / "fresh").mkdir()
    verify_checkpoint(str(tmp_path / "fresh"))


def test_healthy_checkpoint_passes_with_a_batch_in_flight(tmp_path):
    verify_checkpoint(str(make_checkpoint(tmp_path / "cp", offsets=(0, 1, 2), commits=(0, 1))))


def test_file_url_is_read_like_a_path(tmp_path):
    verify_checkpoint(f"file://{make_checkpoint(tmp_path / 'cp')}")


def test_truncated_offsets_file_is_refused_by_name(tmp_path):
    root = make_checkpoint(tmp_path / "cp")
    (root / "offsets" / "1").write_text(GOOD[:40])
    with pytest.raises(ScorerError, match=r"offsets/1 is damaged .*restore it"):
        verify_checkpoint(str(root))


def test_deleted_newest_offsets_file_is_refused(tmp_path):
    root = make_checkpoint(tmp_path / "cp")
    (root / "offsets" / "2").unlink()
    with pytest.raises(ScorerError, match="offsets/2 is missing: the newest commit"):
        verify_checkpoint(str(root))


def test_deleted_offsets_dir_with_commits_is_refused(tmp_path):
    root = make_checkpoint(tmp_path / "cp", offsets=())
    with pytest.raises(ScorerError, match="offsets is missing or empty while commits/ records"):
        verify_checkpoint(str(root))


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
