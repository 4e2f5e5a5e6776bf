"""Which globals a pickle or joblib artefact may refer to: the rule, checked before any import.

A pickle names each class or function it needs (a "global", `module.name`) and the unpickler
imports and calls it; a hostile pickle names `os.system` or `builtins.eval`. `admit` checks a
global against the rule below *before* importing its module, and refuses anything else with
`ModelRejectedError` naming it.

Admitted (checked against scikit-learn 1.4-1.9, NumPy 1.26-2.x, SciPy 1.x, joblib 1.6):

- **scikit-learn**: classes only, defined in a `sklearn.*` module, except modules whose
  objects call what they are handed or patch other classes: `sklearn.utils.parallel` (runs
  tasks), `sklearn.utils.deprecation` (wraps classes), `sklearn.metrics._scorer` (calls a
  method named by a pickled string), `sklearn.callback`, `sklearn.datasets` (downloads, writes
  files), `sklearn.externals`, `sklearn.experimental` (patches on import), and test modules
  (`*.tests`, `sklearn.utils._testing`). The only scikit-learn functions admitted are the
  `newObj` (`cls.__new__(cls)`) of its distance metrics and KD and ball trees.
- **NumPy**: `ndarray`, `dtype` and the dtype classes of `numpy.dtypes`, scalar types
  (`numpy.float64`...), ufuncs (`numpy.log1p`...), the array and scalar reconstructors
  (`numpy._core.multiarray._reconstruct`, `.scalar`, `numpy._core.numeric._frombuffer`, also
  spelled `numpy.core...`), masked arrays, and random generator state (bit generators,
  `SeedSequence` and their `numpy.random._pickle` constructors). No other function: never
  `numpy.load`, `numpy.testing`, `numpy.vectorize`.
- **SciPy**: the sparse matrix and array classes (`scipy.sparse` and its `_csr`-like modules).
- **joblib**: `joblib.numpy_pickle.NumpyArrayWrapper`, which holds an array inline.
- **Python**: plain data types of `builtins` (`slice`, `set`, `bytes`, `object`...), the
  `collections` containers, and `_codecs.encode` (bytes in protocol-2 pickles).
- **Trusted by the user**: each exact `module.name` in `model.trusted_types` or given to
  `model publish --trust`.

Nothing else: not `builtins.getattr`, `eval` or `__import__`, `operator`, `functools.partial`,
`os`/`posix`/`subprocess`, `pickle.loads`, `joblib.load`. The rule stops code from running
while unpickling; an admitted estimator still runs scikit-learn's code when it predicts.
"""

import importlib
import re
from collections.abc import Collection

from stream_scorer.errors import ModelRejectedError

EXACT = frozenset(
    {
        *(f"builtins.{t}" for t in ("bool", "bytearray", "bytes", "complex", "dict")),
        *(f"builtins.{t}" for t in ("float", "frozenset", "int", "list", "object", "range")),
        *(f"builtins.{t}" for t in ("set", "slice", "str", "tuple")),
        *(f"collections.{t}" for t in ("Counter", "OrderedDict", "defaultdict", "deque")),
        "_codecs.encode",
        "joblib.numpy_pickle.NumpyArrayWrapper",
        "numpy.ndarray",
        # `cls.__new__(cls)`: how distance metrics and KD and ball trees pickle
        *(f"sklearn.{m}.newObj" for m in ("metrics._dist_metrics", "neighbors._ball_tree")),
        "sklearn.neighbors._kd_tree.newObj",
        *(
            f"{core}.multiarray.{f}"
            for core in ("numpy.core", "numpy._core")
            for f in ("_reconstruct", "scalar")
        ),
        *(f"{core}.numeric._frombuffer" for core in ("numpy.core", "numpy._core")),
        "numpy.ma.MaskedArray",
        "numpy.ma.core.MaskedArray",
        "numpy.ma.core._mareconstruct",
        "numpy.random._pickle.__bit_generator_ctor",
        "numpy.random._pickle.__generator_ctor",
        "numpy.random._pickle.__randomstate_ctor",
        "numpy.random.bit_generator.SeedSequence",
        "numpy.random.bit_generator.__pyx_unpickle_SeedSequence",
        "numpy.random._generator.Generator",
        "numpy.random.mtrand.RandomState",
        "numpy.random._mt19937.MT19937",
        "numpy.random._pcg64.PCG64",
        "numpy.random._pcg64.PCG64DXSM",
        "numpy.random._philox.Philox",
        "numpy.random._sfc64.SFC64",
    }
)
"""Globals admitted by exact `module.name`."""

