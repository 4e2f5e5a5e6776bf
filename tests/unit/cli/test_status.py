"""`stream-scorer status` names a family's key count beside CURRENT."""

from sklearn.linear_model import Ridge

from stream_scorer.cli.commands.status import collect
from stream_scorer.flavors.family.build import build_family
from stream_scorer.runtime.checkpoint import Checkpoint
from stream_scorer.versions.sources.store import StoreSource
from tests.family_helpers import fit_locally, keyed_frame


def test_status_gives_the_key_count_of_a_family_current(tmp_path, store) -> None:
    spec, fitted, _ = fit_locally(keyed_frame(3, 10), Ridge)
    payload, manifest = build_family(spec, fitted, {})
    store.add(manifest, payload)

    status = collect(Checkpoint.at(str(tmp_path / "checkpoint")), StoreSource(store.root))

    assert (status["current_model"], status["current_family"]) == ("v0001", "family of 3 keys")


def test_status_of_a_single_model_has_no_family(tmp_path, store, published) -> None:
    published("regression")

    status = collect(Checkpoint.at(str(tmp_path / "checkpoint")), StoreSource(store.root))

    assert (status["current_model"], status["current_family"]) == ("v0001", None)
