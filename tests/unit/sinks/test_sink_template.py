"""`Sink.write`, the template every sink runs: refuse unopened, write, observe, commit."""

import pytest

from stream_scorer.errors import SinkError
from stream_scorer.sinks import BatchHooks, Sink


class ListSink(Sink):
    """Appends each batch's rows to a list; `markers_dir` as given."""

    def __init__(self, markers_dir: str | None = None) -> None:
        super().__init__("memory", markers_dir)
        self.batches: list[tuple[int, list]] = []

    def _write_batch(self, df, batch_id: int) -> int:
        self.batches.append((batch_id, list(df)))
        return len(df)


class Recorder(BatchHooks):
    """Records each hook call with what the sink held at that moment."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def sink_written(self, sink, batch_id: int) -> None:
        self.calls.append(("sink_written", batch_id, len(sink.batches)))

    def sink_committed(self, sink, batch_id: int) -> None:
        self.calls.append(("sink_committed", batch_id, len(sink.batches)))


def test_sink_without_markers_writes_every_replay_and_returns_the_row_count():
    sink = ListSink()
    assert sink.write(["a", "b"], 3) == 2
    assert sink.write(["a", "b"], 3) == 2
    assert sink.batches == [(3, ["a", "b"]), (3, ["a", "b"])]


def test_hooks_see_the_rows_written_then_the_commit():
    sink, hooks = ListSink(), Recorder()
    sink.write(["a"], 5, hooks)
    assert hooks.calls == [("sink_written", 5, 1), ("sink_committed", 5, 1)]


def test_sink_with_markers_refuses_a_write_before_open_and_writes_nothing():
    sink, hooks = ListSink(markers_dir="/cp/sinks/memory"), Recorder()
    with pytest.raises(SinkError, match=r"^ListSink\(memory\): write\(\) called before open"):
        sink.write(["a"], 0, hooks)
    assert (sink.batches, hooks.calls) == ([], [])


def test_describe_names_the_kind_and_target():
    assert ListSink().describe() == "ListSink(memory)"


def test_sink_without_markers_has_no_committed_batches():
    sink = ListSink()
    sink.write(["a"], 0)
    assert (sink.is_committed(0), sink.committed_batches()) == (False, [])
