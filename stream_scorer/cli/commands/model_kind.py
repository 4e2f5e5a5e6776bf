"""Which kind of model a file is, for `model publish` without `--kind`: told by the name
where it is unambiguous, else by the first bytes; otherwise the user names it."""

from pathlib import Path

from stream_scorer.errors import ConfigError, ModelStoreError

KINDS = ("sklearn", "onnx", "xgboost", "lightgbm", "catboost")
"""What `--kind` accepts."""
BY_SUFFIX = {
    ".joblib": "sklearn",
    ".pkl": "sklearn",
    ".pickle": "sklearn",
    ".skops": "sklearn",
    ".onnx": "onnx",
    ".ubj": "xgboost",
    ".cbm": "catboost",
}
HEAD_BYTES = 256
LIGHTGBM_START = b"tree\nversion="
CATBOOST_START = b"CBM1"
XGBOOST_KEY = b'"learner"'


def kind_of(path: str | Path) -> str:
    """The kind of the model file at `path`: by suffix (.joblib/.pkl/.skops sklearn, .onnx,
    .ubj XGBoost, .cbm CatBoost), else by content (a JSON object whose first key is
    "learner": XGBoost; a text model beginning 'tree' then 'version=': LightGBM).

    Raises
    ------
    ConfigError
        If neither tells, asking for `--kind`.
    ModelStoreError
        If the file cannot be read.
    """
    path = Path(path)
    by_suffix = BY_SUFFIX.get(path.suffix.lower())
    if by_suffix is not None:
        return by_suffix
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        msg = f"{path}: cannot read model file: {exc.strerror}"
        raise ModelStoreError(msg) from exc
    if head.startswith(LIGHTGBM_START):
        return "lightgbm"
    if head.startswith(CATBOOST_START):
        return "catboost"
    start = head.lstrip()
    if start[:1] == b"{" and start[1:].lstrip().startswith(XGBOOST_KEY):
        return "xgboost"
    msg = (
        f"{path}: cannot tell which kind of model this is from its name or first bytes; "
        f"give --kind, one of {', '.join(KINDS)}"
    )
    raise ConfigError(msg)
