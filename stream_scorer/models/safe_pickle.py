"""The one restricted loader for pickle and joblib artefacts (see `allowlist` for the rule).

Every global a stream names goes through `allowlist.admit` before its module is imported, so
a refused artefact builds no object and runs none of its code. Setting state on a class
(a BUILD whose target is a class, not an instance) is refused too: it would patch that class
for the whole process. joblib artefacts are read by a subclass of joblib's own
`NumpyUnpickler`, which keeps joblib's array handling (inline arrays, compression, mmap); its
nested streams of object arrays go through the same check.
"""

import io
import pickle
from collections.abc import Callable, Collection
from typing import Any

from joblib.numpy_pickle import NumpyUnpickler

from stream_scorer.errors import ModelRejectedError
from stream_scorer.models.allowlist import admit


def load_pickle(data: bytes, trusted: Collection[str] = ()) -> object:
    """Unpickle `data`, admitting only allowed globals and those in `trusted`.

    Raises
    ------
    ModelRejectedError
        Naming the first global refused; nothing from the stream was built by then.
    """
    return _PickleUnpickler(io.BytesIO(data), frozenset(trusted)).load()


def load_joblib(data: bytes, trusted: Collection[str] = ()) -> object:
    """Load a `joblib.dump` artefact (compressed or not) like `load_pickle`.

    Raises
    ------
    ModelRejectedError
        Naming the first global refused; nothing from the stream was built by then.
    """
    from joblib.numpy_pickle_utils import _validate_fileobject_and_memmap

    with _validate_fileobject_and_memmap(io.BytesIO(data), "", None) as (fobj, _):
        return _JoblibUnpickler(fobj, frozenset(trusted)).load()


def _find_class(self: Any, module: str, name: str) -> object:
    if self.proto < 3 and self.fix_imports:  # Python 2 names, as pickle itself maps them
        module, name = _python3_name(module, name)
    return admit(module, name, self.trusted)


def _python3_name(module: str, name: str) -> tuple[str, str]:
    import _compat_pickle

    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[module, name]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def _guarded_build(build: Callable[[object], None]) -> Callable[[object], None]:
    def load_build(self: Any) -> None:
        if len(self.stack) >= 2 and isinstance(self.stack[-2], type):
            target = self.stack[-2]
            msg = f"the artefact sets attributes on the class {target.__module__}.{target.__name__}"
            raise ModelRejectedError(msg)
        build(self)

    return load_build


class _PickleUnpickler(pickle._Unpickler):
    """The pure-Python unpickler, whose opcodes can be guarded one by one."""

    dispatch = pickle._Unpickler.dispatch.copy()
    dispatch[pickle.BUILD[0]] = _guarded_build(pickle._Unpickler.load_build)  # type: ignore[attr-defined]
    find_class = _find_class

    def __init__(self, file: io.BytesIO, trusted: frozenset[str]) -> None:
        super().__init__(file)
        self.trusted = trusted


class _JoblibUnpickler(NumpyUnpickler):
    """joblib's unpickler (arrays read inline, native byte order) with the same guards."""

    dispatch = NumpyUnpickler.dispatch.copy()
    dispatch[pickle.BUILD[0]] = _guarded_build(NumpyUnpickler.load_build)
    find_class = _find_class

    def __init__(self, file: io.BufferedIOBase, trusted: frozenset[str]) -> None:
        super().__init__("", file, ensure_native_byte_order=True)
        self.trusted = trusted
