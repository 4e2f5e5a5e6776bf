"""Model artefact formats: deserialising bytes into an estimator, by format.

joblib and pickle artefacts load through the restricted unpickler of `safe_pickle`, which
admits only allowed globals (see `allowlist`); skops loads only the types it is told to
trust. `unsafe=True` lifts both limits for artefacts a user vouches for, with a WARNING.
"""

import io
import logging
import pickle
from collections.abc import Sequence
from pathlib import Path

from stream_scorer.contract.manifest import ModelFormat
from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.sklearn.safe_pickle import load_joblib, load_joblib_file, load_pickle
from stream_scorer.flavors.sklearn.structure import check_structure

log = logging.getLogger(__name__)

EXTENSIONS: dict[str, ModelFormat] = {
    ".joblib": "joblib",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".skops": "skops",
    ".onnx": "onnx",
}


def format_of(path: str | Path) -> ModelFormat:
    """Return the artefact format for a file name, by its extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        msg = f"{path}: unknown model format '{suffix}'; expected one of {sorted(EXTENSIONS)}"
        raise ModelRejectedError(msg)
    return EXTENSIONS[suffix]


def load_model_bytes(
    data: bytes, fmt: ModelFormat, trusted_types: Sequence[str] = (), unsafe: bool = False
) -> object:
    """Deserialise an estimator from artefact bytes, then check its structure.

    The globals (pickle, joblib) or types (skops) admitted are our allowlist or skops'
    defaults, plus `trusted_types` (from our config or the publish command), never a list
    the artefact itself declares. `unsafe` admits everything: any code the artefact holds runs.
    The trees the model holds must keep the invariants their predict code trusts
    (`structure.check_structure`), whatever the format.

    Raises
    ------
    ModelRejectedError
        If the artefact refers to a global or type not admitted, naming it (nothing of it
        was built then), or its structure does not hold.
    """
    model = _deserialise(data, fmt, trusted_types, unsafe)
    check_structure(model)
    return model


def _deserialise(
    data: bytes, fmt: ModelFormat, trusted_types: Sequence[str], unsafe: bool
) -> object:
    if unsafe and fmt in ("joblib", "pickle"):
        log.warning("loading a %s artefact with no allowlist: any code it holds runs", fmt)
        return _load_unrestricted(data, fmt)
    if fmt == "joblib":
        return load_joblib(data, trusted_types)
    if fmt == "pickle":
        return load_pickle(data, trusted_types)
    if fmt == "skops":
        return _load_skops(data, trusted_types, unsafe)
    msg = f"unknown model format {fmt!r}"
    raise ModelRejectedError(msg)


def load_model_file(
    path: Path, fmt: ModelFormat, trusted_types: Sequence[str] = (), unsafe: bool = False
) -> object:
    """Deserialise an estimator from a verified local artefact file, admitting what
    `load_model_bytes` admits for `trusted_types` and `unsafe`.

    A joblib artefact saved uncompressed has its numpy arrays memory-mapped read-only
    (`mmap_mode="r"`): every process loading the same file shares its page-cache pages. It
    goes through the same restricted unpickler as bytes do (`safe_pickle.load_joblib_file`).
    Other formats are read into memory as `load_model_bytes` does.

    Raises
    ------
    ModelRejectedError
        As `load_model_bytes`.
    """
    if fmt != "joblib":
        return load_model_bytes(path.read_bytes(), fmt, trusted_types, unsafe)
    if unsafe:
        import joblib

        log.warning("loading a %s artefact with no allowlist: any code it holds runs", fmt)
        model = joblib.load(path, mmap_mode="r")
    else:
        model = load_joblib_file(path, trusted_types, mmap_mode="r")
    check_structure(model)
    return model


def _load_unrestricted(data: bytes, fmt: ModelFormat) -> object:
    if fmt == "joblib":
        import joblib

        return joblib.load(io.BytesIO(data))
    return pickle.loads(data)


def _load_skops(data: bytes, trusted_types: Sequence[str], unsafe: bool) -> object:
    try:
        import skops.io as sio
    except ImportError as exc:  # pragma: no cover - depends on the install
        msg = "model format skops needs the 'skops' package: pip install 'stream-scorer[skops]'"
        raise ModelRejectedError(msg) from exc
    untrusted = [t for t in sio.get_untrusted_types(data=data) if t not in set(trusted_types)]
    if untrusted and not unsafe:
        msg = (
            f"skops artefact contains types not trusted by config: {untrusted}; "
            "add them to model.trusted_types only if you trust their code"
        )
        raise ModelRejectedError(msg)
    if untrusted:
        log.warning("loading a skops artefact trusting every type it holds: %s", untrusted)
    return sio.loads(data, trusted=[*trusted_types, *untrusted] or None)
