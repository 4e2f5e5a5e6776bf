"""A STAND-IN for Confluent Schema Registry, for tests only: no registry server can be
installed on these machines.

It implements the part of the registry's REST API that confluent-kafka's
`SchemaRegistryClient` calls for Avro: register a schema under a subject (POST
/subjects/{s}/versions, the same schema keeping its id), look one up (POST /subjects/{s}),
fetch a schema by id (GET /schemas/ids/{id}, 404 with error code 40403 when unknown), list
subjects and versions, get a version or the latest. No compatibility checks, no auth, no
persistence beyond the object: `stop()` then `start()` serves the same schemas on the same
port, as a restarted registry would. `calls` counts the GETs of schemas by id.
"""

import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class SchemaRegistryStub:
    """An in-memory Schema Registry stand-in on 127.0.0.1; a context manager."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.schemas: list[dict[str, Any]] = []
        """Schemas by id - 1: {"schema": text, "schemaType": ...}."""
        self.subjects: dict[str, list[int]] = {}
        """Subject -> schema ids of its versions 1, 2, ..."""
        self.calls: Counter[str] = Counter()
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT (the port is fixed by the first `start`)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "SchemaRegistryStub":
        """Serve (again, on the same port) in a background thread."""
        stub = self

        class Handler(_Handler):
            registry = stub

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving: connections to the port are refused until `start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "SchemaRegistryStub":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def register(self, subject: str, schema: str, schema_type: str = "AVRO") -> int:
        """Register `schema` under `subject`; return its id (an equal schema keeps its id)."""
        entry = {"schema": schema, "schemaType": schema_type}
        with self._lock:
            if entry in self.schemas:
                schema_id = self.schemas.index(entry) + 1
            else:
                self.schemas.append(entry)
                schema_id = len(self.schemas)
            versions = self.subjects.setdefault(subject, [])
            if schema_id not in versions:
                versions.append(schema_id)
            return schema_id

    def version(self, subject: str, version: str) -> dict[str, Any] | None:
        """The registered version ('latest' or a number) of `subject`, or None."""
        versions = self.subjects.get(subject, [])
        if not versions or not (version == "latest" or version.isdigit()):
            return None
        number = len(versions) if version == "latest" else int(version)
        if not 1 <= number <= len(versions):
            return None
        schema_id = versions[number - 1]
        entry = self.schemas[schema_id - 1]
        return {"subject": subject, "version": number, "id": schema_id, **_typed(entry)}


def _typed(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as the registry shows it: schemaType only when not AVRO."""
    if entry["schemaType"] == "AVRO":
        return {"schema": entry["schema"]}
    return dict(entry)


class _Handler(BaseHTTPRequestHandler):
    registry: SchemaRegistryStub

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        stub = self.registry
        if match := re.fullmatch(r"/schemas/ids/(\d+)", path):
            stub.calls["schema_by_id"] += 1
            schema_id = int(match.group(1))
            if 1 <= schema_id <= len(stub.schemas):
                return self._reply(200, _typed(stub.schemas[schema_id - 1]))
            return self._reply(
                404, {"error_code": 40403, "message": f"Schema {schema_id} not found"}
            )
        if path == "/subjects":
            return self._reply(200, sorted(stub.subjects))
        if match := re.fullmatch(r"/subjects/([^/]+)/versions", path):
            versions = stub.subjects.get(match.group(1))
            if versions is None:
                return self._no_subject(match.group(1))
            return self._reply(200, list(range(1, len(versions) + 1)))
        if match := re.fullmatch(r"/subjects/([^/]+)/versions/([^/]+)", path):
            found = stub.version(match.group(1), match.group(2))
            if found is None:
                return self._reply(404, {"error_code": 40402, "message": "Version not found"})
            return self._reply(200, found)
        return self._reply(404, {"error_code": 404, "message": f"not in the stand-in: {path}"})

    def do_POST(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        stub = self.registry
        schema_type = body.get("schemaType", "AVRO")
        if match := re.fullmatch(r"/subjects/([^/]+)/versions", path):
            schema_id = stub.register(match.group(1), body["schema"], schema_type)
            return self._reply(200, {"id": schema_id})
        if match := re.fullmatch(r"/subjects/([^/]+)", path):  # look a schema up
            subject = match.group(1)
            entry = {"schema": body["schema"], "schemaType": schema_type}
            for number, schema_id in enumerate(stub.subjects.get(subject, []), start=1):
                if stub.schemas[schema_id - 1] == entry:
                    found = {"subject": subject, "version": number, "id": schema_id}
                    return self._reply(200, {**found, **_typed(entry)})
            return self._reply(404, {"error_code": 40403, "message": "Schema not found"})
        return self._reply(404, {"error_code": 404, "message": f"not in the stand-in: {path}"})

    def _no_subject(self, subject: str) -> None:
        self._reply(404, {"error_code": 40401, "message": f"Subject '{subject}' not found."})

    def _reply(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
