"""Which kind a model file is, and the reasons publish gives when a booster does not fit."""

import io
import sys

import joblib
import pytest

from stream_scorer.cli.commands.model_kind import kind_of
from stream_scorer.config.model_settings import TreesModelConfig
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.errors import ConfigError, ModelRejectedError
from stream_scorer.flavors.sklearn.formats import load_model_bytes
from stream_scorer.flavors.xgboost.booster import load_booster
from stream_scorer.versions.publish import publish_trees
from stream_scorer.versions.store import ModelStore
from tests.trees_helpers import FEATURES, train


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """(estimator, native file) of each library's binary classifier."""
    folder = tmp_path_factory.mktemp("trees")
    return {lib: train(lib, "binary", folder) for lib in ("xgboost", "lightgbm", "catboost")}


def _publish(tmp_path, path, kind, schema=FEATURES, nullable=(), classes=None):
    features = FeaturesConfig(schema=schema, nullable=list(nullable))
    options = TreesModelConfig(classes=classes)
    return publish_trees(ModelStore(tmp_path / "models"), path, kind, features, options)


def test_kind_is_told_by_suffix_or_first_bytes(tmp_path, models):
    xgb_json = tmp_path / "model.json"
    xgb_json.write_bytes(b' {\n  "learner": {"attributes": {}}}')
    renamed = tmp_path / "booster.model"
    renamed.write_bytes(models["lightgbm"][1].read_bytes())
    cbm = tmp_path / "model.bin"
    cbm.write_bytes(models["catboost"][1].read_bytes())

    assert kind_of(models["xgboost"][1]) == "xgboost"  # .ubj
    assert kind_of(xgb_json) == "xgboost"
    assert kind_of(renamed) == "lightgbm"
    assert kind_of(cbm) == "catboost"
    assert kind_of(tmp_path / "model.skops") == "sklearn"
    assert kind_of(tmp_path / "model.onnx") == "onnx"


def test_an_unknown_file_asks_for_kind_by_name(tmp_path):
    other = tmp_path / "model.json"
    other.write_bytes(b'{"weights": [1, 2]}')

    with pytest.raises(ConfigError) as raised:
        kind_of(other)

    assert str(raised.value) == (
        f"{other}: cannot tell which kind of model this is from its name or first bytes; "
        "give --kind, one of sklearn, onnx, xgboost, lightgbm, catboost"
    )


@pytest.mark.parametrize("library", ["xgboost", "lightgbm", "catboost"])
def test_features_other_than_the_booster_s_are_refused_with_both_lists(library, tmp_path, models):
    path = models[library][1]
    schema = {"b": "double", "a": "double", "c": "string"}

    with pytest.raises(ModelRejectedError) as raised:
        _publish(tmp_path, path, library, schema)

    assert str(raised.value) == (
        f"{path} refused: the booster was trained on features ['a', 'b', 'c'] but the config "
        "declares ['b', 'a', 'c']; names and order must match"
    )


def test_a_categorical_feature_typed_as_a_number_is_refused(tmp_path, models):
    path = models["lightgbm"][1]

    with pytest.raises(ModelRejectedError) as raised:
        _publish(tmp_path, path, "lightgbm", {**FEATURES, "c": "double"})

    assert str(raised.value) == (
        f"{path} refused: feature types do not fit: 'c' is categorical in the booster and "
        "typed double in the config (declare it string)"
    )


def test_classes_must_fit_the_booster(tmp_path, models):
    xgb, cat = models["xgboost"][1], models["catboost"][1]

    with pytest.raises(ModelRejectedError, match=r"classes \['a', 'b', 'c'\]: the booster has 2"):
        _publish(tmp_path, xgb, "xgboost", classes=["a", "b", "c"])
    with pytest.raises(ModelRejectedError, match=r"booster records classes \[0, 1\]"):
        _publish(tmp_path, cat, "catboost", classes=["no", "yes"])

    assert _publish(tmp_path, xgb, "xgboost", classes=["no", "yes"]).classes == ["no", "yes"]


def test_catboost_categorical_feature_cannot_be_nullable(tmp_path, models):
    with pytest.raises(ModelRejectedError, match=r"categorical features \['c'\] are in features"):
        _publish(tmp_path, models["catboost"][1], "catboost", nullable=["a", "c"])


@pytest.mark.parametrize(
    ("library", "reason"),
    [
        ("xgboost", "xgboost cannot load the model: "),
        ("lightgbm", "tree 5 is not where the header's tree_sizes put it: the file is truncated"),
        ("catboost", "catboost cannot load the model: "),
    ],
)
def test_a_truncated_file_is_refused_with_the_reason(library, reason, tmp_path, models):
    path = models[library][1]
    cut = tmp_path / f"cut{path.suffix}"
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])

    with pytest.raises(ModelRejectedError) as raised:
        _publish(tmp_path, cut, library)

    assert str(raised.value).startswith(f"{cut} refused: {reason}")
    assert "\n" not in str(raised.value)  # the library's first line, not its stack trace


def test_a_missing_library_names_its_extra(monkeypatch, models):
    monkeypatch.setitem(sys.modules, "xgboost", None)  # import xgboost raises ImportError

    with pytest.raises(ModelRejectedError) as raised:
        load_booster(models["xgboost"][1].read_bytes(), 1)

    assert str(raised.value) == (
        "model kind xgboost needs the xgboost library: pip install 'stream-scorer[xgboost]'"
    )


@pytest.mark.parametrize(
    ("library", "how"),
    [
        ("xgboost", "model.get_booster().save_model('model.ubj')"),
        ("lightgbm", "model.booster_.save_model('model.txt')"),
        ("catboost", "model.save_model('model.cbm')"),
    ],
)
def test_a_pickled_sklearn_wrapper_is_refused_saying_how_to_save_it_natively(library, how, models):
    buffer = io.BytesIO()
    joblib.dump(models[library][0], buffer)

    with pytest.raises(ModelRejectedError) as raised:
        load_model_bytes(buffer.getvalue(), "joblib")

    assert "which is not an allowed global; if you trust its code" in str(raised.value)
    assert "better, save the" in str(raised.value)
    assert f"({how}), and publish that file (--kind {library})" in str(raised.value)


@pytest.mark.parametrize(
    ("library", "classes", "labels"),
    [
        ("xgboost", ["--kind", "xgboost", "--classes", "no,yes"], "string, classes ['no', 'yes']"),
        ("lightgbm", ["--classes", "no,yes"], "string, classes ['no', 'yes']"),
        ("catboost", [], "long, classes [0, 1]"),  # recorded in the file
    ],
)
def test_model_publish_infers_the_kind_and_prints_what_the_booster_records(
    library, classes, labels, tmp_path, models, capsys
):
    from tests.unit.cli.test_model_command import run

    renamed = tmp_path / "model"  # no suffix: the kind comes from the first bytes or --kind
    renamed.write_bytes(models[library][1].read_bytes())

    code = run("model", "publish", str(renamed), "--store", str(tmp_path / "s"),
               "--features", "a:double,b:double,c:string", *classes)  # fmt: skip

    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("published v0001: binary ")
    assert f"  predicts: {labels}\n" in out
    assert f"{library} " in out.split("libraries: ")[1]
