"""Our `Manifest` for a registered MLflow model version, from its MLmodel metadata.

The sklearn flavour's model file (skops, cloudpickle or pickle) loads through our own model
loader (`flavors.sklearn.formats`), and `describe` records task, classes, input layout and
the canary outputs, as `model publish` does for our store: registering in MLflow is the publish.
The xgboost, lightgbm (a logged `Booster`) and catboost flavours' native model files are
described by their tree kinds, and the onnx flavour's `.onnx` file by the onnx kind, with the
config's `model.trees` and `model.onnx` options, as `model publish` does.
"""

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from stream_scorer.config.model_settings import OnnxModelConfig, TreesModelConfig
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.contract.manifest import Manifest, ModelFormat
from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.onnx.describe import describe_onnx
from stream_scorer.flavors.sklearn.describe import describe
from stream_scorer.flavors.sklearn.formats import load_model_bytes
from stream_scorer.types import FieldType
from stream_scorer.versions.publish import TREE_KINDS

TREE_FLAVOURS = ("xgboost", "lightgbm", "catboost")
"""MLflow flavours whose model file is a booster in its library's own format."""
NATIVE_FLAVOURS = (*TREE_FLAVOURS, "onnx")
"""MLflow flavours whose model file is described by our kind of the same name."""
FLAVOURS = ("sklearn", *NATIVE_FLAVOURS)
"""MLflow flavours a scorer serves, in order of preference; a model logged with none of them
is refused. An onnx model takes feature columns (`features.format` json): image and tensor
inputs are published to a model store (`model publish`)."""
CANARY_ROWS = 20
"""Rows of the logged input example kept as canary rows (all of them are scored twice)."""
_FORMATS: dict[str, ModelFormat] = {"skops": "skops", "cloudpickle": "pickle", "pickle": "pickle"}
_TYPES: dict[str, FieldType] = {
    "double": "double",
    "float": "float",
    "long": "long",
    "integer": "int",
    "string": "string",
    "boolean": "boolean",
}
"""MLflow signature column type -> our type name."""


def model_file(meta: Any) -> tuple[str, ModelFormat]:
    """The artefact file inside the model directory and our format for it.

    Raises
    ------
    ModelRejectedError
        If the model has no supported flavour, or an unknown serialisation format.
    """
    flavour = flavour_of(meta)
    if flavour in TREE_FLAVOURS:
        return _tree_file(meta.flavors[flavour], flavour)
    if flavour == "onnx":
        return str(meta.flavors["onnx"].get("data", "")), "onnx"
    conf = meta.flavors["sklearn"]
    serialization = conf.get("serialization_format", "cloudpickle")
    if serialization not in _FORMATS:
        msg = f"sklearn serialization_format {serialization!r}; supported: {sorted(_FORMATS)}"
        raise ModelRejectedError(msg)
    return conf["pickled_model"], _FORMATS[serialization]


def flavour_of(meta: Any) -> str:
    """The flavour a scorer serves the model as: its first in `FLAVOURS`.

    Raises
    ------
    ModelRejectedError
        If it has none of them.
    """
    for flavour in FLAVOURS:
        if flavour in meta.flavors:
            return flavour
    msg = f"MLflow flavours {sorted(meta.flavors)} are not supported; supported: {list(FLAVOURS)}"
    raise ModelRejectedError(msg)


def _tree_file(conf: dict[str, Any], flavour: str) -> tuple[str, ModelFormat]:
    """The native model file of a tree flavour; a scikit-learn wrapper (pickled or skops) is
    refused."""
    file = str(conf.get("data", ""))
    if flavour == "lightgbm" and not str(conf.get("model_class", "")).endswith(".Booster"):
        msg = (
            f"the lightgbm flavour holds the scikit-learn wrapper {conf.get('model_class')} "
            f"({file}), not a booster; log the booster instead "
            "(mlflow.lightgbm.log_model(model.booster_, ...)): its text model holds no code"
        )
        raise ModelRejectedError(msg)
    if flavour == "catboost" and conf.get("save_format", "cbm") != "cbm":
        msg = f"the catboost flavour's save_format is {conf.get('save_format')!r}; log it as cbm"
        raise ModelRejectedError(msg)
    formats: dict[str, ModelFormat] = {"lightgbm": "lightgbm-text", "catboost": "catboost-cbm"}
    return file, formats.get(flavour, "xgboost-ubj")


