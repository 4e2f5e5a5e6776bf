"""A real Azure Blob API server on loopback for the object-store model store: Azurite.

Azurite is an npm package: `scripts/check_prereqs.sh` (run by `make`) installs it under
`AZURITE_HOME` (default `~/.cache/stream-scorer/azurite`) when npm is there. `find_azurite`
looks there and on PATH; the `azure` fixture of tests/conftest.py runs it in memory on a free
loopback port once per test session, or skips saying why. `new_store` makes a fresh container,
so tests share the server, not data.
"""

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from stream_scorer.versions.store import ModelStore
from tests.fsspec_servers import FsspecServer

ACCOUNT = "devstoreaccount1"
# Azurite's well-known development account key (public, in Azurite's README).
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_LISTENING = re.compile(r"listens on (http://127\.0\.0\.1:\d+)")
STARTUP_SECONDS = 60


def azurite_home() -> Path:
    """Where check_prereqs.sh installs Azurite (`npm install --prefix`)."""
    default = Path.home() / ".cache" / "stream-scorer" / "azurite"
    return Path(os.environ.get("AZURITE_HOME", default))


def find_azurite() -> str | None:
    """The `azurite-blob` command: installed by check_prereqs.sh, else on PATH."""
    installed = azurite_home() / "node_modules" / ".bin" / "azurite-blob"
    return str(installed) if installed.exists() else shutil.which("azurite-blob")


@dataclass
class AzuriteServer(FsspecServer):
    """Azurite's blob service at `endpoint` (http://127.0.0.1:PORT)."""

    scheme: ClassVar[str] = "abfs"

    endpoint: str
    process: subprocess.Popen | None = field(default=None, repr=False)

    @classmethod
    def start(cls, binary: str, workdir: Path) -> "AzuriteServer":
        """Run Azurite in memory on a free loopback port (it prints which); no telemetry."""
        log = workdir / "azurite.log"
        command = [binary, "--blobHost", "127.0.0.1", "--blobPort", "0"]
        command += ["--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck"]
        command += ["--silent"]
        with open(log, "wb") as out:
            process = subprocess.Popen(command, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            found = _LISTENING.search(log.read_text(errors="replace"))
            if found:
                return cls(found.group(1), process)
            time.sleep(0.2)
        process.terminate()
        process.wait(timeout=10)
        msg = f"Azurite did not listen within {STARTUP_SECONDS} s: {log.read_text()[-500:]}"
        raise RuntimeError(msg)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
            f"BlobEndpoint={self.endpoint}/{ACCOUNT};"
        )

    @property
    def options(self) -> dict[str, Any]:
        """fsspec storage options (`model.store_options`) that reach this server."""
        return {"connection_string": self.connection_string}

    @property
    def env(self) -> dict[str, str]:
        """The same, as the environment variable adlfs reads."""
        return {"AZURE_STORAGE_CONNECTION_STRING": self.connection_string}

    def fs(self) -> Any:
        """adlfs's client of this server (no listings cache), to look at or tamper with blobs."""
        from adlfs import AzureBlobFileSystem

        return AzureBlobFileSystem(
            **self.options, use_listings_cache=False, skip_instance_cache=True
        )

    def token(self, store: ModelStore, name: str) -> str:
        """The ETag of blob `name` of `store` (changes with every write)."""
        return str(self.fs().info(f"{store.location}/{name}")["etag"])
