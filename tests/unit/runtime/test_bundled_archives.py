"""Spark's bundled archives dropped from a Python path, and the boot hook that does it."""

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from stream_scorer.runtime import bundled_archives
from stream_scorer.runtime.session import BOOT_DIR


def _installed_pyspark() -> Path:
    return Path(importlib.util.find_spec("pyspark").origin).parent


def test_archives_bundled_with_the_installed_pyspark_are_dropped_with_their_importers():
    lib, jars = _installed_pyspark() / "python" / "lib", _installed_pyspark() / "jars"
    py4j = str(lib / f"py4j-{importlib.metadata.version('py4j')}-src.zip")
    core = str(next(jars.glob("spark-core_*.jar")))
    bundled = [str(lib / "pyspark.zip"), py4j, core]
    path = [*bundled, *sys.path, core]  # Spark lists some twice
    importers = {entry: object() for entry in bundled} | {f"{core}/org": object(), "/x": 1}
    assert bundled_archives.drop_bundled_archives(path, importers) == bundled
    assert path == sys.path
    assert importers == {"/x": 1}


def test_archives_of_another_spark_home_stay(tmp_path):
    other = [str(tmp_path / "python" / "lib" / "pyspark.zip"), str(tmp_path / "deps.zip")]
    path = [*other, *sys.path]
    assert bundled_archives.drop_bundled_archives(path, {}) == []
    assert path[:2] == other


def test_py4j_zip_of_another_version_stays():
    stale = str(_installed_pyspark() / "python" / "lib" / "py4j-0.0.1-src.zip")
    assert bundled_archives.drop_bundled_archives([stale, *sys.path], {}) == []


def test_a_jar_that_holds_python_files_stays(tmp_path, monkeypatch):
    jar = _installed_pyspark() / "jars" / "with-python.jar"
    monkeypatch.setattr(bundled_archives, "_holds_no_python", lambda archive: archive != jar)
    assert bundled_archives.drop_bundled_archives([str(jar), *sys.path], {}) == []


def test_a_jar_without_python_files_holds_no_python(tmp_path):
    jar, with_python = tmp_path / "a.jar", tmp_path / "b.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("org/Foo.class", b"")
    with zipfile.ZipFile(with_python, "w") as archive:
        archive.writestr("pkg/mod.py", b"")
    assert bundled_archives._holds_no_python(jar)
    assert not bundled_archives._holds_no_python(with_python)


def _python(code: str, *path: str) -> str:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.pathsep.join(path)}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_boot_dir_makes_a_spark_python_process_import_the_installed_pyspark():
    lib = _installed_pyspark() / "python" / "lib"
    py4j = str(lib / f"py4j-{importlib.metadata.version('py4j')}-src.zip")
    bundled = "[entry for entry in sys.path if 'python/lib' in entry]"
    code = f"import sys, pyspark; print(pyspark.__file__, {bundled})"
    out = _python(code, str(lib / "pyspark.zip"), py4j, BOOT_DIR)
    assert out == f"{_installed_pyspark() / '__init__.py'} []"


def test_boot_dir_still_runs_the_sitecustomize_it_shadows(tmp_path):
    (tmp_path / "sitecustomize.py").write_text("import builtins; builtins.CHAINED = 1\n")
    assert _python("print(CHAINED)", BOOT_DIR, str(tmp_path)) == "1"
