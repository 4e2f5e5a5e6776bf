"""The base every settings model shares: frozen, unknown keys refused, fields documented."""

from pydantic import BaseModel, ConfigDict


class Settings(BaseModel):
    """A frozen settings model: unknown keys are refused; field docstrings are its docs."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, use_attribute_docstrings=True
    )
