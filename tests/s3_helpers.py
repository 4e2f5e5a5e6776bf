"""A real S3 API server on loopback for the object-store model store: moto's server mode.

`S3Server` names one server (started once per test session by the `s3` fixture of
tests/conftest.py with `serve`); `new_store` makes a fresh bucket, so tests share the server,
not data.
"""

import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from stream_scorer.versions.store import ModelStore

REGION = "us-east-1"
KEY, SECRET = "testing", "testing"


@dataclass(frozen=True)
class S3Server:
    """A moto S3 server at `endpoint` (http://127.0.0.1:PORT)."""

    scheme: ClassVar[str] = "s3"

    endpoint: str

    @property
    def options(self) -> dict[str, Any]:
        """fsspec storage options (`model.store_options`) that reach this server."""
        return {
            "endpoint_url": self.endpoint,
            "key": KEY,
            "secret": SECRET,
            "client_kwargs": {"region_name": REGION},
        }

    @property
    def env(self) -> dict[str, str]:
        """The same, as the environment variables the AWS SDKs read."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_DEFAULT_REGION": REGION,
        }

    def client(self) -> Any:
        """A boto3 S3 client of this server, to look at or tamper with objects."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
            region_name=REGION,
        )

    def open(self, location: str) -> ModelStore:
        """The model store at `location`, opened with `options`."""
        return ModelStore(location, self.options)

    def new_bucket(self) -> str:
        """Create an empty bucket; return its name."""
        name = f"models-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def new_store(self, prefix: str = "team/models") -> ModelStore:
        """A model store under `prefix` of a new bucket, opened with `options`."""
        return ModelStore(f"s3://{self.new_bucket()}/{prefix}", self.options)

    def keys(self, store: ModelStore) -> list[str]:
        """The object keys under `store`'s prefix, relative to it, sorted."""
        bucket, _, prefix = store.location.removeprefix("s3://").partition("/")
        listed = self.client().list_objects_v2(Bucket=bucket, Prefix=prefix + "/")
        return sorted(o["Key"][len(prefix) + 1 :] for o in listed.get("Contents", []))

    def token(self, store: ModelStore, name: str) -> str:
        """The ETag of object `name` of `store` (changes with every write)."""
        bucket, _, prefix = store.location.removeprefix("s3://").partition("/")
        return str(self.client().head_object(Bucket=bucket, Key=f"{prefix}/{name}")["ETag"])

    def put(self, store: ModelStore, name: str, data: bytes) -> None:
        """Overwrite object `name` of `store` unconditionally (tampering)."""
        bucket, _, prefix = store.location.removeprefix("s3://").partition("/")
        self.client().put_object(Bucket=bucket, Key=f"{prefix}/{name}", Body=data)


@contextmanager
def serve() -> Iterator[S3Server]:
    """moto's S3 server on 127.0.0.1 (a free port) until the block ends, handling one request
    at a time: moto checks a conditional PUT's precondition and stores the object in two
    steps, so two requests at once could both pass `If-None-Match: *`, where S3 lets one."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = _one_at_a_time(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield S3Server(f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        thread.join()


def _one_at_a_time(app: Callable[..., Iterable[bytes]]) -> Callable[..., list[bytes]]:
    lock = threading.Lock()

    def handle(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with lock:
            return list(app(environ, start_response))

    return handle
