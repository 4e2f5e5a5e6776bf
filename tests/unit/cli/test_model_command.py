"""`stream-scorer model publish | list | promote | rollback`, through the sub-command parser."""

import argparse
import json
import os

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from stream_scorer.cli.commands import model
from stream_scorer.devtools.demo_models import save_model
from stream_scorer.testing.models import ThresholdRaisingClassifier
from stream_scorer.versions.store import ModelStore
from tests.hostile_pickle import Calls
from tests.scorer_helpers import NUMERIC

FEATURES = "f0:double,f1:double,f2:double,f3:double"
RAISING_TYPE = "stream_scorer.testing.models.ThresholdRaisingClassifier"

CONFIG = """
source:
  options: {kafka.bootstrap.servers: "127.0.0.1:9092", subscribe: features}
features:
  schema: {text: string}
model:
  store: unused
  trusted_types: [_operator.neg]
checkpoint: unused
sinks: [{kind: console}]
dead_letter: {kind: console}
"""


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="stream-scorer")
    model.register(parser.add_subparsers(required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_publish_with_features_prints_summary_and_new_current(tmp_path, model_file, capsys):
    path = model_file("binary")

    code = run("model", "publish", str(path), "--store", str(tmp_path / "s"),
               "--features", "f0:double,f1:double,f2:double,f3:double")  # fmt: skip

    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("published v0001: binary LogisticRegression (joblib, sha256 ")
    assert "  features: f0:double, f1:double, f2:double, f3:double\n" in out
    assert out.endswith("CURRENT -> v0001 (was none)\n")


def test_publish_with_config_takes_the_schema_from_it(tmp_path, model_file, capsys):
    config = tmp_path / "scorer.yaml"
    config.write_text(CONFIG)

    code = run("model", "publish", str(model_file("text")), "--store", str(tmp_path / "s"),
               "--config", str(config))  # fmt: skip

    assert code == 0
    assert ModelStore(tmp_path / "s").manifest("v0001").feature_types == {"text": "string"}


def test_publish_without_schema_uses_the_fitted_feature_names(tmp_path, model_file):
    code = run("model", "publish", str(model_file("regression")), "--store", str(tmp_path / "s"))

    assert code == 0
    manifest = ModelStore(tmp_path / "s").manifest("v0001")
    assert manifest.feature_types == dict.fromkeys(["f0", "f1", "f2", "f3"], "double")


def test_publish_without_schema_prints_the_features_it_typed_as_double(
    tmp_path, model_file, capsys
):
    run("model", "publish", str(model_file("regression")), "--store", str(tmp_path / "s"))

    out = capsys.readouterr().out
    assert out.startswith(
        "typed as double: f0, f1, f2, f3; pass --features or --config to type them\n"
        "published v0001: "
    )


def test_publish_without_schema_types_an_integer_encoded_column_long(tmp_path, capsys):
    frame = pd.DataFrame({"visits": [0, 1, 2, 1], "spend": [1.5, 2.0, 0.5, 3.0]})
    columns = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["visits"]), (StandardScaler(), ["spend"])
    )
    fitted = make_pipeline(columns, LogisticRegression()).fit(frame, [0, 1, 0, 1])
    path = save_model(fitted, tmp_path / "visits.joblib")

    code = run("model", "publish", str(path), "--store", str(tmp_path / "s"))

    assert code == 0
    manifest = ModelStore(tmp_path / "s").manifest("v0001")
    assert manifest.feature_types == {"visits": "long", "spend": "double"}
    assert capsys.readouterr().out.startswith("typed from the model: visits:long\n")


def test_publish_with_canary_file_stores_those_rows(tmp_path, model_file):
    canary = tmp_path / "canary.jsonl"
    rows = [{"text": "free prize click"}, {"text": "lunch meeting notes"}]
    canary.write_text("".join(json.dumps(r) + "\n" for r in rows))

    code = run("model", "publish", str(model_file("text")), "--store", str(tmp_path / "s"),
               "--features", "text:string", "--canary", str(canary))  # fmt: skip

    assert code == 0
    assert ModelStore(tmp_path / "s").manifest("v0001").canary.predictions == ["spam", "ham"]


def test_refused_publish_prints_error_and_exits_2(tmp_path, model_file, capsys):
    code = run("model", "publish", str(model_file("text")), "--store", str(tmp_path / "s"))

    assert code == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert ModelStore(tmp_path / "s").versions() == []


