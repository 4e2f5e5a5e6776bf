"""Spark's bundled copies of pyspark and py4j, dropped from a Python process's path.

Spark puts its `python/lib/pyspark.zip`, `py4j-*-src.zip` and the spark-core jar first on
the path of every Python process it starts (task workers, their daemons, the data source
planners). Python compiles a module imported from a zip on every import (no bytecode
cache), and `importlib.invalidate_caches()` makes each zip importer re-read its archive's
directory (the jar alone lists ~6,000 files). When those archives are the ones inside the
installed `pyspark` package (a pip install: the same files), importing from site-packages
instead loads the same code from cached bytecode.
"""

import importlib.machinery
import importlib.metadata
import sys
import zipfile
from pathlib import Path


def drop_bundled_archives(path: list[str], importers: dict | None = None) -> list[str]:
    """Remove from `path` the archives Spark adds that duplicate the installed pyspark.

    Spark puts its `python/lib/pyspark.zip`, `py4j-*-src.zip` and the jar of spark-core
    (`SparkContext.jarOfObject`) on its Python workers' path. Removed, when they sit inside
    the installed `pyspark` package that the rest of `path` finds: `pyspark.zip` (the same
    release), the py4j zip if its name carries the installed py4j's version, and jars that
    hold no Python file. Their importers are dropped from `importers` (default
    `sys.path_importer_cache`) too, or `importlib.invalidate_caches()` would still re-read
    them. Any other entry stays. Returns the removed entries.
    """
    importers = sys.path_importer_cache if importers is None else importers
    rest = [entry for entry in path if not entry.endswith((".zip", ".jar"))]
    spec = importlib.machinery.PathFinder.find_spec("pyspark", rest)
    if spec is None or spec.origin is None:
        return []
    installed = Path(spec.origin).parent
    try:
        py4j = f"py4j-{importlib.metadata.version('py4j')}-src.zip"
    except importlib.metadata.PackageNotFoundError:
        py4j = None
    dropped = []
    for entry in dict.fromkeys(path):  # Spark may list an entry twice
        archive = Path(entry)
        bundled = archive.parent == installed / "python" / "lib" and archive.name in (
            "pyspark.zip",
            py4j,
        )
        if bundled or (archive.parent == installed / "jars" and _holds_no_python(archive)):
            path[:] = [other for other in path if other != entry]
            for key in [k for k in importers if k == entry or k.startswith(entry + "/")]:
                del importers[key]
            dropped.append(entry)
    return dropped


def _holds_no_python(jar: Path) -> bool:
    if jar.suffix != ".jar":
        return False
    try:
        with zipfile.ZipFile(jar) as archive:
            return not any(name.endswith((".py", ".pyc")) for name in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
