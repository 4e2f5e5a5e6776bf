"""The one restricted loader for pickle and joblib artefacts (see `allowlist` for the rule).

Every global a stream names goes through `allowlist.admit` before its module is imported, so
a refused artefact builds no object and runs none of its code. A BUILD (setting an object's
state) is refused when its target is shared by the whole process: a class, a module, or any
global the stream looked up (a ufunc, a function); it would patch that object for every
model. A BUILD's slot state (`setattr`, bypassing `__dict__`) may name only the slots its
target's class declares. joblib artefacts are read by a subclass of joblib's own
`NumpyUnpickler`, which keeps joblib's array handling (inline arrays, compression, mmap);
the nested pickle stream of an object array is read by the same guarded unpickler, never by
joblib's plain one. `load_joblib_file` reads a file with its arrays memory-mapped, through
the same unpickler.
"""

import io
import pickle
import types
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, Literal

from joblib.numpy_pickle import NumpyArrayWrapper, NumpyUnpickler

from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.sklearn.allowlist import admit

MmapMode = Literal["r", "r+", "w+", "c"]


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


def load_joblib_file(
    path: Path, trusted: Collection[str] = (), mmap_mode: MmapMode | None = "r"
) -> object:
    """Load a `joblib.dump` artefact file like `load_joblib`; if the file is uncompressed, its
    numpy arrays are memory-mapped with `mmap_mode` (as `joblib.load(path, mmap_mode)` does),
    so processes loading one file share its pages. A compressed file loads into memory, with
    joblib's warning. Every global goes through the same check, so a refused one never runs.

    Raises
    ------
    ModelRejectedError
        Naming the first global refused; nothing from the stream was built by then. Also for
        a file in the format of joblib before 0.10, which joblib loads with no unpickler of
        ours.
    """
    from joblib.numpy_pickle_utils import _validate_fileobject_and_memmap

    with (
        open(path, "rb") as handle,
        _validate_fileobject_and_memmap(handle, str(path), mmap_mode) as (fobj, mode),
    ):
        if isinstance(fobj, str):  # joblib < 0.10: loaded by `load_compatibility`, unguarded
            msg = f"{path}: a joblib file of joblib before 0.10; save it again with joblib.dump"
            raise ModelRejectedError(msg)
        return _JoblibUnpickler(fobj, frozenset(trusted), str(path), mode).load()


def _find_class(self: Any, module: str, name: str) -> object:
    if self.proto < 3 and self.fix_imports:  # Python 2 names, as pickle itself maps them
        module, name = _python3_name(module, name)
    found = admit(module, name, self.trusted)
    self.shared[id(found)] = f"{module}.{name}"
    return found


def _python3_name(module: str, name: str) -> tuple[str, str]:
    import _compat_pickle

    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[module, name]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def _guarded_build(build: Callable[[Any], None]) -> Callable[[Any], None]:
    def load_build(self: Any) -> None:
        if len(self.stack) >= 2:
            _check_build(self.stack[-2], self.stack[-1], self.shared)
        build(self)

    return load_build


def _check_build(target: object, state: object, shared: dict[int, str]) -> None:
    """Refuse a BUILD of `state` on `target` that would reach beyond the object the stream made.

    Raises
    ------
    ModelRejectedError
        If `target` is a class, a module or a global the stream looked up, or if the slot
        state names an attribute that is no slot of `target`'s class.
    """
    if isinstance(target, type):
        msg = f"the artefact sets attributes on the class {target.__module__}.{target.__name__}"
        raise ModelRejectedError(msg)
    if isinstance(target, types.ModuleType):
        msg = f"the artefact sets attributes on the module {target.__name__}"
        raise ModelRejectedError(msg)
    if id(target) in shared:
        msg = f"the artefact sets attributes on the global {shared[id(target)]}"
        raise ModelRejectedError(msg)
    if getattr(target, "__setstate__", None) is not None:
        return  # the class takes its state whole, as pickle hands it over
    slotstate = state[1] if isinstance(state, tuple) and len(state) == 2 else None
    kind = type(target)
    for name in slotstate if isinstance(slotstate, dict) else ():
        if name not in _slots(kind):
            msg = (
                f"the artefact's slot state names {name!r}, not a slot of "
                f"{kind.__module__}.{kind.__qualname__}"
            )
            raise ModelRejectedError(msg)


def _slots(kind: type) -> set[str]:
    names: set[str] = set()
    for klass in kind.__mro__:
        declared = vars(klass).get("__slots__", ())
        names.update([declared] if isinstance(declared, str) else declared)
    return names


class _PickleUnpickler(pickle._Unpickler):
    """The pure-Python unpickler, whose opcodes can be guarded one by one."""

    dispatch = pickle._Unpickler.dispatch.copy()
    dispatch[pickle.BUILD[0]] = _guarded_build(pickle._Unpickler.load_build)  # type: ignore[attr-defined]
    find_class = _find_class

    def __init__(
        self, file: Any, trusted: frozenset[str], shared: dict[int, str] | None = None
    ) -> None:
        super().__init__(file)
        self.trusted = trusted
        self.shared: dict[int, str] = {} if shared is None else shared
        """What `find_class` returned: objects of the whole process, by id."""


class _JoblibUnpickler(NumpyUnpickler):
    """joblib's unpickler (arrays read inline, native byte order) with the same guards."""

    dispatch = NumpyUnpickler.dispatch.copy()
    find_class = _find_class

    def _load_build(self) -> None:
        """BUILD (guarded below); an object array's nested stream is read by `_PickleUnpickler`."""
        pickle._Unpickler.load_build(self)  # type: ignore[attr-defined]
        wrapper = self.stack[-1]
        if not isinstance(wrapper, NumpyArrayWrapper):
            return
        self.stack.pop()
        if wrapper.dtype.hasobject:  # joblib would read it with pickle's plain unpickler
            nested = _PickleUnpickler(self.file_handle, self.trusted, self.shared).load()
            self.stack.append(nested)
        else:
            self.stack.append(wrapper.read(self, self.ensure_native_byte_order))

    dispatch[pickle.BUILD[0]] = _guarded_build(_load_build)

    def __init__(
        self,
        file: io.BufferedIOBase,
        trusted: frozenset[str],
        filename: str = "",
        mmap_mode: MmapMode | None = None,
    ) -> None:
        # Mapped arrays keep the byte order they were written with, as `joblib.load` keeps it.
        native = mmap_mode is None
        super().__init__(filename, file, ensure_native_byte_order=native, mmap_mode=mmap_mode)
        self.trusted = trusted
        self.shared: dict[int, str] = {}
