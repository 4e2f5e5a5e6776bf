"""`model show` and `model list` for a family: its key count, keys, metrics, skipped keys."""

import pytest
from sklearn.linear_model import Ridge

from stream_scorer.flavors.family.build import build_family
from stream_scorer.versions.store import ModelStore
from tests.family_helpers import fit_locally, keyed_frame
from tests.unit.cli.test_model_command import run


@pytest.fixture
def family_store(store: ModelStore) -> ModelStore:
    spec, fitted, _ = fit_locally(keyed_frame(2, 20), Ridge, fallback=True)
    payload, manifest = build_family(spec, fitted, {"k0007": "fit raised ValueError: boom"})
    store.add(manifest, payload)
    return store


def test_list_shows_a_familys_key_count(family_store, capsys) -> None:
    assert run("model", "list", "--store", str(family_store.root)) == 0

    row = capsys.readouterr().out.splitlines()[1]
    assert row.startswith("* v0001")
    assert row.endswith("Ridge per key: 2 keys + fallback, 1 skipped")


def test_show_lists_each_key_with_rows_and_sha256(family_store, capsys) -> None:
    assert run("model", "show", "v0001", "--store", str(family_store.root)) == 0

    out = capsys.readouterr().out.splitlines()
    info = family_store.manifest("v0001").extra["family"]
    assert out[0] == "v0001: family regression Ridge, predicts double"
    assert out[4].startswith("  family:   2 keys + fallback, 1 skipped; key column 'store'")
    assert out[5].endswith("on each key's own training rows, not on held-out data")
    assert out[7].split() == [
        "k0000",
        "20",
        "1.0000",
        "0.010",
        info["keys"]["k0000"]["sha256"][:12],
    ]
    assert out[9].split()[:2] == ["(fallback)", "40"]
    assert out[10] == "  skipped 'k0007': fit raised ValueError: boom"


def test_show_without_a_version_describes_current(family_store, capsys) -> None:
    assert run("model", "show", "--store", str(family_store.root)) == 0

    assert capsys.readouterr().out.startswith("v0001: family regression Ridge")
