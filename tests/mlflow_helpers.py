"""A real local MLflow backend for tests: SQLite tracking store and model registry, artefacts
in a folder. Models are logged and registered with MLflow's own API; `MlflowServer` serves
them over HTTP with MLflow's own tracking server."""

import os
import threading
from pathlib import Path

import mlflow
import mlflow.onnx
import pandas as pd
from mlflow import MlflowClient


class ConstantPyfunc(mlflow.pyfunc.PythonModel):
    """A pyfunc model of no sklearn flavour: one a scorer must refuse."""

    def predict(self, context, model_input: pd.DataFrame, params=None) -> list[float]:
        return [0.0] * len(model_input)


class LocalMlflow:
    """MLflow tracking and registry at `sqlite:///<root>/mlflow.db`, artefacts under `root`."""

    def __init__(self, root: Path) -> None:
        self.tracking_uri = f"sqlite:///{root / 'mlflow.db'}"
        self.client = MlflowClient(self.tracking_uri)
        artifacts = (root / "artifacts").as_uri()
        self.experiment = self.client.create_experiment("tests", artifact_location=artifacts)

    def register(self, name: str, model: object, example=None, **options) -> str:
        """Log `model` with MLflow's sklearn flavour (a `PythonModel`: the pyfunc flavour only)
        and register it as `name`; return the new version number."""
        previous = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(self.tracking_uri)
        common = {
            "name": "model",
            "input_example": example,
            "registered_model_name": name,
            "pip_requirements": ["scikit-learn"],  # skips inferring them (seconds)
            **options,
        }
        try:
            with mlflow.start_run(experiment_id=self.experiment):
                if isinstance(model, mlflow.pyfunc.PythonModel):
                    info = mlflow.pyfunc.log_model(python_model=model, **common)
                else:
                    info = mlflow.sklearn.log_model(model, **common)
        finally:
            mlflow.set_tracking_uri(previous)
        return str(info.registered_model_version)

    def register_native(self, name: str, flavour: str, model: object, example=None) -> str:
        """Log `model` with MLflow's `flavour` (xgboost, lightgbm, catboost: their own model
        files) and register it as `name`; return the new version number."""
        import importlib

        log_model = importlib.import_module(f"mlflow.{flavour}").log_model
        previous = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(self.tracking_uri)
        try:
            with mlflow.start_run(experiment_id=self.experiment):
                info = log_model(
                    model,
                    name="model",
                    input_example=example,
                    registered_model_name=name,
                    pip_requirements=[flavour],  # skips inferring them (seconds)
                )
        finally:
            mlflow.set_tracking_uri(previous)
        return str(info.registered_model_version)

    def register_onnx(self, name: str, graph: bytes) -> str:
        """Log the ONNX `graph` with MLflow's onnx flavour (weights inside the .onnx file) and
        register it as `name`; return the new version number."""
        import onnx

        previous = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(self.tracking_uri)
        try:
            with mlflow.start_run(experiment_id=self.experiment):
                info = mlflow.onnx.log_model(
                    onnx.load_from_string(graph),
                    name="model",
                    registered_model_name=name,
                    pip_requirements=["onnxruntime"],  # skips inferring them (seconds)
                    save_as_external_data=False,
                )
        finally:
            mlflow.set_tracking_uri(previous)
        return str(info.registered_model_version)

    def set_alias(self, name: str, alias: str, version: str) -> None:
        """Point `name@alias` at `version`."""
        self.client.set_registered_model_alias(name, alias, version)

    def artefact(self, name: str, version: str, file: str) -> Path:
        """The local path of `file` inside a registered version's model directory."""
        root = self.client.get_model_version_download_uri(name, version)
        return Path(root.removeprefix("file://")) / file


class MlflowServer:
    """MLflow's own tracking server (its Flask app, in a thread of this process) over a
    `LocalMlflow`'s store, at `uri`; `freeze()` makes it accept requests and answer none,
    as a hung server does, until `thaw()`. Use as a context manager."""

    def __init__(self, backend: LocalMlflow, root: Path) -> None:
        self._backend, self._root = backend, root
        self._answering = threading.Event()
        self._answering.set()
        self._server = None
        self.uri = ""

    def __enter__(self) -> "MlflowServer":
        from mlflow.server import app, handlers
        from mlflow.tracking._model_registry import utils as registry_utils
        from mlflow.tracking._tracking_service import utils as tracking_utils
        from werkzeug.serving import make_server

        # Opening its stores, the server sets this process's tracking and registry URIs (and
        # their environment variables); clients here keep theirs, or they would bypass it.
        uris = tracking_utils._tracking_uri, registry_utils._registry_uri
        environ = {name: os.environ.get(name) for name in URI_VARIABLES}
        _forget_stores(handlers)
        handlers._get_tracking_store(self._backend.tracking_uri, self._root.as_uri())
        handlers._get_model_registry_store(self._backend.tracking_uri)
        tracking_utils._tracking_uri, registry_utils._registry_uri = uris
        for name, value in environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._server = make_server("127.0.0.1", 0, self._hanging(app), threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.uri = f"http://127.0.0.1:{self._server.server_port}"
        return self

    def __exit__(self, *exc_info) -> None:
        from mlflow.server import handlers

        self.thaw()
        self._server.shutdown()
        _forget_stores(handlers)

    def freeze(self) -> None:
        """From now on, hold every request without an answer."""
        self._answering.clear()

    def thaw(self) -> None:
        """Answer again, the held requests included."""
        self._answering.set()

    def _hanging(self, app):
        def wsgi(environ, start_response):
            self._answering.wait(timeout=HELD_AT_MOST_S)
            return app(environ, start_response)

        return wsgi


def _forget_stores(handlers) -> None:
    """Make MLflow's server open its stores again (it keeps the first ones in globals)."""
    handlers._tracking_store = handlers._model_registry_store = None


URI_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
HELD_AT_MOST_S = 300.0
"""A frozen server's requests are answered after this long at the latest (no endless wait)."""