_SKLEARN_DENIED = re.compile(
    r"sklearn\.(utils\.(parallel|deprecation|_testing)|metrics\._scorer|callback|datasets"
    r"|externals|experimental)(\.|$)"
)
_SCIPY_SPARSE = re.compile(r"scipy\.sparse(\._[a-z0-9_]+)?")
_NUMPY_TYPES = ("numpy", "numpy.dtypes")


NATIVE_SAVE = {
    "xgboost": "save the booster in XGBoost's own format, which holds no code "
    "(model.get_booster().save_model('model.ubj')), and publish that file (--kind xgboost)",
    "lightgbm": "save the booster as LightGBM's text model, which holds no code "
    "(model.booster_.save_model('model.txt')), and publish that file (--kind lightgbm)",
    "catboost": "save the model in CatBoost's own format, which holds no code "
    "(model.save_model('model.cbm')), and publish that file (--kind catboost)",
}
"""Libraries whose sklearn wrappers a pickle may hold -> how to save the model natively."""


def admit(module: str, name: str, trusted: Collection[str] = ()) -> object:
    """Return the global `module.name` if the rule or `trusted` admits it.

    Raises
    ------
    ModelRejectedError
        If it is not admitted (its module is then never imported), or cannot be imported.
    """
    qualified = f"{module}.{name}"
    if qualified in EXACT or qualified in trusted:
        return _resolve(module, name)
    if name.isidentifier() and _ruled(module):
        found = _resolve(module, name)
        if _admits(module, found):
            return found
    msg = (
        f"the artefact refers to {qualified}, which is not an allowed global; if you trust "
        f"its code, add '{qualified}' to model.trusted_types (model publish --trust {qualified})"
    )
    native = NATIVE_SAVE.get(module.partition(".")[0])
    raise ModelRejectedError(msg + (f"; better, {native}" if native else ""))


def _ruled(module: str) -> bool:
    """True if a class rule covers `module` (decided from the name alone, before importing)."""
    return _is_sklearn(module) or bool(_SCIPY_SPARSE.fullmatch(module)) or module in _NUMPY_TYPES


def _admits(module: str, found: object) -> bool:
    if not isinstance(found, type):
        return module in _NUMPY_TYPES and _is_ufunc(found)
    home = found.__module__
    if _is_sklearn(module):
        return _is_sklearn(home)  # re-exports of foreign classes do not count
    if _SCIPY_SPARSE.fullmatch(module):
        return bool(_SCIPY_SPARSE.fullmatch(home))
    import numpy as np

    return issubclass(found, np.generic | np.dtype)


def _is_sklearn(module: str) -> bool:
    parts = module.split(".")
    return (
        parts[0] == "sklearn"
        and not _SKLEARN_DENIED.match(module)
        and "tests" not in parts
        and "conftest" not in parts
    )


def _is_ufunc(found: object) -> bool:
    import numpy as np

    return isinstance(found, np.ufunc)


def _resolve(module: str, name: str) -> object:
    try:
        found: object = importlib.import_module(module)
        for part in name.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        msg = f"the artefact refers to {module}.{name}, which cannot be imported here: {exc}"
        raise ModelRejectedError(msg) from exc
    return found
