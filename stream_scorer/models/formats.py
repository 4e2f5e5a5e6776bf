"""Model artefact formats: deserialising bytes into an estimator, by format.

joblib and pickle run arbitrary code when loaded; only load bytes whose sha256 matched a
trusted manifest. skops loads only the types it is told to trust.
"""

import io
import pickle
from collections.abc import Sequence
from pathlib import Path

from stream_scorer.errors import ModelRejectedError
from stream_scorer.models.manifest import ModelFormat

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


def load_model_bytes(data: bytes, fmt: ModelFormat, trusted_types: Sequence[str] = ()) -> object:
    """Deserialise an estimator from artefact bytes.

    For skops, the types trusted are skops' defaults plus `trusted_types` (from our
    config), never the list the artefact itself declares.
    """
    if fmt == "joblib":
        import joblib

        return joblib.load(io.BytesIO(data))
    if fmt == "pickle":
        return pickle.loads(data)
    if fmt == "skops":
        return _load_skops(data, trusted_types)
    msg = f"unknown model format {fmt!r}"
    raise ModelRejectedError(msg)


def _load_skops(data: bytes, trusted_types: Sequence[str]) -> object:
    try:
        import skops.io as sio
    except ImportError as exc:  # pragma: no cover - depends on the install
        msg = "model format skops needs the 'skops' package: pip install 'stream-scorer[skops]'"
        raise ModelRejectedError(msg) from exc
    untrusted = [t for t in sio.get_untrusted_types(data=data) if t not in set(trusted_types)]
    if untrusted:
        msg = (
            f"skops artefact contains types not trusted by config: {untrusted}; "
            "add them to model.trusted_types only if you trust their code"
        )
        raise ModelRejectedError(msg)
    return sio.loads(data, trusted=list(trusted_types) or None)
