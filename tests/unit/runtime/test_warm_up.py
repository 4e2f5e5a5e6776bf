"""Background start of Spark's Python processes: which masters, and failures are harmless."""

import pytest

from stream_scorer.runtime import warm_up


@pytest.mark.parametrize(
    ("master", "slots"),
    [("local", 1), ("local[2]", 2), ("local[*]", 8), ("local[3,2]", 3), ("local[*,4]", 8)],
)
def test_a_local_master_has_one_slot_per_thread(master, slots):
    assert warm_up.local_slots(master, cores=8) == slots


@pytest.mark.parametrize("master", ["spark://host:7077", "yarn", "local-cluster[2,1,1024]"])
def test_other_masters_have_no_local_slots(master):
    assert warm_up.local_slots(master, cores=8) == 0


class _Broken:
    """A session whose every call fails, as a stopped one would."""

    def __getattr__(self, name):
        raise RuntimeError("stopped")


def test_a_failed_warm_up_is_only_logged(caplog):
    with caplog.at_level("DEBUG", logger=warm_up.__name__):
        warm_up._run(_Broken(), slots=2)
    assert "Python data source lookup ahead of the query failed" in caplog.text
    assert "Python worker warm-up failed" in caplog.text
