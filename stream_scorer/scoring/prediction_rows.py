"""`stage.predictions` in Arrow, for the tasks that write their scored rows themselves.

`PredictionRows` turns a batch of the one-pass scoring (`SOURCE_COLUMNS`, then the `SCORED`
struct of `udf.BatchScoring`) into the prediction rows Spark would derive from it with
`stage.scored_columns` and `stage.predictions`: the scored rows only, in the columns of the
Spark schema it is given, with the derived fields (`output`) computed as the JVM does.
"""

import dataclasses

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stream_scorer.scoring.output import SCORED_AT_MICROS, probability_fields
from stream_scorer.scoring.stage import SCORED
from stream_scorer.serving.model import ServingModel


@dataclasses.dataclass(frozen=True)
class PredictionRows:
    """The prediction rows of one scored batch, for a fixed model version and schema."""

    schema: pa.Schema
    """Arrow schema of the rows (`stage.predictions`'s columns)."""
    version: str
    probabilities: tuple[str, ...]
    """The struct's P(class i) fields, in class order; empty for regressors."""
    binary: bool

    @classmethod
    def of(cls, serving: ServingModel, schema: pa.Schema) -> "PredictionRows":
        """The rows `serving` gives, in `schema`."""
        manifest = serving.manifest
        fields = tuple(probability_fields(manifest))
        return cls(schema, serving.version, fields, manifest.task == "binary")

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The rows of `batch` without an error, in `schema`."""
        scored = batch.column(SCORED)
        good = batch.filter(scored.field("error").is_null())
        struct = good.column(SCORED)
        columns = [self._column(good, struct, field) for field in self.schema]
        return pa.RecordBatch.from_arrays(columns, schema=self.schema)

    def _column(self, batch: pa.RecordBatch, struct: pa.StructArray, field: pa.Field) -> pa.Array:
        name, rows = field.name, batch.num_rows
        if name in batch.schema.names:  # the coordinates, and the key
            column = batch.column(name)
            if pa.types.is_string(field.type) and pa.types.is_binary(column.type):
                return column.view(pa.string())  # Spark's cast: the bytes, not checked
            return column.cast(field.type)
        if name == "model_version":
            return pa.array(np.full(rows, self.version, dtype=object), field.type)
        if name == "scored_at":
            return struct.field(SCORED_AT_MICROS).cast(field.type)
        if name == "probability":
            p = [struct.field(f) for f in self.probabilities]
            return p[1] if self.binary else pc.max_element_wise(*p)
        if name == "probabilities":
            return self._probabilities(struct, field.type)
        return struct.field(name).cast(field.type)

    def _probabilities(self, struct: pa.StructArray, kind: pa.DataType) -> pa.Array:
        """The class probabilities as one list per row (null where the first is null)."""
        p = [struct.field(f) for f in self.probabilities]
        values = np.stack([c.to_numpy(zero_copy_only=False) for c in p], axis=1).ravel()
        offsets = pa.array(np.arange(0, len(values) + 1, len(p), dtype=np.int32))
        lists = pa.ListArray.from_arrays(offsets, pa.array(values), mask=p[0].is_null())
        return lists.cast(kind)
