"""TensorDecoder: raw little-endian float32 values of a declared shape, a reason per bad one."""

import numpy as np

from stream_scorer.features.tensor import TensorDecoder


def test_values_become_one_float32_batch_of_the_declared_shape():
    tensors = np.arange(48, dtype="<f4").reshape(2, 3, 8)

    decoded = TensorDecoder([3, 8]).decode([t.tobytes() for t in tensors])

    assert decoded.errors == [None, None]
    assert decoded.features.dtype == np.float32
    np.testing.assert_array_equal(decoded.features, tensors)


def test_value_of_the_wrong_length_gets_a_reason():
    good = np.ones((3, 8), dtype="<f4").tobytes()

    decoded = TensorDecoder([3, 8]).decode([good[:-1], good])

    assert decoded.errors == [
        "tensor value has 95 bytes, expected 96 (float32 of shape [3, 8])",
        None,
    ]
    np.testing.assert_array_equal(decoded.features[0], np.zeros((3, 8)))
    np.testing.assert_array_equal(decoded.features[1], np.ones((3, 8)))


def test_non_finite_tensor_gets_a_reason():
    value = np.array([1.0, np.nan, 2.0, np.inf], dtype="<f4").tobytes()

    decoded = TensorDecoder([4]).decode([value])

    assert decoded.errors == ["tensor holds NaN or infinite values"]
    np.testing.assert_array_equal(decoded.features, np.zeros((1, 4)))


def test_tombstone_gets_a_reason():
    assert TensorDecoder([2]).decode([None]).errors == ["value is null (tombstone)"]