def test_publishing_the_same_file_twice_exits_2_naming_the_stored_version(
    tmp_path, model_file, capsys
):
    path, store = str(model_file("binary")), str(tmp_path / "s")
    run("model", "publish", path, "--store", store, "--features", FEATURES)
    capsys.readouterr()

    code = run("model", "publish", path, "--store", store, "--features", FEATURES)

    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "is already stored as v0001; `stream-scorer model promote v0001` serves it" in err
    assert ModelStore(store).versions() == ["v0001"]


def test_publish_with_force_stores_the_same_file_as_a_new_version(tmp_path, model_file, capsys):
    path, store = str(model_file("binary")), str(tmp_path / "s")
    run("model", "publish", path, "--store", store, "--features", FEATURES)

    code = run("model", "publish", path, "--store", store, "--features", FEATURES, "--force")

    assert code == 0
    assert capsys.readouterr().out.endswith("CURRENT -> v0002 (was v0001)\n")


def test_list_shows_every_version_and_marks_current(tmp_path, store, published, capsys):
    published(seed=0)
    published(seed=1)
    store.set_current("v0001")

    assert run("model", "list", "--store", str(store.root)) == 0

    lines = capsys.readouterr().out.splitlines()
    assert [line[:9] for line in lines] == ["  VERSION", "* v0001  ", "  v0002  "]
    assert lines[1].endswith("LogisticRegression")


def test_rollback_points_current_at_the_previous_version(store, published, capsys):
    published(seed=0)
    published(seed=1)

    assert run("model", "rollback", "--store", str(store.root)) == 0

    assert capsys.readouterr().out == "CURRENT -> v0001 (was v0002)\n"
    assert store.current_version() == "v0001"


def test_rollback_to_a_named_version(store, published):
    for seed in range(3):
        published(seed=seed)

    assert run("model", "rollback", "--store", str(store.root), "--to", "v0001") == 0
    assert store.current_version() == "v0001"


@pytest.mark.parametrize("target", ["v0009", "../v0001"])
def test_rollback_to_an_unknown_version_exits_2(store, published, target, capsys):
    published()

    assert run("model", "rollback", "--store", str(store.root), "--to", target) == 2
    assert "is missing or invalid" in capsys.readouterr().err
    assert store.current_version() == "v0001"


def test_publish_no_promote_leaves_current_and_promote_serves_it(
    tmp_path, store, published, model_file, capsys
):
    published(seed=0)
    capsys.readouterr()

    code = run("model", "publish", str(model_file("binary", seed=1)), "--store", str(store.root),
               "--features", "f0:double,f1:double,f2:double,f3:double", "--no-promote")  # fmt: skip

    assert code == 0
    assert capsys.readouterr().out.endswith(
        "CURRENT stays v0001; `stream-scorer model promote v0002` would serve this one\n"
    )
    assert (store.current_version(), store.versions()) == ("v0001", ["v0001", "v0002"])

    assert run("model", "promote", "v0002", "--store", str(store.root)) == 0
    assert capsys.readouterr().out == "CURRENT -> v0002 (was v0001)\n"
    assert store.current_version() == "v0002"


def test_publish_no_promote_into_an_empty_store_leaves_current_unset(
    tmp_path, store, model_file, capsys
):
    code = run("model", "publish", str(model_file("binary")), "--store", str(store.root),
               "--features", FEATURES, "--no-promote")  # fmt: skip

    assert code == 0
    assert "CURRENT stays unset" in capsys.readouterr().out
    assert (store.current_version(), store.versions()) == (None, ["v0001"])


def test_publish_refuses_a_hostile_pickle_naming_the_global(tmp_path, capsys):
    marker = tmp_path / "pwned"
    path = save_model(Calls(os.system, f"touch {marker}"), tmp_path / "hostile.pkl")

    code = run("model", "publish", str(path), "--store", str(tmp_path), "--features", FEATURES)

    assert code == 2
    assert "refers to posix.system, which is not an allowed global" in capsys.readouterr().err
    assert not marker.exists()


@pytest.fixture
def custom_model_file(tmp_path):
    x = np.random.default_rng(0).normal(size=(40, 4))
    return save_model(ThresholdRaisingClassifier(5.0).fit(x, x[:, 0] > 0), tmp_path / "c.joblib")


def test_publish_with_trust_admits_a_class_of_your_own(tmp_path, custom_model_file, capsys):
    code = run("model", "publish", str(custom_model_file), "--store", str(tmp_path / "s"),
               "--features", FEATURES, "--trust", RAISING_TYPE)  # fmt: skip

    assert code == 0
    assert f"  trusted: {RAISING_TYPE}\n" in capsys.readouterr().out
    assert ModelStore(tmp_path / "s").manifest("v0001").trusted_types == [RAISING_TYPE]