def signature_types(meta: Any, configured: Mapping[str, FieldType]) -> dict[str, FieldType]:
    """Feature names and types from the model's input signature.

    A model logged without a signature, or with a 2-D tensor one as wide as the config's
    schema (fitted on arrays), takes the config's names and types.

    Raises
    ------
    ModelRejectedError
        If a signature column has a type with no counterpart, or the tensor's width differs.
    """
    schema = meta.get_input_schema()
    if schema is None:
        return dict(configured)
    if schema.is_tensor_spec():
        shape = schema.inputs[0].shape
        if len(schema.inputs) == 1 and len(shape) == 2 and shape[1] == len(configured):
            return dict(configured)
        msg = f"tensor signature {schema} does not fit the {len(configured)} configured features"
        raise ModelRejectedError(msg)
    types: dict[str, FieldType] = {}
    for column in schema.inputs:
        kind = column.type.name
        if kind not in _TYPES:
            msg = f"signature column {column.name!r} has type {kind}; supported: {sorted(_TYPES)}"
            raise ModelRejectedError(msg)
        types[column.name] = _TYPES[kind]
    return types


def example_rows(example: object, names: list[str]) -> list[dict[str, Any]] | None:
    """Up to `CANARY_ROWS` rows (feature name -> value) of a logged input example, or None."""
    if isinstance(example, pd.DataFrame):
        frame = example
    elif isinstance(example, np.ndarray) and example.ndim == 2 and example.shape[1] == len(names):
        frame = pd.DataFrame(example, columns=names)
    else:
        return None
    missing = [n for n in names if n not in frame.columns]
    if missing:
        msg = f"the input example lacks features {missing}"
        raise ModelRejectedError(msg)
    rows: list[dict[str, Any]] = frame[names].head(CANARY_ROWS).to_dict("records")
    return rows


@dataclasses.dataclass(frozen=True)
class NativeOptions:
    """The config's publish options of the native kinds (`model.trees`, `model.onnx`)."""

    trees: TreesModelConfig = dataclasses.field(default_factory=TreesModelConfig)
    onnx: OnnxModelConfig = dataclasses.field(default_factory=OnnxModelConfig)


def build_manifest(
    version: str,
    meta: Any,
    payload: bytes,
    feature_types: dict[str, FieldType],
    canary_rows: list[dict[str, Any]] | None,
    trusted_types: list[str],
    unsafe_load: bool = False,
    options: NativeOptions | None = None,
) -> Manifest:
    """Load the model file's bytes through our restricted loader (`load_model_bytes`, admitting
    `trusted_types`, or everything with `unsafe_load`) and describe them as `version`; a
    native flavour's file is described by its kind, with `options` (the config's).

    Raises
    ------
    ModelRejectedError
        If the bytes do not load, or the model does not match `feature_types` or cannot
        predict the canary rows.
    """
    file, fmt = model_file(meta)
    flavour = flavour_of(meta)
    if flavour in NATIVE_FLAVOURS:
        native = _describe_native(flavour, payload, feature_types, canary_rows, options)
        return dataclasses.replace(
            native,
            version=version,
            file=file,
            library_versions={**native.library_versions, "mlflow": meta.mlflow_version or ""},
            created_at=str(meta.utc_time_created),
            extra={"mlflow": {"run_id": meta.run_id, "model_uuid": meta.model_uuid}},
        )
    try:
        model = load_model_bytes(payload, fmt, trusted_types, unsafe_load)
    except ModelRejectedError:
        raise
    except Exception as exc:
        msg = f"cannot load {file} as {fmt}: {exc!r}"
        raise ModelRejectedError(msg) from exc
    described = describe(model, payload, fmt, feature_types, canary_rows)
    conf = meta.flavors["sklearn"]
    libraries = {
        "python": meta.flavors.get("python_function", {}).get("python_version", "unknown"),
        "scikit-learn": conf.get("sklearn_version", "unknown"),
        "mlflow": meta.mlflow_version or "unknown",
    }
    return dataclasses.replace(
        described,
        version=version,
        file=file,
        library_versions=libraries,
        created_at=str(meta.utc_time_created),
        trusted_types=sorted(set(trusted_types)),
        unsafe_load=unsafe_load,
        extra={"mlflow": {"run_id": meta.run_id, "model_uuid": meta.model_uuid}},
    )


def _describe_native(
    flavour: str,
    payload: bytes,
    feature_types: dict[str, FieldType],
    canary_rows: list[dict[str, Any]] | None,
    options: NativeOptions | None,
) -> Manifest:
    """The kind's describe of a native model file, against the signature's features."""
    features = FeaturesConfig.model_validate({"schema": feature_types})
    options = options or NativeOptions()
    if flavour == "onnx":
        return describe_onnx(payload, features, options.onnx, canary_rows)
    return TREE_KINDS[flavour](payload, features, options.trees, canary_rows)
