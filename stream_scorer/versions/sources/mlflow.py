"""MLflow Model Registry as a model source: an alias resolved once per micro-batch.

Version ids read 'NAME/7'. A version's MLmodel file, model file and input example are
downloaded the first time the alias points at it; its manifest (with the sha256 of the
bytes) is kept for the life of the process, so bytes fetched again later must match them,
and a refused version is not downloaded again.

The model file loads through our restricted loader (`load_model_bytes`) with the config's
`model.trusted_types` and `model.unsafe_load`, as a store version does; a native flavour's
file (xgboost, lightgbm, catboost, onnx) is described with `model.trees` and `model.onnx`.
Manifest signing (`versions.signing`) covers our store only: MLflow versions carry no
signature of ours, so with a signing key set they are served unsigned (a WARNING says so);
who may move the alias is the registry's access control.
"""

import logging
import os
import re
import tempfile
from pathlib import Path

from stream_scorer.config.model_uri import ModelUri, version_id
from stream_scorer.contract.manifest import Manifest
from stream_scorer.errors import ConfigError, ModelRejectedError, ModelStoreError
from stream_scorer.types import FieldType
from stream_scorer.versions.signing import SIGNING_KEY_ENV, signing_key
from stream_scorer.versions.sources.base import SharedFile
from stream_scorer.versions.sources.mlflow_manifest import (
    NativeOptions,
    build_manifest,
    example_rows,
    model_file,
    signature_types,
)

PROGRESS_BAR_ENV = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"

log = logging.getLogger(__name__)


class MlflowSource:
    """Versions of one registered model; `uri`'s alias (or fixed version) names the one to serve.

    Driver-only. `current_version` costs one registry call.

    Raises
    ------
    ConfigError
        At construction, if MLflow is not installed or no tracking URI is known.
    """

    signed = False
    """MLflow versions carry no manifest signature; `load_verified` does not ask for one."""

    def __init__(
        self,
        uri: ModelUri,
        tracking_uri: str | None,
        feature_types: dict[str, FieldType],
        trusted_types: list[str],
        unsafe_load: bool = False,
        options: NativeOptions | None = None,
    ) -> None:
        try:
            from mlflow import MlflowClient
        except ImportError as exc:
            msg = "model.source mlflow needs MLflow: pip install 'stream-scorer[mlflow]'"
            raise ConfigError(msg) from exc
        self.tracking_uri = tracking_uri or os.environ.get(TRACKING_URI_ENV)
        if not self.tracking_uri:
            msg = f"model.tracking_uri is not set and neither is {TRACKING_URI_ENV}"
            raise ConfigError(msg)
        shown = _without_password(self.tracking_uri)
        self.uri = uri
        self.location = str(uri)
        what = f"alias {uri.alias!r}" if uri.alias else f"version {uri.number}"
        self.unset = (
            f"{uri}: registered model {uri.name!r} has no {what} at {shown}; "
            "register a version and set the alias"
        )
        self._shown = shown
        # A download's progress bar would reach the console between the scorer's lines.
        os.environ.setdefault(PROGRESS_BAR_ENV, "false")
        self._client = MlflowClient(tracking_uri=self.tracking_uri)
        self._feature_types = feature_types
        self._trusted_types = trusted_types
        self._unsafe_load = unsafe_load
        self._options = options
        self._seen: dict[str, Manifest | ModelRejectedError] = {}
        self._fetched: tuple[str, bytes] | None = None
        if signing_key() is not None:
            log.warning(
                "%s is set, but %s versions are not signed: signing covers the model store only",
                SIGNING_KEY_ENV,
                self.location,
            )

    def current_version(self) -> str | None:
        """'NAME/7' for the version the alias points at now, or None when it points nowhere."""
        from mlflow.exceptions import MlflowException

        name, alias, number = self.uri.name, self.uri.alias, self.uri.number
        try:
            if alias is None:  # a fixed version: it exists or not
                self._client.get_model_version(name, str(number))
            else:
                number = self._client.get_registered_model(name).aliases.get(alias)
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            msg = f"{self.uri}: cannot read the registry at {self._shown}: {exc.message}"
            raise ModelStoreError(msg) from exc
        except Exception as exc:  # the store's driver (SQLAlchemy, HTTP) raises its own types
            msg = f"{self.uri}: cannot read the registry at {self._shown}: {exc!r}"
            raise ModelStoreError(msg) from exc
        return None if number is None else version_id(name, number)

    def manifest(self, version: str) -> Manifest:
        """Download and describe `version` the first time; the same manifest after that."""
        if version not in self._seen:
            try:
                manifest, payload = self._fetch(version)
            except ModelRejectedError as exc:
                self._seen[version] = exc
            else:
                self._seen[version], self._fetched = manifest, (version, payload)
        seen = self._seen[version]
        if isinstance(seen, ModelRejectedError):
            raise seen
        return seen

    def read_artifact(self, version: str) -> bytes:
        """The model file's bytes: those `manifest` fetched, else downloaded again."""
        if self._fetched is not None and self._fetched[0] == version:
            payload, self._fetched = self._fetched[1], None
            return payload
        file = self.manifest(version).file
        with tempfile.TemporaryDirectory(prefix="stream-scorer-mlflow-") as tmp:
            return self._download(version, file, tmp).read_bytes()

    def shared_file(self, version: str) -> SharedFile | None:
        """None: the driver downloads versions, so executors get them broadcast, whatever
        their size (below Spark's 2 GiB broadcast limit)."""
        return None

    def _fetch(self, version: str) -> tuple[Manifest, bytes]:
        from mlflow.models import Model

        with tempfile.TemporaryDirectory(prefix="stream-scorer-mlflow-") as tmp:
            meta = Model.load(str(self._download(version, "MLmodel", tmp)))
            file, _ = model_file(meta)
            payload = self._download(version, file, tmp).read_bytes()
            types = signature_types(meta, self._feature_types)
            rows = None
            example = meta.saved_input_example_info
            if example:
                self._download(version, example["artifact_path"], tmp)
                rows = example_rows(meta.load_input_example(tmp), list(types))
        manifest = build_manifest(
            version,
            meta,
            payload,
            types,
            rows,
            self._trusted_types,
            self._unsafe_load,
            self._options,
        )
        return manifest, payload

    def _download(self, version: str, path: str, into: str) -> Path:
        import mlflow.artifacts

        name, number = version.rsplit("/", 1)
        try:
            root = self._client.get_model_version_download_uri(name, number)
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=f"{root.rstrip('/')}/{path}",
                dst_path=into,
                tracking_uri=self.tracking_uri,
            )
        except Exception as exc:  # MlflowException, OSError, the artefact store's own errors
            msg = f"{version}: cannot download {path} from {self._shown}: {exc}"
            raise ModelStoreError(msg) from exc
        return Path(local)


def _without_password(uri: str) -> str:
    """`uri` fit for logs: a password in it ('postgresql://user:secret@db/mlflow') is masked."""
    return re.sub(r"//([^/:@]*):[^/@]*@", r"//\1:***@", uri)
