"""Binary Arrow columns built from joined buffers equal pyarrow's item-by-item conversion."""

import pyarrow as pa
import pytest

from stream_scorer.sources.readers.arrow import binary_column


@pytest.mark.parametrize(
    "items",
    [[b'{"a": 1}', b"", b"xyz"], [b"k", None, b"", None], [None, None], []],
    ids=["no-nulls", "some-nulls", "all-null", "empty"],
)
def test_binary_column_equals_pyarrow_conversion(items):
    column = binary_column(items)
    column.validate(full=True)
    assert column.equals(pa.array(items, pa.binary()))
