"""The pre-importing worker daemon: what it imports, and that it is Spark's entry point."""

import json
import subprocess
import sys

from stream_scorer.runtime import worker_daemon


def test_preload_imports_what_is_installed_and_skips_the_rest():
    assert worker_daemon.preload(("json", "no_such_module_for_stream_scorer")) == ["json"]


def test_every_scorer_module_it_preloads_exists():
    ours = [name for name in worker_daemon.PRELOADED if name.startswith("stream_scorer.")]
    assert worker_daemon.preload(tuple(ours)) == ours


def test_module_name_is_the_one_spark_runs():
    assert worker_daemon.__name__ == worker_daemon.MODULE


def test_preloading_leaves_only_fork_aware_threads_with_one_blas_thread():
    """Forking a process with threads is only safe for fork-aware ones (see the module)."""
    code = (
        "import json, os; from stream_scorer.runtime import worker_daemon; "
        "worker_daemon.preload(); "
        "print(json.dumps([open(f'/proc/self/task/{t}/comm').read().strip() "
        "for t in os.listdir('/proc/self/task') if t != str(os.getpid())]))"
    )
    env = {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    threads = json.loads(out)
    assert [name for name in threads if name != "jemalloc_bg_thd"] == [], threads
