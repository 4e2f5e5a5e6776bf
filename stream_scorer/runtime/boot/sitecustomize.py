"""Run by Python at start-up in the Spark Python processes whose path holds this directory.

`session.build_session` puts the directory on the path of a local master's Python processes
(`spark.executorEnv.PYTHONPATH`). Spark's data source planners (one daemon per planner
kind, `pyspark.daemon` from Spark's bundled `pyspark.zip`, each forking the planner) cannot
be given a daemon module of ours; dropping the bundled archives here, before they import
anything, lets them import pyspark from cached bytecode: ~0.6 CPU-seconds less per planner
kind, three of which run one after another when a streaming query starts.

Another `sitecustomize` further along the path (a distribution's) still runs after this one.
"""

import importlib.machinery
import importlib.util
import sys
from pathlib import Path


def _chain() -> None:
    """Run the next `sitecustomize` on the path, which this module shadows, if any."""
    here = str(Path(__file__).resolve().parent)
    rest = [entry for entry in sys.path if str(Path(entry or ".").resolve()) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


try:
    from stream_scorer.runtime.bundled_archives import drop_bundled_archives

    drop_bundled_archives(sys.path)
except ImportError:  # stream-scorer not installed for this interpreter: nothing to drop
    pass
_chain()
