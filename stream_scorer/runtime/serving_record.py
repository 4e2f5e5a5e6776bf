"""What a restarted scorer must know to fall back from a model version that fails batches.

One small JSON file in the checkpoint (`scorer/serving.json`), written by the driver only
when something in it changes: the version that served the last written batch, the failed
attempts of the batch failing now, and the versions refused for failing batches.
"""

import json
from dataclasses import asdict, dataclass, field

from stream_scorer.files import Files

SERVING_FILE = "scorer/serving.json"


@dataclass(frozen=True)
class Served:
    """A model version by name and artefact (sha256; None when the source gives none)."""

    version: str
    sha256: str | None


@dataclass(frozen=True)
class Attempts:
    """How many times batch `batch_id` failed with `model`."""

    batch_id: int
    model: Served
    count: int


@dataclass
class _State:
    last_served: Served | None = None
    failing: Attempts | None = None
    refused: list[Served] = field(default_factory=list)


class ServingRecord:
    """The scorer's record of served, failing and refused versions, kept in `files`."""

    def __init__(self, files: Files) -> None:
        self._files = files
        self._state = self._read()

    @property
    def last_served(self) -> Served | None:
        """The version that served the last batch written, or None before the first."""
        return self._state.last_served

    @property
    def refused(self) -> list[Served]:
        """Versions refused because batches failed with them, oldest first."""
        return list(self._state.refused)

    def served(self, model: Served) -> None:
        """Record that `model` served a batch that was written; forget failed attempts."""
        if self._state.last_served != model or self._state.failing is not None:
            self._state.last_served, self._state.failing = model, None
            self._write()

    def failed(self, batch_id: int, model: Served) -> int:
        """Count one more failure of batch `batch_id` with `model`; return the count so far."""
        failing = self._state.failing
        same = failing is not None and (failing.batch_id, failing.model) == (batch_id, model)
        count = failing.count + 1 if failing is not None and same else 1
        self._state.failing = Attempts(batch_id, model, count)
        self._write()
        return count

    def refuse(self, model: Served) -> None:
        """Record `model` as refused, so that a restart does not serve it again."""
        if model not in self._state.refused:
            self._state.refused.append(model)
            self._write()

    def _read(self) -> _State:
        if not self._files.exists(SERVING_FILE):
            return _State()
        raw = json.loads(self._files.read(SERVING_FILE))
        failing = raw.get("failing")
        return _State(
            last_served=Served(**raw["last_served"]) if raw.get("last_served") else None,
            failing=None
            if failing is None
            else Attempts(failing["batch_id"], Served(**failing["model"]), failing["count"]),
            refused=[Served(**model) for model in raw.get("refused", [])],
        )

    def _write(self) -> None:
        text = json.dumps(asdict(self._state), indent=2, sort_keys=True)
        self._files.write_atomically(SERVING_FILE, text)
