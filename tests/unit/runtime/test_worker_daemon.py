"""The pre-importing worker daemon: what it imports, and that it is Spark's entry point."""

import importlib.metadata
import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

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


def _installed_pyspark() -> Path:
    return Path(importlib.util.find_spec("pyspark").origin).parent


def test_archives_bundled_with_the_installed_pyspark_are_dropped_with_their_importers():
    lib, jars = _installed_pyspark() / "python" / "lib", _installed_pyspark() / "jars"
    py4j = str(lib / f"py4j-{importlib.metadata.version('py4j')}-src.zip")
    core = str(next(jars.glob("spark-core_*.jar")))
    bundled = [str(lib / "pyspark.zip"), py4j, core]
    path = [*bundled, *sys.path, core]  # Spark lists some twice
    importers = {entry: object() for entry in bundled} | {f"{core}/org": object(), "/x": 1}
    assert worker_daemon.drop_bundled_archives(path, importers) == bundled
    assert path == sys.path
    assert importers == {"/x": 1}


def test_archives_of_another_spark_home_stay(tmp_path):
    other = [str(tmp_path / "python" / "lib" / "pyspark.zip"), str(tmp_path / "deps.zip")]
    path = [*other, *sys.path]
    assert worker_daemon.drop_bundled_archives(path, {}) == []
    assert path[:2] == other


def test_py4j_zip_of_another_version_stays():
    stale = str(_installed_pyspark() / "python" / "lib" / "py4j-0.0.1-src.zip")
    assert worker_daemon.drop_bundled_archives([stale, *sys.path], {}) == []


def test_a_jar_that_holds_python_files_stays(tmp_path, monkeypatch):
    jar = _installed_pyspark() / "jars" / "with-python.jar"
    monkeypatch.setattr(worker_daemon, "_holds_no_python", lambda archive: archive != jar)
    assert worker_daemon.drop_bundled_archives([str(jar), *sys.path], {}) == []


def test_a_jar_without_python_files_holds_no_python(tmp_path):
    jar, with_python = tmp_path / "a.jar", tmp_path / "b.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("org/Foo.class", b"")
    with zipfile.ZipFile(with_python, "w") as archive:
        archive.writestr("pkg/mod.py", b"")
    assert worker_daemon._holds_no_python(jar)
    assert not worker_daemon._holds_no_python(with_python)
