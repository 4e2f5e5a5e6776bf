"""The restricted unpickler refuses every global outside the allowlist before building anything."""

import builtins
import io
import os
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest
from scipy.sparse import csr_matrix

from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.sklearn.formats import load_model_bytes, load_model_file
from stream_scorer.testing.models import ThresholdRaisingClassifier
from tests.hostile_pickle import Calls

RAISING_TYPE = "stream_scorer.testing.models.ThresholdRaisingClassifier"


def dumped(obj: object, fmt: str) -> bytes:
    """`obj` as the bytes of a pickle or joblib artefact."""
    if fmt == "pickle":
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    return buffer.getvalue()


def naming(module: str, name: str) -> bytes:
    """A protocol-0 pickle that only looks up the global `module.name`."""
    return f"c{module}\n{name}\n.".encode()


@pytest.mark.parametrize("fmt", ["pickle", "joblib"])
def test_pickle_calling_os_system_is_refused_before_it_runs(tmp_path, fmt):
    marker = tmp_path / "pwned"
    hostile = dumped(Calls(os.system, f"touch {marker}"), fmt)

    with pytest.raises(ModelRejectedError, match=r"refers to posix\.system, which is not"):
        load_model_bytes(hostile, fmt)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("function", "name"),
    [
        (builtins.eval, "builtins.eval"),
        (builtins.getattr, "builtins.getattr"),
        (subprocess.Popen, "subprocess.Popen"),
        (np.load, "numpy.load"),
        (joblib.load, "joblib.numpy_pickle.load"),
        (pickle.loads, "_pickle.loads"),
    ],
)
def test_refusal_names_the_global(function, name):
    with pytest.raises(ModelRejectedError, match=f"refers to {name}, which is not an allowed"):
        load_model_bytes(dumped(Calls(function, "x"), "pickle"), "pickle")


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("sklearn.base", "np.load"),  # a dotted name reaching numpy through sklearn's import
        ("sklearn.base", "clone"),  # a scikit-learn function
        ("sklearn.utils.parallel", "Parallel"),  # runs the tasks it is handed
        ("sklearn.metrics._scorer", "_Scorer"),  # calls a method named by a pickled string
        ("sklearn.utils._testing", "TempMemmap"),
        ("sklearn.datasets", "dump_svmlight_file"),
        ("numpy", "vectorize"),
        ("numpy.testing", "assert_equal"),
        ("functools", "partial"),
        ("operator", "attrgetter"),
        ("builtins", "__import__"),
    ],
)
def test_globals_outside_the_rule_are_refused(module, name):
    with pytest.raises(ModelRejectedError, match=f"refers to {module}.{name}, which is not"):
        load_model_bytes(naming(module, name), "pickle")


def test_module_of_a_refused_global_is_never_imported():
    assert "this" not in sys.modules  # importing `this` prints the Zen of Python

    with pytest.raises(ModelRejectedError, match=r"refers to this\.s,"):
        load_model_bytes(naming("this", "s"), "pickle")
    assert "this" not in sys.modules


def test_hostile_object_hidden_in_a_joblib_object_array_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    array = np.array([Calls(os.system, f"touch {marker}"), 1], dtype=object)

    with pytest.raises(ModelRejectedError, match=r"refers to posix\.system,"):
        load_model_bytes(dumped(array, "joblib"), "joblib")
    assert not marker.exists()


def test_setting_attributes_on_a_class_is_refused():
    # GLOBAL csr_matrix, then BUILD with the slot state {'tocsc': 'x'}: plain pickle patches it
    patch = b"cscipy.sparse._csr\ncsr_matrix\n(N}Vtocsc\nVx\nstb."

    with pytest.raises(ModelRejectedError, match=r"sets attributes on the class scipy\.sparse"):
        load_model_bytes(patch, "pickle")
    assert callable(csr_matrix.tocsc)


@pytest.fixture(scope="module")
def custom_model() -> ThresholdRaisingClassifier:
    x = np.random.default_rng(0).normal(size=(40, 4))
    return ThresholdRaisingClassifier(5.0).fit(x, x[:, 0] > 0)


@pytest.mark.parametrize("fmt", ["pickle", "joblib"])
def test_custom_class_is_refused_unless_trusted(custom_model, fmt):
    with pytest.raises(ModelRejectedError, match=f"add '{RAISING_TYPE}' to model.trusted_types"):
        load_model_bytes(dumped(custom_model, fmt), fmt)


@pytest.mark.parametrize("fmt", ["pickle", "joblib"])
def test_custom_class_loads_when_trusted(custom_model, fmt):
    loaded = load_model_bytes(dumped(custom_model, fmt), fmt, trusted_types=[RAISING_TYPE])

    assert type(loaded) is ThresholdRaisingClassifier
    assert loaded.threshold == 5.0


@pytest.mark.parametrize("fmt", ["pickle", "joblib"])
def test_unsafe_load_admits_any_global_and_warns(tmp_path, fmt, caplog):
    marker = tmp_path / "vouched"

    load_model_bytes(dumped(Calls(open, str(marker), "w"), fmt), fmt, unsafe=True)

    assert marker.exists()
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "with no allowlist: any code it holds runs" in caplog.records[0].getMessage()


