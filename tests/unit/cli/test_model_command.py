"""`stream-scorer model publish | list | promote | rollback`, through the sub-command parser."""

import argparse
import json

import pytest

from stream_scorer.cli.commands import model
from stream_scorer.models.store import ModelStore

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


def test_publish_no_promote_leaves_current_and_says_so(
    tmp_path, store, published, model_file, capsys
):
    published(seed=0)
    capsys.readouterr()

    code = run("model", "publish", str(model_file("binary", seed=1)), "--store", str(store.root),
               "--features", "f0:double,f1:double,f2:double,f3:double", "--no-promote")  # fmt: skip

    assert code == 0
    assert capsys.readouterr().out.endswith(
        "CURRENT stays v0001; promote with `stream-scorer model promote`\n"
    )
    assert (store.current_version(), store.versions()) == ("v0001", ["v0001", "v0002"])


def test_promote_points_current_at_the_newest_version(store, published, capsys):
    published(seed=0)
    published(seed=1)
    store.set_current("v0001")

    assert run("model", "promote", "--store", str(store.root)) == 0

    assert capsys.readouterr().out == "CURRENT -> v0002 (was v0001)\n"
    assert store.current_version() == "v0002"


def test_promote_an_empty_store_exits_2(store, capsys):
    assert run("model", "promote", "--store", str(store.root)) == 2
    assert "no version to promote; publish one first" in capsys.readouterr().err
