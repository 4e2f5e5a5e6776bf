"""Feature types of a model published without a schema: what the model and canary rows tell.

scikit-learn records the names a model was fitted on (`feature_names_in_`), not their dtypes.
Some parts of a fitted pipeline still show them: an encoder's `categories_` keep the dtype of
the column it was fitted on, and a text vectorizer takes one string column. Canary rows, when
given, show JSON types. A feature neither tells is typed double, and the publish says so.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from stream_scorer.types import FieldType, Scalar

_TEXT_MODULE = "sklearn.feature_extraction.text"


@dataclass(frozen=True)
class FittedTypes:
    """Feature name -> type in the model's input order, and where each type came from."""

    types: dict[str, FieldType]
    from_model: list[str] = field(default_factory=list)
    """Features typed by the fitted model (an encoder's categories, a text vectorizer)."""
    from_canary: list[str] = field(default_factory=list)
    """Features typed by the JSON values of every canary row."""

    @property
    def assumed(self) -> list[str]:
        """Features nothing typed: double by assumption."""
        told = {*self.from_model, *self.from_canary}
        return [name for name in self.types if name not in told]

    def describe(self) -> str:
        """Lines saying how the features were typed, for the publish output."""
        lines = []
        for source, names in (("the model", self.from_model), ("canary rows", self.from_canary)):
            if names:
                typed = ", ".join(f"{n}:{self.types[n]}" for n in names)
                lines.append(f"typed from {source}: {typed}")
        if self.assumed:
            lines.append(
                f"typed as double: {', '.join(self.assumed)}; "
                "pass --features or --config to type them"
            )
        return "\n".join(lines)


def fitted_types(
    model: object, names: Iterable[str], canary_rows: list[dict[str, Scalar]] | None = None
) -> FittedTypes:
    """Type the features `names` of `model` by its fitted steps, then by `canary_rows`,
    else as double."""
    names = [str(n) for n in names]
    by_model = {n: t for n, t in input_column_types(model).items() if n in names}
    by_canary = {n: t for n, t in _json_types(canary_rows or []).items() if n not in by_model}
    told = {**by_canary, **by_model}
    types: dict[str, FieldType] = {n: told.get(n, "double") for n in names}
    return FittedTypes(
        types,
        from_model=[n for n in names if n in by_model],
        from_canary=[n for n in names if n in by_canary],
    )


def input_column_types(model: object) -> dict[str, FieldType]:
    """Types of the input columns the first step of `model` shows (see the module doc)."""
    steps = getattr(model, "steps", None)
    if steps:  # a pipeline: its first step sees the raw columns
        return input_column_types(steps[0][1])
    types: dict[str, FieldType] = {}
    for _, transformer, columns in getattr(model, "transformers_", ()):
        first = transformer.steps[0][1] if getattr(transformer, "steps", None) else transformer
        if isinstance(columns, str) and type(first).__module__ == _TEXT_MODULE:
            types[columns] = "string"
            continue
        categories = getattr(first, "categories_", None)
        if categories is None or isinstance(columns, str):
            continue
        for name, values in zip(columns, categories, strict=False):
            kind = _type_of(np.asarray(values))
            if isinstance(name, str) and kind is not None:
                types[name] = kind
    return types


def _type_of(values: np.ndarray) -> FieldType | None:
    if values.dtype == np.bool_:
        return "boolean"
    if np.issubdtype(values.dtype, np.integer):
        return "long"
    if np.issubdtype(values.dtype, np.floating):
        return "double"
    if values.size and all(isinstance(v, str) for v in values.tolist()):
        return "string"
    return None


def _json_types(rows: list[dict[str, Scalar]]) -> Mapping[str, FieldType]:
    """Features whose JSON values are of one non-double type in every row."""
    kinds: dict[str, set[type]] = {}
    for row in rows:
        for name, value in row.items():
            kinds.setdefault(name, set()).add(type(value))
    named: dict[type, FieldType] = {int: "long", bool: "boolean", str: "string"}
    return {
        name: named[found]
        for name, seen in kinds.items()
        if len(seen) == 1
        and (found := next(iter(seen))) in named
        and all(name in row for row in rows)
    }