def test_publish_with_trust_all_records_it_in_the_manifest(tmp_path, custom_model_file, capsys):
    code = run("model", "publish", str(custom_model_file), "--store", str(tmp_path / "s"),
               "--features", FEATURES, "--trust-all")  # fmt: skip

    assert code == 0
    assert "  trusted: every global (--trust-all)" in capsys.readouterr().out
    assert ModelStore(tmp_path / "s").manifest("v0001").unsafe_load is True


def test_publish_overtaken_by_a_newer_one_exits_3_and_leaves_current(
    tmp_path, model_file, monkeypatch, capsys
):
    store_dir = tmp_path / "s"
    publish = model.publish_sklearn

    def overtaken(store, *args, **kwargs):
        manifest = publish(store, *args, **kwargs)
        publish(store, model_file("binary", seed=1), NUMERIC)  # v0002, published meanwhile
        return manifest

    monkeypatch.setattr(model, "publish_sklearn", overtaken)
    code = run("model", "publish", str(model_file("binary")), "--store", str(store_dir),
               "--features", FEATURES)  # fmt: skip

    assert code == model.NOT_CURRENT == 3
    assert capsys.readouterr().err.startswith("v0001 stored but not CURRENT: v0002, published")
    assert ModelStore(store_dir).current_version() == "v0002"


def test_promote_points_current_at_an_older_version(store, published, capsys):
    for seed in range(3):
        published(seed=seed)

    assert run("model", "promote", "v0001", "--store", str(store.root)) == 0

    assert capsys.readouterr().out == "CURRENT -> v0001 (was v0003)\n"
    assert store.current_version() == "v0001"


def test_promote_of_an_invalid_version_exits_2(store, published, capsys):
    published()

    assert run("model", "promote", "v0009", "--store", str(store.root)) == 2
    assert "v0009 is missing or invalid" in capsys.readouterr().err
    assert store.current_version() == "v0001"


IMAGE_CONFIG = """
source:
  options: {kafka.bootstrap.servers: "127.0.0.1:9092", subscribe: images}
features: {format: image}
model:
  store: unused
  onnx: {scores: logits, image: {mean: [0.5], std: [0.25]}}
checkpoint: unused
sinks: [{kind: console}]
dead_letter: {kind: console}
"""


def test_publish_onnx_takes_classes_from_the_flag_and_preprocessing_from_the_config(
    tmp_path, capsys
):
    from stream_scorer.devtools.onnx_models import small_cnn

    graph, config = tmp_path / "cnn.onnx", tmp_path / "scorer.yaml"
    graph.write_bytes(small_cnn((32, 32), seed=1))
    config.write_text(IMAGE_CONFIG)

    code = run("model", "publish", str(graph), "--store", str(tmp_path / "s"),
               "--config", str(config), "--classes", "cat,dog")  # fmt: skip

    manifest = ModelStore(tmp_path / "s").manifest("v0001")
    assert code == 0
    assert manifest.classes == ["cat", "dog"]
    assert (manifest.onnx.preprocessing.mean, manifest.onnx.preprocessing.std) == ([0.5], [0.25])
    assert "  features: image\n" in capsys.readouterr().out


def test_publish_onnx_without_a_config_or_schema_fails_naming_what_to_give(tmp_path, capsys):
    graph = tmp_path / "cnn.onnx"
    graph.write_bytes(b"unused")

    code = run("model", "publish", str(graph), "--store", str(tmp_path / "s"))

    assert code == 2
    assert capsys.readouterr().err == (
        f"error: {graph}: an ONNX graph needs --config (or --features for JSON input)\n"
    )


def test_every_action_takes_the_store_from_the_config_when_store_is_not_given(
    tmp_path, model_file, capsys
):
    config = tmp_path / "scorer.yaml"
    store = tmp_path / "models"
    config.write_text(
        CONFIG.replace("schema: {text: string}", f"schema: {json.dumps(dict(NUMERIC))}").replace(
            "store: unused", f"store: {store}"
        )
    )
    for _ in range(2):
        assert run("model", "publish", str(model_file("binary")), "--config", str(config),
                   "--force") == 0  # fmt: skip
    assert run("model", "list", "--config", str(config)) == 0
    assert run("model", "rollback", "--config", str(config)) == 0
    assert run("model", "promote", "v0002", "--config", str(config)) == 0
    assert run("model", "show", "--config", str(config)) == 0
    out = capsys.readouterr().out
    assert "v0001" in out and "CURRENT -> v0002 (was v0001)" in out
    assert ModelStore(store).current_version() == "v0002"


def test_an_action_without_store_or_config_exits_2_saying_what_to_give(capsys):
    assert run("model", "list") == 2
    assert capsys.readouterr().err == (
        "error: no model store: give --store DIR, or --config C whose model.store names one\n"
    )