@pytest.mark.filterwarnings("ignore:mmap_mode .r. is not compatible with compressed file")
@pytest.mark.parametrize("compress", [0, 3])
def test_hostile_joblib_file_is_refused_on_the_mapped_path_before_it_runs(tmp_path, compress):
    marker, path = tmp_path / "pwned", tmp_path / "hostile.joblib"
    joblib.dump(Calls(os.system, f"touch {marker}"), path, compress=compress)

    with pytest.raises(ModelRejectedError, match=r"refers to posix\.system, which is not"):
        load_model_file(path, "joblib")
    assert not marker.exists()


def test_hostile_object_in_an_object_array_of_a_mapped_file_is_refused(tmp_path):
    marker, path = tmp_path / "pwned", tmp_path / "hostile.joblib"
    joblib.dump([np.arange(1000.0), np.array([Calls(os.system, f"touch {marker}")])], path)

    with pytest.raises(ModelRejectedError, match=r"refers to posix\.system,"):
        load_model_file(path, "joblib")
    assert not marker.exists()


def test_custom_class_in_a_mapped_file_is_refused_unless_trusted(custom_model, tmp_path):
    path = tmp_path / "custom.joblib"
    joblib.dump(custom_model, path)

    with pytest.raises(ModelRejectedError, match=f"add '{RAISING_TYPE}' to model.trusted_types"):
        load_model_file(path, "joblib")
    loaded = load_model_file(path, "joblib", trusted_types=[RAISING_TYPE])

    assert type(loaded) is ThresholdRaisingClassifier
    assert isinstance(loaded.model_.coef_, np.memmap)


def test_mapped_file_with_unsafe_load_admits_any_global_and_warns(tmp_path, caplog):
    marker, path = tmp_path / "vouched", tmp_path / "vouched.joblib"
    joblib.dump(Calls(open, str(marker), "w"), path)

    load_model_file(path, "joblib", unsafe=True)

    assert marker.exists()
    assert [r.levelname for r in caplog.records] == ["WARNING"]


# GLOBAL LinearClassifierMixin, then BUILD with the slot state {'decision_function': negative}
CLASS_PATCH = (
    b"\x80\x02csklearn.linear_model._base\nLinearClassifierMixin\n"
    b"N}X\x11\x00\x00\x00decision_functioncnumpy\nnegative\ns\x86b."
)


def _joblib_with_nested_stream(nested: bytes) -> bytes:
    """A joblib artefact of one object array whose nested pickle stream is `nested`."""
    placeholder = np.array(["placeholder"], dtype=object)
    artefact = dumped(placeholder, "joblib")
    inner = pickle.dumps(placeholder, protocol=5)  # as joblib writes object arrays
    assert artefact.count(inner) == 1
    return artefact.replace(inner, nested)


@pytest.mark.parametrize("mapped", [False, True])
def test_class_patch_in_a_joblib_nested_stream_is_refused(tmp_path, mapped):
    from sklearn.linear_model._base import LinearClassifierMixin

    original = LinearClassifierMixin.decision_function
    artefact = _joblib_with_nested_stream(CLASS_PATCH)
    path = tmp_path / "patch.joblib"
    path.write_bytes(artefact)

    with pytest.raises(ModelRejectedError, match=r"sets attributes on the class sklearn\."):
        load_model_file(path, "joblib") if mapped else load_model_bytes(artefact, "joblib")
    assert LinearClassifierMixin.decision_function is original


@pytest.mark.parametrize("fmt", ["pickle", "joblib"])
def test_state_set_on_an_allowed_function_is_refused(fmt):
    # GLOBAL numpy.negative (a ufunc: one object for the whole process), then BUILD on it
    patch = b"\x80\x02cnumpy\nnegative\nN}X\x07\x00\x00\x00__doc__X\x01\x00\x00\x00xs\x86b."
    data = _joblib_with_nested_stream(patch) if fmt == "joblib" else patch

    with pytest.raises(ModelRejectedError, match=r"sets attributes on the global numpy\.negative"):
        load_model_bytes(data, fmt)


def test_slot_state_naming_no_slot_of_the_instance_is_refused():
    # an instance of an allowed class given attributes through the slot state (setattr):
    # only what the class declares in __slots__ may be set that way
    patch = (
        b"\x80\x02ccollections\nOrderedDict\n)\x81N}X\x04\x00\x00\x00fit_X\x01\x00\x00\x00xs\x86b."
    )
    with pytest.raises(ModelRejectedError, match=r"slot state names 'fit_', not a slot of"):
        load_model_bytes(patch, "pickle")


@pytest.mark.parametrize("mapped", [False, True])
def test_object_arrays_of_a_fitted_model_load_through_the_guarded_stream(tmp_path, mapped):
    from sklearn.linear_model import LogisticRegression

    x = np.random.default_rng(0).normal(size=(60, 3))
    labels = np.where(x[:, 0] > 0, "spam", "ham").astype(object)  # classes_: an object array
    model = LogisticRegression().fit(x, labels)
    path = tmp_path / "labels.joblib"
    joblib.dump(model, path)

    loaded = (
        load_model_file(path, "joblib") if mapped else load_model_bytes(path.read_bytes(), "joblib")
    )
    assert loaded.classes_.dtype == object
    assert loaded.predict(x).tolist() == model.predict(x).tolist()
