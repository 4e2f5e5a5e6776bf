"""The base every settings model shares: frozen, unknown keys refused, fields documented."""

from pydantic import BaseModel, ConfigDict


class Settings(BaseModel):
    """A frozen settings model: unknown keys are refused; field docstrings are its docs."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, use_attribute_docstrings=True
    )


def stringify(options: object) -> object:
    """YAML gives ints and bools; Spark's options are strings ('true', '100000')."""
    if not isinstance(options, dict):
        return options
    return {k: _scalar_text(v) for k, v in options.items()}


def _scalar_text(value: object) -> object:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int | float) else value
