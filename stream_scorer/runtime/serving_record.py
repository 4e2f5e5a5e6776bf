"""What a restarted scorer must know to fall back from a model version that fails batches.

One small JSON file in the checkpoint (`scorer/serving.json`), written by the driver only
when something in it changes: the version that served the last written batch and the share
of its decoded rows the model failed, the failed attempts of the batch failing now, and the
versions refused for failing batches.
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
    last_error_rate: float = 0.0
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
    def last_error_rate(self) -> float:
        """The share of the last written batch's decoded rows its model failed (0 before)."""
        return self._state.last_error_rate

    @property
    def refused(self) -> list[Served]:
        """Versions refused because batches failed with them, oldest first."""
        return list(self._state.refused)

    def served(self, model: Served, error_rate: float = 0.0) -> None:
        """Record that `model` served a batch that was written, failing `error_rate` of its
        decoded rows; forget failed attempts. The file is written when the version or the
        failing attempts change, not for every batch's rate."""
        state = self._state
        changed = state.last_served != model or state.failing is not None
        state.last_served, state.last_error_rate, state.failing = model, error_rate, None
        if changed:
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
            last_error_rate=raw.get("last_error_rate", 0.0),
            failing=None
            if failing is None
            else Attempts(failing["batch_id"], Served(**failing["model"]), failing["count"]),
            refused=[Served(**model) for model in raw.get("refused", [])],
        )

    def _write(self) -> None:
        text = json.dumps(asdict(self._state), indent=2, sort_keys=True)
        self._files.write_atomically(SERVING_FILE, text)
