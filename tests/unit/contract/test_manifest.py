"""Manifest fields: the input layout as written and as read from older manifests."""

import json

import pytest

from stream_scorer.contract.manifest import Manifest
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.verify import load_verified
from tests.scorer_helpers import NUMERIC, TEXT


def _as_older_manifest(store, version: str, layout_in_extra: str | None) -> None:
    """Rewrite `version`'s manifest as written before `input_layout` was a field."""
    path = store.root / version / "manifest.json"
    data = json.loads(path.read_text())
    del data["input_layout"]
    data["extra"] = {} if layout_in_extra is None else {"input_layout": layout_in_extra}
    path.write_text(json.dumps(data))


def test_publish_writes_the_input_layout_as_a_field(store, model_file):
    version = publish_sklearn(store, model_file("text"), TEXT).version

    data = json.loads((store.root / version / "manifest.json").read_text())

    assert data["input_layout"] == "column"
    assert data["extra"] == {}


def test_layout_kept_in_extra_by_an_older_manifest_is_read_as_the_field(store, model_file):
    version = publish_sklearn(store, model_file("binary"), NUMERIC).version
    _as_older_manifest(store, version, layout_in_extra="array")

    manifest = store.manifest(version)

    assert manifest.input_layout == "array"
    assert manifest.extra == {}


@pytest.mark.parametrize(
    ("kind", "schema", "layout"), [("text", TEXT, "column"), ("binary", NUMERIC, "frame")]
)
def test_manifest_without_a_layout_gets_the_default_of_its_types(
    store, model_file, kind, schema, layout
):
    version = publish_sklearn(store, model_file(kind), schema).version
    _as_older_manifest(store, version, layout_in_extra=None)

    assert store.manifest(version).input_layout == layout


def test_version_with_an_older_manifest_still_loads(store, model_file):
    version = publish_sklearn(store, model_file("text"), TEXT).version
    _as_older_manifest(store, version, layout_in_extra="column")

    assert load_verified(store, version, TEXT).version == version


@pytest.mark.parametrize(
    ("kind", "classifier"), [("binary", True), ("multiclass", True), ("regression", False)]
)
def test_only_models_with_classes_are_classifiers(store, model_file, kind, classifier):
    manifest = publish_sklearn(store, model_file(kind), NUMERIC)

    assert manifest.is_classifier is classifier


def test_manifest_round_trips_through_json(store, model_file):
    manifest = publish_sklearn(store, model_file("binary"), NUMERIC)

    assert Manifest.from_json(manifest.to_json()) == manifest
