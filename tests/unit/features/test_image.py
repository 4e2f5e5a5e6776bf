"""ImageDecoder: PNG/JPEG values to one float32 batch, a reason for every bad value."""

import io

import numpy as np
import orjson
from PIL import Image

from stream_scorer.contract.onnx_spec import ImagePreprocessing
from stream_scorer.features.image import CHUNK_ROWS, ImageDecoder
from tests.onnx_helpers import SIZE, b64, images, png_declaring, reference_input, truncated

LIMIT = 16_777_216


def decoder(**kwargs) -> ImageDecoder:
    return ImageDecoder(ImagePreprocessing(), SIZE, LIMIT, **kwargs)


def test_png_and_jpeg_values_decode_to_the_reference_input():
    values = images(3) + images(3, seed=1, fmt="JPEG")

    decoded = decoder().decode(values)

    assert decoded.errors == [None] * 6
    expected = np.concatenate([reference_input(v) for v in values])
    np.testing.assert_array_equal(decoded.features, expected)


def test_grayscale_nhwc_applies_scale_mean_and_std():
    value = images(1)[0]
    prep = ImagePreprocessing(color="grayscale", scale=1.0, mean=[128.0], std=[64.0], layout="nhwc")

    decoded = ImageDecoder(prep, (32, 40), LIMIT).decode([value])

    gray = Image.open(io.BytesIO(value)).convert("L").resize((40, 32), Image.Resampling.BILINEAR)
    expected = (np.asarray(gray, dtype=np.float32) - 128) / 64
    assert decoded.features.shape == (1, 32, 40, 1)
    np.testing.assert_array_equal(decoded.features[0, :, :, 0], expected)


def test_bytes_that_are_not_an_image_get_a_reason():
    assert decoder().decode([b"not an image"]).errors == ["not a PNG or JPEG image"]


def test_truncated_image_gets_a_reason():
    errors = decoder().decode([truncated(images(1)[0])]).errors

    assert errors == ["PNG image cannot be decoded: image file is truncated"]


def test_image_cut_short_inside_its_header_says_it_is_truncated():
    value = images(1)[0][:20]  # the PNG signature and part of IHDR

    assert decoder().decode([value]).errors == [
        "PNG image is truncated (20 bytes), cut inside its header"
    ]


def test_a_strip_within_the_pixel_limit_is_refused_from_its_header():
    strip = png_declaring(1, 16_777_216)  # 16M pixels, at the pixel limit

    assert decoder().decode([strip]).errors == [
        "image declares 1x16777216 pixels, a side over the limit of 65535 "
        "(features.max_image_side); not decoded"
    ]


def test_decompression_bomb_is_refused_from_its_header():
    errors = decoder().decode([png_declaring(5000, 5000)]).errors

    assert errors == [
        "image declares 5000x5000 = 25000000 pixels, over the limit of 16777216 "
        "(features.max_image_pixels); not decoded"
    ]


def test_bad_rows_leave_the_good_ones_decoded_and_zeros_in_their_place():
    good = images(2)

    decoded = decoder().decode([good[0], b"junk", good[1]])

    assert decoded.errors == [None, "not a PNG or JPEG image", None]
    np.testing.assert_array_equal(decoded.features[0], reference_input(good[0])[0])
    np.testing.assert_array_equal(decoded.features[1], np.zeros((3, *SIZE), dtype=np.float32))
    np.testing.assert_array_equal(decoded.features[2], reference_input(good[1])[0])


def test_tombstone_and_empty_values_get_reasons():
    errors = decoder().decode([None, b""]).errors

    assert errors == ["value is null (tombstone)", "value is empty"]


def test_json_value_holds_the_base64_image_and_the_passthrough_fields():
    image = images(1)[0]
    values = [
        orjson.dumps({"id": 7, "img": b64(image)}),
        orjson.dumps({"id": 8, "img": "%%%"}),
        orjson.dumps({"id": 9}),
    ]

    decoded = decoder(image_field="img", passthrough={"id": "long"}).decode(values)

    assert decoded.errors == [None, "field 'img' is not valid base64", "missing field 'img'"]
    assert decoded.passthrough["id"].tolist()[:2] == [7, 8]
    assert decoded.passthrough["id"].isna().tolist() == [False, False, True]
    np.testing.assert_array_equal(decoded.features[0], reference_input(image)[0])


def test_batches_past_one_chunk_decode_the_same_in_threads_with_bad_rows_in_place():
    good = images(CHUNK_ROWS + 5, seed=2) + images(3, seed=3, fmt="JPEG")
    values = [*good[:7], b"junk", *good[7:], truncated(good[0])]

    one, two = decoder().decode(values), decoder(threads=2).decode(values)

    bad = [7, len(values) - 1]
    assert [i for i, e in enumerate(one.errors) if e] == bad
    assert two.errors == one.errors
    np.testing.assert_array_equal(two.features, one.features)
    expected = np.concatenate([reference_input(v) for v in good])
    np.testing.assert_array_equal(np.delete(one.features, bad, axis=0), expected)
    np.testing.assert_array_equal(one.features[bad], np.zeros((2, 3, *SIZE), dtype=np.float32))


def test_per_channel_mean_and_std_apply_in_nchw():
    value = images(1)[0]
    prep = ImagePreprocessing(mean=[0.5, 0.4, 0.3], std=[0.2, 0.25, 0.5])

    decoded = ImageDecoder(prep, SIZE, LIMIT).decode([value])

    mean = np.asarray(prep.mean, dtype=np.float32)[:, None, None]
    std = np.asarray(prep.std, dtype=np.float32)[:, None, None]
    np.testing.assert_array_equal(decoded.features, (reference_input(value) - mean) / std)
