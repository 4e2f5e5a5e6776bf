"""A real local MLflow backend for tests: SQLite tracking store and model registry, artefacts
in a folder. Models are logged and registered with MLflow's own API."""

from pathlib import Path

import mlflow
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

    def set_alias(self, name: str, alias: str, version: str) -> None:
        """Point `name@alias` at `version`."""
        self.client.set_registered_model_alias(name, alias, version)

    def artefact(self, name: str, version: str, file: str) -> Path:
        """The local path of `file` inside a registered version's model directory."""
        root = self.client.get_model_version_download_uri(name, version)
        return Path(root.removeprefix("file://")) / file
